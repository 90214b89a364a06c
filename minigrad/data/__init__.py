"""minigrad.data: getting data ready for training.

    >>> from minigrad.data import DataLoader, TensorDataset, make_moons, train_test_split
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    >>> loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
    >>> xb, yb = next(iter(loader))
    >>> xb.shape, yb.dtype
    ((32, 2), dtype('int64'))

The modules, one idea each:

- ``dataset``  Dataset, TensorDataset, Subset, random_split
- ``loader``   DataLoader, default_collate
- ``sampler``  DistributedSampler (each process's share, for data parallelism)
- ``split``    train_test_split, KFold, StratifiedKFold
- ``tabular``  StandardScaler, MinMaxScaler, RobustScaler, SimpleImputer,
               LabelEncoder, OneHotEncoder
- ``text``     CharTokenizer, WordTokenizer, Vocab, pad_sequences,
               language_model_windows
- ``bpe``      BPETokenizer
- ``image``    Compose, ToTensor, Normalize, RandomHorizontalFlip, RandomCrop,
               RandomNoise, Resize, patchify
- ``datasets`` make_moons, make_circles, make_spirals, make_blobs,
               make_regression, load_digits, load_text

Names of arguments follow the library each idea comes from: the functions
that mirror scikit-learn take ``random_state``; those that mirror PyTorch take
``seed`` (``random_split`` also accepts PyTorch's ``generator``). Either is an
int, a ``numpy.random.Generator``, or None for minigrad's global generator,
which ``minigrad.manual_seed`` seeds.
"""

from minigrad.data.bpe import BPETokenizer
from minigrad.data.dataset import Dataset, Subset, TensorDataset, random_split
from minigrad.data.datasets import (
    load_digits,
    load_text,
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spirals,
)
from minigrad.data.image import (
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomNoise,
    Resize,
    ToTensor,
    patchify,
)
from minigrad.data.loader import DataLoader, default_collate
from minigrad.data.sampler import DistributedSampler
from minigrad.data.split import KFold, StratifiedKFold, train_test_split
from minigrad.data.tabular import (
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    SimpleImputer,
    StandardScaler,
)
from minigrad.data.text import (
    CharTokenizer,
    Vocab,
    WordTokenizer,
    language_model_windows,
    pad_sequences,
)

__all__ = [
    "BPETokenizer",
    "CharTokenizer",
    "Compose",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "KFold",
    "LabelEncoder",
    "MinMaxScaler",
    "Normalize",
    "OneHotEncoder",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomNoise",
    "Resize",
    "RobustScaler",
    "SimpleImputer",
    "StandardScaler",
    "StratifiedKFold",
    "Subset",
    "TensorDataset",
    "ToTensor",
    "Vocab",
    "WordTokenizer",
    "default_collate",
    "language_model_windows",
    "load_digits",
    "load_text",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_regression",
    "make_spirals",
    "pad_sequences",
    "patchify",
    "random_split",
    "train_test_split",
]
