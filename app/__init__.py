"""The HTTP service: loads the newest exported version and answers /predict with batched model calls."""
