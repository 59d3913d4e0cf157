"""Bulk scoring: a CSV, JSON Lines or Parquet file in, the same rows with a label each out.

python -m scoring reviews.csv scored.csv --text-column review
make score INPUT=reviews.csv OUTPUT=scored.csv TEXT_COLUMN=review
"""
