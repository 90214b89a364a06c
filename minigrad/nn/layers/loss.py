"""Losses as Modules (``nn.CrossEntropyLoss()(logits, target)``), for PyTorch-style code.

Each calls its function in ``nn.functional``. A class ``weight`` (and
BCEWithLogits' ``pos_weight``) is a buffer, as in PyTorch: it moves with
``to()`` and appears in ``state_dict``.

    >>> import minigrad
    >>> from minigrad import nn
    >>> nn.MSELoss()(minigrad.tensor([1.0, 3.0]), minigrad.tensor([1.0, 1.0])).item()
    2.0
"""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', "
                f"got {reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """``F.cross_entropy`` of logits and class indices (or probabilities).

    >>> import minigrad
    >>> round(CrossEntropyLoss()(minigrad.zeros(1, 4), minigrad.tensor([2])).item(), 4)  # ln 4
    1.3863
    """

    def __init__(
        self, weight=None, ignore_index: int = -100, reduction="mean", label_smoothing=0.0
    ):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_WeightedLoss):
    """``F.nll_loss`` of log-probabilities and class indices.

    >>> import minigrad
    >>> NLLLoss()(minigrad.tensor([[-0.5, -2.0]]), minigrad.tensor([1])).item()
    2.0
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """``F.mse_loss``: mean squared error.

    >>> import minigrad
    >>> MSELoss(reduction="sum")(minigrad.tensor([1.0, 3.0]), minigrad.zeros(2)).item()
    10.0
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """``F.l1_loss``: mean absolute error.

    >>> import minigrad
    >>> L1Loss()(minigrad.tensor([1.0, -3.0]), minigrad.zeros(2)).item()
    2.0
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """``F.huber_loss``: quadratic within ``delta`` of the target, linear beyond.

    >>> import minigrad
    >>> HuberLoss(delta=2.0)(minigrad.tensor([4.0]), minigrad.zeros(1)).item()   # 2 (4 - 1)
    6.0
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """``F.smooth_l1_loss``: Huber loss divided by ``beta``.

    >>> import minigrad
    >>> SmoothL1Loss(beta=2.0)(minigrad.tensor([4.0]), minigrad.zeros(1)).item()   # 4 - 1
    3.0
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_WeightedLoss):
    """``F.binary_cross_entropy`` of probabilities in [0, 1].

    >>> import minigrad
    >>> round(BCELoss()(minigrad.tensor([0.5]), minigrad.tensor([1.0])).item(), 4)  # ln 2
    0.6931
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """``F.binary_cross_entropy_with_logits``: sigmoid and BCE in one stable formula.

    >>> import minigrad
    >>> round(BCEWithLogitsLoss()(minigrad.tensor([0.0]), minigrad.tensor([1.0])).item(), 4)
    0.6931
    """

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )
