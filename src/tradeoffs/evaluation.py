"""Classification metrics from predicted probabilities, the same for every framework."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeoffs.classmap import is_identity, remap_labels
from tradeoffs.intervals import bootstrap_examples, wilson


@dataclass(frozen=True)
class Predictions:
    """A model's output on a test set."""

    probs: np.ndarray  # (N, classes) softmax probabilities
    labels: np.ndarray  # (N,) true class indices
    loss: float  # mean cross-entropy the model's own loss gives


def relabel(pred: Predictions, indices: list[int]) -> Predictions:
    """Predictions on another dataset with its labels as training class indices
    (`classmap.class_indices`); the loss is recomputed from the probabilities for new labels."""
    if is_identity(indices):
        return pred
    labels = remap_labels(pred.labels, indices)
    picked = pred.probs[np.arange(len(labels)), labels]
    loss = float(-np.log(np.maximum(picked, np.finfo(np.float64).tiny)).mean())
    return Predictions(pred.probs, labels, loss)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE with equal-width confidence bins (Guo et al., 2017)."""
    return calibration_error(probs.max(axis=1), probs.argmax(axis=1) == labels, bins)


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """ECE of top-1 confidences and correctness: the sum over equal-width bins of the bin's share
    of examples times |accuracy - mean confidence| in it, i.e. sum |correct - confidence| per bin
    over all examples."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = np.bincount(index, weights=correct.astype(np.float64), minlength=bins)
    gap -= np.bincount(index, weights=confidence.astype(np.float64), minlength=bins)
    return float(np.abs(gap).sum() / max(len(confidence), 1))


def summary_intervals(
    confidence: np.ndarray, correct: np.ndarray, top5_correct: int | None = None
) -> dict[str, list[float] | None]:
    """`acc_ci` and `top5_ci` (Wilson) and `ece_ci` (bootstrap over examples) of one evaluated
    set (`tradeoffs.intervals`)."""
    n = len(correct)
    out = {
        "acc_ci": wilson(int(correct.sum()), n),
        "ece_ci": bootstrap_examples(lambda i: calibration_error(confidence[i], correct[i]), n),
    }
    if top5_correct is not None:
        out["top5_ci"] = wilson(top5_correct, n)
    return out


def classification_metrics(
    pred: Predictions, class_names: list[str]
) -> tuple[dict, np.ndarray, list[dict[str, Any]]]:
    """Summary metrics, the confusion matrix (rows true, columns predicted, in `class_names`
    order) and the per-class report (one row of `records.eval.REPORT_COLUMNS` a class) of one
    evaluation. Plain arrays and rows, not DataFrames: `records.eval` writes them with csv, so
    the skip job, which writes empty tables, loads no pandas."""
    # Imported here: scikit-learn costs seconds, and the benchmark and serving jobs import
    # this module only for `Predictions`.
    from sklearn.metrics import classification_report, confusion_matrix, top_k_accuracy_score

    labels = np.arange(len(class_names))
    predicted = pred.probs.argmax(axis=1)
    k = min(5, len(class_names) - 1)
    correct = predicted == pred.labels
    top5_count = (
        int(top_k_accuracy_score(pred.labels, pred.probs, k=k, labels=labels, normalize=False))
        if len(class_names) > 2
        else int(correct.sum())
    )
    confidence = pred.probs.max(axis=1)
    n = int(pred.labels.size)
    summary = {
        "acc": float(correct.mean()),
        "top5": top5_count / n,
        "loss": float(pred.loss),
        "ece": calibration_error(confidence, correct),
        "mean_confidence": float(confidence.mean()),
        "n": n,
        "classes": list(class_names),
        **summary_intervals(confidence, correct, top5_count),
    }
    confusion = confusion_matrix(pred.labels, predicted, labels=labels)
    report = classification_report(
        pred.labels,
        predicted,
        labels=labels,
        target_names=class_names,
        output_dict=True,
        zero_division=0,
    )
    per_class = [
        {
            "class": name,
            "precision": report[name]["precision"],
            "recall": report[name]["recall"],
            "f1": report[name]["f1-score"],
            "support": report[name]["support"],
        }
        for name in class_names
    ]
    return summary, confusion, per_class
