"""Metrics: how good are the predictions? Plain NumPy arithmetic, one function each.

Every metric takes ``(pred, target)``, in that order (as PyTorch's losses and
torchmetrics do; scikit-learn puts ``y_true`` first), accepts minigrad Tensors,
NumPy arrays or lists, and returns Python floats (or NumPy arrays per class).

For classification, ``pred`` may be class labels (shape ``(N,)``) or scores
(logits or probabilities, shape ``(N, C)``): scores become labels by argmax.

    >>> accuracy([[2.0, 0.1], [0.3, 0.9], [0.8, 0.4]], [0, 1, 1])
    0.6666666666666666
    >>> confusion_matrix([0, 1, 0], [0, 1, 1]).tolist()     # rows: true class
    [[1, 0], [1, 1]]
"""

from __future__ import annotations

import numpy as np


def accuracy(pred, target) -> float:
    """The fraction of samples whose predicted class is the target class.

    >>> accuracy([1, 0, 2, 2], [1, 0, 1, 2])
    0.75
    """
    pred, target = _labels(pred), _as_numpy(target).reshape(-1)
    _check_lengths(pred, target, "accuracy")
    return float((pred == target).mean()) if len(target) else 0.0


def top_k_accuracy(scores, target, k: int = 5) -> float:
    """The fraction of samples whose target class is among the ``k`` highest scores.

    Ties count in the target's favour: it is in the top k when fewer than ``k``
    classes score strictly higher.

    >>> top_k_accuracy([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]], [2, 2], k=2)
    0.5
    """
    scores, target = _as_numpy(scores), _as_numpy(target).reshape(-1).astype(np.int64)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy needs scores of shape (N, C), got {scores.shape}")
    _check_lengths(scores, target, "top_k_accuracy")
    if len(target) == 0:
        return 0.0
    true_score = scores[np.arange(len(target)), target]
    rank = (scores > true_score[:, None]).sum(axis=1)  # how many classes beat the target
    return float((rank < k).mean())


def confusion_matrix(pred, target, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]``: samples of true class ``i`` predicted as class ``j``.

    The diagonal holds the correct predictions. ``num_classes`` defaults to one
    more than the largest label seen.

    >>> confusion_matrix([2, 0, 2, 1], [2, 0, 1, 1], num_classes=3).tolist()
    [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    pred, target = _labels(pred), _as_numpy(target).reshape(-1).astype(np.int64)
    _check_lengths(pred, target, "confusion_matrix")
    n = _num_classes(pred, target, num_classes)
    if len(target) and (min(pred.min(), target.min()) < 0 or max(pred.max(), target.max()) >= n):
        raise ValueError(f"confusion_matrix: labels must lie in [0, {n}), the num_classes given")
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (target, pred), 1)  # one count per (true, predicted) pair
    return counts


def precision_recall_f1(pred, target, average: str | None = "macro", num_classes=None):
    """Precision, recall and F1 score, averaged over classes or per class.

    For class c: precision = TP / (TP + FP) (of those predicted c, how many are c),
    recall = TP / (TP + FN) (of the true c, how many were found),
    F1 = 2 P R / (P + R). A ratio with a zero denominator counts as 0.

    ``average``: ``"macro"`` (the plain mean over the classes that occur in
    ``target`` or ``pred``; F1 is the mean of the per-class F1 scores, as in
    scikit-learn), ``"micro"`` (from the total counts; equals accuracy),
    ``"weighted"`` (mean weighted by each class's number of true samples), or
    None for three arrays with one value per class.

    >>> p, r, f = precision_recall_f1([0, 1, 1, 1], [0, 1, 0, 1])
    >>> round(p, 4), round(r, 4), round(f, 4)
    (0.8333, 0.75, 0.7333)
    >>> precision_recall_f1([0, 1, 1, 1], [0, 1, 0, 1], average=None)[0].tolist()
    [1.0, 0.6666666666666666]
    """
    counts = confusion_matrix(pred, target, num_classes)
    tp = np.diag(counts).astype(np.float64)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    if average == "micro":
        total = counts.sum()
        value = float(tp.sum() / total) if total else 0.0
        return value, value, value
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, actual)
    f1 = _ratio(2 * precision * recall, precision + recall)
    if average is None:
        return precision, recall, f1
    if average == "macro":
        present = (predicted + actual) > 0
        weights = present / max(present.sum(), 1)
    elif average == "weighted":
        weights = actual / max(actual.sum(), 1)
    else:
        raise ValueError(
            f"precision_recall_f1: average must be 'macro', 'micro', 'weighted' or None, "
            f"got {average!r}"
        )
    return tuple(float((weights * values).sum()) for values in (precision, recall, f1))


