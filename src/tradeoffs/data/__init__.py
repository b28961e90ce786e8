"""Datasets: download with checksums, then one prepared on-disk form every framework reads."""
