"""Metrics against hand-counted values, on Tensors, arrays and lists alike."""

import numpy as np
import pytest

import minigrad
from minigrad.train.metrics import (
    accuracy,
    confusion_matrix,
    get_metric,
    mean_squared_error,
    precision_recall_f1,
    r2_score,
    top_k_accuracy,
)

# 8 samples, 3 classes. Counted by hand (rows: true class, columns: predicted):
#   true 0: predicted 0, 0, 1      -> [2, 1, 0]
#   true 1: predicted 1, 1         -> [0, 2, 0]
#   true 2: predicted 2, 0, 2      -> [1, 0, 2]
TARGET = [0, 0, 0, 1, 1, 2, 2, 2]
PRED = [0, 0, 1, 1, 1, 2, 0, 2]
MATRIX = [[2, 1, 0], [0, 2, 0], [1, 0, 2]]


def as_logits(labels, classes=3):
    """Scores whose argmax is ``labels``."""
    scores = np.zeros((len(labels), classes), np.float32)
    scores[np.arange(len(labels)), labels] = 5.0
    return scores


@pytest.mark.parametrize("kind", ["list", "array", "tensor", "logits", "logit tensor"])
def test_accuracy_and_confusion_matrix_take_any_form_of_prediction(kind):
    pred = {
        "list": PRED,
        "array": np.array(PRED),
        "tensor": minigrad.tensor(PRED),
        "logits": as_logits(PRED),
        "logit tensor": minigrad.as_tensor(as_logits(PRED)),
    }[kind]
    assert accuracy(pred, minigrad.tensor(TARGET)) == 6 / 8
    assert confusion_matrix(pred, TARGET).tolist() == MATRIX


def test_confusion_matrix_with_classes_never_seen():
    counts = confusion_matrix([0, 1], [0, 0], num_classes=4)
    assert counts.shape == (4, 4) and counts.sum() == 2 and counts[0, 1] == 1
    with pytest.raises(ValueError, match="must lie in"):
        confusion_matrix([0, 5], [0, 1], num_classes=3)


def test_precision_recall_f1_per_class_and_averaged():
    # precision: column-wise TP / predicted = 2/3, 2/3, 2/2; recall: row-wise = 2/3, 2/2, 2/3
    p, r, f = precision_recall_f1(PRED, TARGET, average=None)
    np.testing.assert_allclose(p, [2 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(r, [2 / 3, 1.0, 2 / 3])
    np.testing.assert_allclose(f, [2 / 3, 0.8, 0.8])  # 2PR/(P+R)
    macro = precision_recall_f1(PRED, TARGET)
    np.testing.assert_allclose(macro, [7 / 9, 7 / 9, (2 / 3 + 0.8 + 0.8) / 3])
    micro = precision_recall_f1(PRED, TARGET, average="micro")
    assert micro == (0.75, 0.75, 0.75)  # micro averages equal the accuracy
    weighted = precision_recall_f1(PRED, TARGET, average="weighted")
    np.testing.assert_allclose(weighted[1], (3 * 2 / 3 + 2 * 1.0 + 3 * 2 / 3) / 8)


def test_a_class_never_predicted_counts_zero_not_nan():
    p, r, f = precision_recall_f1([0, 0, 0], [0, 1, 1], average=None)
    assert p.tolist() == [1 / 3, 0.0] and r.tolist() == [1.0, 0.0] and f[1] == 0.0


def test_top_k_accuracy():
    scores = np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    target = [2, 2, 1]
    assert top_k_accuracy(scores, target, k=1) == 0.0
    assert top_k_accuracy(scores, target, k=2) == pytest.approx(2 / 3)  # the tie counts
    assert top_k_accuracy(minigrad.as_tensor(scores), target, k=3) == 1.0


def test_regression_metrics():
    pred, target = [2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0]
    assert mean_squared_error(pred, target) == pytest.approx((0.25 + 0.25 + 0 + 1) / 4)
    # SS_res = 1.5; mean 2.875, SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875
    assert r2_score(minigrad.tensor(pred), target) == pytest.approx(1 - 1.5 / 29.1875)
    assert r2_score(target, target) == 1.0
    assert r2_score([1.0, 1.0], [2.0, 2.0]) == 0.0  # constant target, missed
    two = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 7.0]])
    assert r2_score(two, two) == 1.0


def test_metrics_explain_bad_shapes():
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"\(N, 1\) are ambiguous"):
        accuracy(np.zeros((3, 1)), [0, 1, 0])
    with pytest.raises(ValueError, match="shape"):
        mean_squared_error(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("acuracy")
