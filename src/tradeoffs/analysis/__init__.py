"""From run records to tables, frontiers, the energy proxy and figures.

Everything here reads only the records a run leaves (metrics.json, history.csv, eval/*.csv) and
the tables built from them, so tables and figures are redrawn without retraining anything.
"""
