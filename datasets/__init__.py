"""Dataset recipes, generation and storage (see issue: Datasets)."""
