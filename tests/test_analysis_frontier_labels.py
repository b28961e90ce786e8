"""Frontier labels: moved apart so no label covers another label or a point."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from tradeoffs.analysis.figures.frontier import frontier


def crowded_runs() -> pd.DataFrame:
    """Ten frontier points packed into a narrow band, plus dominated points among them."""
    rows = []
    for i in range(10):
        for dominated in (False, True):
            rows.append(
                {
                    "study": "precision",
                    "dataset": "digits",
                    "model": f"model{i}",
                    "precision": "fp32",
                    "backend": "torch-cpu",
                    "status": "ok",
                    "latency_ms_p50": 1.0 + 0.02 * i + (0.01 if dominated else 0.0),
                    "est_footprint_mb": 1.0,
                    "size_mem_mb": 1.0,
                    "test_acc": 0.90 + 0.005 * i - (0.01 if dominated else 0.0),
                }
            )
    return pd.DataFrame(rows)


def test_frontier_labels_overlap_neither_each_other_nor_points():
    fig = frontier(crowded_runs(), "latency")
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == 10
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    points = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    pixels = ax.transData.transform(points)
    for box in boxes:
        inside = (
            (pixels[:, 0] > box.x0)
            & (pixels[:, 0] < box.x1)
            & (pixels[:, 1] > box.y0)
            & (pixels[:, 1] < box.y1)
        )
        assert not inside.any()
