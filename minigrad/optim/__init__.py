"""Optimizers: how parameters move, given their gradients.

- ``Optimizer`` (optimizer.py): param groups, per-parameter state, the L2 and L1
  penalties as one visible step shared by every optimizer, ``state_dict``;
- ``SGD`` (sgd.py), ``Adam`` and ``AdamW`` (adam.py), ``RMSprop`` (rmsprop.py):
  each one's update rule, the same arithmetic as PyTorch's;
- ``lr_scheduler``: how the learning rate changes over training.

    >>> import minigrad
    >>> from minigrad import optim
    >>> w = minigrad.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=1e-4)
    >>> scheduler = optim.lr_scheduler.StepLR(opt, step_size=10)
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
