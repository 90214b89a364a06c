"""NumPy's keyword names that PyTorch accepts too, and a clear error for any other.

PyTorch takes ``x.sum(axis=0, keepdims=True)`` as ``x.sum(dim=0, keepdim=True)``,
so code written either way ports. Rather than an extra parameter in every
signature, one wrapper renames the two aliases for every function that has a
``dim`` (or ``keepdim``) parameter: the Tensor methods, the functions of
``nn.functional``, and ``minigrad.cat`` and ``minigrad.stack`` (``minigrad.sum``
and the like are the Tensor methods themselves). It also
turns an unknown keyword into an error that names the op, what was given and what
the op takes.

    >>> import minigrad
    >>> minigrad.tensor([[1.0, 2.0]]).sum(axis=1, keepdims=True).tolist()
    [[3.0]]
"""

from __future__ import annotations

import functools
import inspect

ALIASES = {"axis": "dim", "keepdims": "keepdim"}  # NumPy's name -> PyTorch's


def with_aliases(fn, name=None):
    """``fn`` accepting ``axis=`` and ``keepdims=``, if it has ``dim`` or ``keepdim``;
    else ``fn`` itself."""
    params = inspect.signature(fn).parameters
    if not any(real in params for real in ALIASES.values()):
        return fn
    name = name or fn.__name__
    takes = [p for p, v in params.items() if p != "self" and v.kind is not v.VAR_POSITIONAL]
    known = frozenset(takes)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        # The usual call passes only names the function takes: one set check, no more.
        if kwargs and not known.issuperset(kwargs):
            _rename(name, kwargs, takes)
        return fn(*args, **kwargs)

    return call


def _rename(name, kwargs, takes):
    """Replace each alias in ``kwargs`` by its PyTorch name; refuse unknown keywords."""
    for alias, real in ALIASES.items():
        if alias in kwargs and real in takes:
            if real in kwargs:
                raise TypeError(f"{name}: got both {real}= and its alias {alias}=; give one")
            kwargs[real] = kwargs.pop(alias)
    for key, value in kwargs.items():
        if key not in takes:
            raise TypeError(
                f"{name}: unsupported keyword argument {key}={value!r}; {name} takes "
                f"{', '.join(takes)}"
            )


def accept_aliases(cls):
    """Wrap every method of ``cls`` that takes ``dim`` or ``keepdim`` (see ``with_aliases``)."""
    for attribute, value in list(vars(cls).items()):
        if inspect.isfunction(value) and not attribute.startswith("_"):
            setattr(cls, attribute, with_aliases(value, attribute))
    return cls
