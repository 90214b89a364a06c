"""minigrad.train: the training loop, model selection, metrics and the learning-rate finder.

    >>> from minigrad.train import EarlyStopping, ModelCheckpoint, fit
    >>> callbacks = [EarlyStopping(patience=5), ModelCheckpoint("best.safetensors")]

The modules, one idea each:

- ``fit``         fit, evaluate, predict: the loop itself
- ``history``     History: per-epoch numbers, learning-curve plots
- ``callbacks``   Callback, EarlyStopping, ModelCheckpoint
- ``checkpoint``  save_checkpoint, load_checkpoint: resuming exactly
- ``metrics``     accuracy, top_k_accuracy, confusion_matrix, precision_recall_f1,
                  mean_squared_error, r2_score
- ``lr_find``     lr_find: the learning-rate range test
"""

from minigrad.train.callbacks import Callback, EarlyStopping, ModelCheckpoint
from minigrad.train.checkpoint import load_checkpoint, save_checkpoint
from minigrad.train.fit import FitContext, evaluate, fit, predict
from minigrad.train.history import History
from minigrad.train.lr_find import lr_find, suggest_lr
from minigrad.train.metrics import (
    METRICS,
    accuracy,
    confusion_matrix,
    mean_squared_error,
    precision_recall_f1,
    r2_score,
    top_k_accuracy,
)

__all__ = [
    "METRICS",
    "Callback",
    "EarlyStopping",
    "FitContext",
    "History",
    "ModelCheckpoint",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "fit",
    "load_checkpoint",
    "lr_find",
    "mean_squared_error",
    "precision_recall_f1",
    "predict",
    "r2_score",
    "save_checkpoint",
    "suggest_lr",
    "top_k_accuracy",
]
