"""Training: load IMDB, fit the model, evaluate it and export a new version."""
