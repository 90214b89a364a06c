"""minigrad: a from-scratch autograd and training engine, written to be read.

>>> import minigrad
>>> x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

from minigrad import cuda
from minigrad.autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.backend import Device, get_default_device, set_default_device
from minigrad.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from minigrad.factories import (
    arange,
    as_tensor,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.ops.einsum import einsum
from minigrad.ops.elementwise import maximum, minimum, where
from minigrad.keywords import with_aliases
from minigrad.ops.shape import cat, stack
from minigrad.random import manual_seed
from minigrad.tensor import Tensor

# The layers above the Tensor: each imports only what sits below it.
from minigrad import data, nn, optim
from minigrad import io, train, viz
from minigrad.io import SerializationError, load, save
from minigrad.jit import TraceError, compile  # noqa: A004 - PyTorch's name, torch.compile

device = Device
bool = bool_  # noqa: A001 - PyTorch's name for the dtype

# Math in function form, as torch.X: each is the Tensor method of the same name.
abs = Tensor.abs  # noqa: A001
exp, log, log1p, sqrt = Tensor.exp, Tensor.log, Tensor.log1p, Tensor.sqrt
sin, cos, tanh, sigmoid, erf = Tensor.sin, Tensor.cos, Tensor.tanh, Tensor.sigmoid, Tensor.erf
relu, clamp, clip = Tensor.relu, Tensor.clamp, Tensor.clip
sum, mean, var, std, prod = Tensor.sum, Tensor.mean, Tensor.var, Tensor.std, Tensor.prod  # noqa: A001
max, min, amax, amin = Tensor.max, Tensor.min, Tensor.amax, Tensor.amin  # noqa: A001
argmax, argmin = Tensor.argmax, Tensor.argmin
logsumexp, softmax, log_softmax, norm = (
    Tensor.logsumexp,
    Tensor.softmax,
    Tensor.log_softmax,
    Tensor.norm,
)
matmul = Tensor.matmul
reshape, flatten, transpose, permute = (
    Tensor.reshape,
    Tensor.flatten,
    Tensor.transpose,
    Tensor.permute,
)
squeeze, unsqueeze, flip, gather = Tensor.squeeze, Tensor.unsqueeze, Tensor.flip, Tensor.gather
masked_fill, index_select = Tensor.masked_fill, Tensor.index_select
split, chunk, broadcast_to = Tensor.split, Tensor.chunk, Tensor.broadcast_to
unflatten, tril, triu = Tensor.unflatten, Tensor.tril, Tensor.triu
floor, ceil, trunc, sign = Tensor.floor, Tensor.ceil, Tensor.trunc, Tensor.sign
round = Tensor.round  # noqa: A001
floor_divide, remainder = Tensor.floor_divide, Tensor.remainder
cumsum, cumprod = Tensor.cumsum, Tensor.cumprod
sort, argsort, topk, nonzero = Tensor.sort, Tensor.argsort, Tensor.topk, Tensor.nonzero
scatter, scatter_add, index_add = Tensor.scatter, Tensor.scatter_add, Tensor.index_add
isclose, allclose = Tensor.isclose, Tensor.allclose
cat, stack = with_aliases(cat), with_aliases(stack)  # axis= for dim=, as the methods take

__version__ = "0.1.0"
