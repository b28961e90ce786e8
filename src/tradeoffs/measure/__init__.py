"""The one measurement method every backend uses: warm-up, device synchronisation, repeated
timing, median and percentiles, peak memory and CPU utilisation."""
