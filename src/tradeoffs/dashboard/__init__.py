"""The Streamlit dashboard over a results directory: try trained runs on your own images, compare
them, and pick one to deploy (`make dashboard`). Only the dashboard imports Streamlit; the
library modules here (uploads, catalog, predict) are plain Python, tested without it."""