def mean_squared_error(pred, target) -> float:
    """The mean of the squared differences, over every element.

    >>> mean_squared_error([1.0, 2.0, 4.0], [1.0, 3.0, 2.0])
    1.6666666666666667
    """
    pred, target = _as_numpy(pred).astype(np.float64), _as_numpy(target).astype(np.float64)
    _check_same_shape(pred, target, "mean_squared_error")
    return float(((pred - target) ** 2).mean())


def r2_score(pred, target) -> float:
    """The coefficient of determination: 1 - SS_residual / SS_total.

    1 is a perfect fit; 0 is as good as always predicting the mean of the target;
    it is negative when worse. With several outputs (shape ``(N, K)``) it is the
    plain mean over outputs. A constant target gives 1.0 if predicted exactly,
    else 0.0 (as scikit-learn).

    >>> r2_score([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0])
    0.9486081370449679
    """
    pred, target = _as_numpy(pred).astype(np.float64), _as_numpy(target).astype(np.float64)
    _check_same_shape(pred, target, "r2_score")
    if pred.ndim == 1:
        pred, target = pred[:, None], target[:, None]
    residual = ((target - pred) ** 2).sum(axis=0)
    total = ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    safe_total = np.where(total > 0, total, 1.0)
    scores = np.where(total > 0, 1.0 - residual / safe_total, np.where(residual == 0, 1.0, 0.0))
    return float(scores.mean())


# --- metrics by name, for fit(metrics=["accuracy", ...]) ----------------------------
def _precision(pred, target):
    return precision_recall_f1(pred, target)[0]


def _recall(pred, target):
    return precision_recall_f1(pred, target)[1]


def _f1(pred, target):
    return precision_recall_f1(pred, target)[2]


METRICS = {
    "accuracy": accuracy,
    "top_5_accuracy": top_k_accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "r2": r2_score,
    "r2_score": r2_score,
}


def get_metric(name: str):
    """The metric function called ``name`` (see ``METRICS``).

    >>> get_metric("accuracy") is accuracy
    True
    """
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known names: {sorted(METRICS)}")
    return METRICS[name]


# --- helpers ------------------------------------------------------------------------
def _as_numpy(x) -> np.ndarray:
    """A NumPy array of a Tensor (on any device), a CuPy or NumPy array, or a list."""
    if hasattr(x, "numpy") and hasattr(x, "grad_fn"):  # a minigrad Tensor
        return x.detach().numpy()
    if type(x).__module__.startswith("cupy"):
        return x.get()
    return np.asarray(x)


def _labels(pred) -> np.ndarray:
    """Class labels: argmax of (N, C) scores, or the labels themselves."""
    pred = _as_numpy(pred)
    if pred.ndim == 2:
        if pred.shape[1] == 1:
            raise ValueError(
                "predictions of shape (N, 1) are ambiguous (a binary logit? a probability?): "
                "pass labels, e.g. (logits > 0).long() or (probs > 0.5).long()"
            )
        return pred.argmax(axis=1)
    if pred.ndim > 2:
        raise ValueError(f"predictions must be labels (N,) or scores (N, C), got {pred.shape}")
    return pred.reshape(-1).astype(np.int64)


def _num_classes(pred, target, num_classes) -> int:
    if num_classes is not None:
        return int(num_classes)
    if len(target) == 0:
        return 0
    return int(max(pred.max(), target.max())) + 1


def _ratio(numerator, denominator) -> np.ndarray:
    """numerator / denominator, with 0 where the denominator is 0."""
    denominator = np.asarray(denominator, dtype=np.float64)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def _check_lengths(pred, target, name) -> None:
    if len(pred) != len(target):
        raise ValueError(f"{name}: {len(pred)} predictions but {len(target)} targets")


def _check_same_shape(pred, target, name) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f"{name}: pred has shape {pred.shape} but target has shape {target.shape}; "
            "reshape one of them (e.g. pred.reshape(-1) for a single output)"
        )


__all__ = [
    "METRICS",
    "accuracy",
    "confusion_matrix",
    "get_metric",
    "mean_squared_error",
    "precision_recall_f1",
    "r2_score",
    "top_k_accuracy",
]
