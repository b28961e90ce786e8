"""tradeoffs: accuracy against cost for image classifiers, as one reproducible pipeline."""
