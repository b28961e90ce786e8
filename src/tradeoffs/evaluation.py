"""Classification metrics from predicted probabilities, the same for every framework."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradeoffs.classmap import is_identity, remap_labels


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
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def classification_metrics(
    pred: Predictions, class_names: list[str]
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Summary metrics, the confusion matrix and the per-class report of one evaluation."""
    # Imported here: scikit-learn costs seconds, and train and benchmark jobs import this
    # module only for `Predictions`.
    from sklearn.metrics import classification_report, confusion_matrix, top_k_accuracy_score

    labels = np.arange(len(class_names))
    predicted = pred.probs.argmax(axis=1)
    k = min(5, len(class_names) - 1)
    summary = {
        "acc": float((predicted == pred.labels).mean()),
        "top5": float(top_k_accuracy_score(pred.labels, pred.probs, k=k, labels=labels))
        if len(class_names) > 2
        else float((predicted == pred.labels).mean()),
        "loss": float(pred.loss),
        "ece": expected_calibration_error(pred.probs, pred.labels),
        "mean_confidence": float(pred.probs.max(axis=1).mean()),
        "n": int(pred.labels.size),
        "classes": list(class_names),
    }
    confusion = pd.DataFrame(
        confusion_matrix(pred.labels, predicted, labels=labels),
        index=pd.Index(class_names, name="true"),
        columns=class_names,
    )
    report = classification_report(
        pred.labels,
        predicted,
        labels=labels,
        target_names=class_names,
        output_dict=True,
        zero_division=0,
    )
    per_class = pd.DataFrame([{"class": name, **report[name]} for name in class_names]).rename(
        columns={"f1-score": "f1"}
    )
    return summary, confusion, per_class
