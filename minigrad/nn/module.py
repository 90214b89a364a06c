"""Module and Parameter: how a network keeps track of its weights.

A ``Parameter`` is a Tensor that a module learns (it requires grad by default).
A ``Module`` is an object whose attributes may be Parameters, buffers (tensors
it keeps but does not learn, like BatchNorm's running mean) and other Modules.
Assigning one of these to an attribute *registers* it, in order, so that the
module can later list all its weights (``parameters()``), name them
(``state_dict()``), move them (``to("cuda")``) and switch modes (``train()`` /
``eval()``), recursively through its sub-modules.

    >>> import minigrad
    >>> from minigrad import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = nn.Parameter(minigrad.ones(2))
    ...         self.register_buffer("calls", minigrad.zeros(()))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()], list(m.state_dict())
    (['scale'], ['scale', 'calls'])
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

from minigrad import dtypes
from minigrad.autograd.mode import no_grad
from minigrad.backend import Device, backend_of_array, get_backend
from minigrad.factories import zeros
from minigrad.tensor import RemovableHandle, Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module: it requires grad by default.

    ``Parameter(t)`` wraps ``t``'s array without copying it, as in PyTorch.

    >>> import minigrad
    >>> p = Parameter(minigrad.tensor([1.0, 2.0]))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = zeros(0)  # an empty parameter, as PyTorch's Parameter() gives
        if isinstance(data, Tensor):
            array, backend = data.data, data._backend
        else:  # a NumPy or CuPy array: wrap it where it lives
            backend = backend_of_array(data)
            array = backend.asarray(data)
        self._become_leaf(array, backend)
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """A copy with its own array, on the same device (``copy.deepcopy(model)``)."""
        copy = Parameter(Tensor._make(self.data.copy(), self._backend), self.requires_grad)
        if self.grad is not None:
            copy.grad = Tensor._make(self.grad.data.copy(), self._backend)
        memo[id(self)] = copy
        return copy


# What load_state_dict(strict=False) returns, as in PyTorch.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and network. Subclasses set attributes in ``__init__``
    (after calling ``super().__init__()``) and write ``forward``.

    >>> from minigrad import nn
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    >>> sum(p.numel() for p in model.parameters())
    9
    """

    def __init__(self):
        # object.__setattr__: these three dicts are the registry itself.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "_forward_hooks", [])

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        for hook in self._forward_pre_hooks:
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in self._forward_hooks:
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before each forward; it may return new args.
        Returns a handle whose ``remove()`` unregisters it.

        >>> from minigrad import nn
        >>> import minigrad
        >>> layer = nn.Identity()
        >>> handle = layer.register_forward_pre_hook(lambda m, args: args[0] * 2)
        >>> layer(minigrad.ones(1)).tolist()
        [2.0]
        """
        self._forward_pre_hooks.append(hook)
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after each forward (to look at or record
        activations); it may return a replacement output. Returns a removable handle.

        >>> from minigrad import nn
        >>> import minigrad
        >>> seen = []
        >>> layer = nn.Linear(3, 2)
        >>> handle = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
        >>> _ = layer(minigrad.ones(4, 3))
        >>> handle.remove()
        >>> _ = layer(minigrad.ones(1, 3))
        >>> seen
        [(4, 2)]
        """
        self._forward_hooks.append(hook)
        return RemovableHandle(self._forward_hooks, hook)

    # --- registration: attributes that are Parameters, buffers or Modules --------------
    def __setattr__(self, name, value):
        registry = self.__dict__.get("_parameters")
        if isinstance(value, (Parameter, Module)) and registry is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} '{name}' before Module.__init__() "
                f"call: call super().__init__() first in {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif registry is not None and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}' "
                    "(nn.Parameter or None expected); wrap it: nn.Parameter(tensor)"
                )
            self._parameters[name] = None
        elif registry is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer '{name}' "
                    "(Tensor or None expected)"
                )
            self._buffers[name] = value
        elif registry is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module '{name}' "
                    "(nn.Module or None expected)"
                )
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def _forget(self, name, keep):
        """Remove ``name`` from the plain attributes and every registry but ``keep``
        (where re-assigning it keeps its place in the order)."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent.discard(name)
        self.__dict__.pop(name, None)

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')
        known = name in self._parameters or name in self._buffers or name in self._modules
        if name in self.__dict__ or (hasattr(type(self), name) and not known):
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param) -> None:
        """Add a parameter (or None, for an optional one such as a missing bias).

        >>> import minigrad
        >>> m = Module()
        >>> m.register_parameter("w", Parameter(minigrad.zeros(2)))
        >>> list(dict(m.named_parameters()))
        ['w']
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} as parameter '{name}' "
                "(nn.Parameter or None expected)"
            )
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a tensor the module keeps but does not learn (e.g. running statistics).

        Buffers move with ``to()`` and, when ``persistent``, are saved in ``state_dict``.

        >>> import minigrad
        >>> m = Module()
        >>> m.register_buffer("running_mean", minigrad.zeros(3))
        >>> list(m.state_dict())
        ['running_mean']
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__} as buffer '{name}' "
                "(Tensor or None expected)"
            )
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module) -> None:
        """Add a child module under ``name`` (what ``self.name = module`` does).

        >>> m = Module()
        >>> m.add_module("act", Module())
        >>> [name for name, _ in m.named_children()]
        ['act']
        """
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    # --- walking the tree -----------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Yield (name, module) for this module and every module below it, depth first.

        >>> from minigrad import nn
        >>> [name for name, _ in nn.Sequential(nn.Linear(1, 1)).named_modules()]
        ['', '0']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self):
        """Every module in the tree, this one first.

        >>> from minigrad import nn
        >>> [type(m).__name__ for m in nn.Sequential(nn.ReLU()).modules()]
        ['Sequential', 'ReLU']
        """
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield (name, module) for the direct sub-modules.

        >>> from minigrad import nn
        >>> [name for name, _ in nn.Sequential(nn.ReLU(), nn.Tanh()).named_children()]
        ['0', '1']
        """
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        """The direct sub-modules.

        >>> from minigrad import nn
        >>> len(list(nn.Sequential(nn.ReLU(), nn.Sequential(nn.Tanh())).children()))
        2
        """
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        """(dotted name, tensor) from one registry of every module; each tensor once."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        """Yield (name, Parameter) with dotted names like ``"0.weight"``; shared ones once.

        >>> from minigrad import nn
        >>> [name for name, _ in nn.Linear(2, 1).named_parameters()]
        ['weight', 'bias']
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        """Every Parameter of this module (and, if ``recurse``, of its sub-modules).

        >>> from minigrad import nn
        >>> [p.shape for p in nn.Linear(3, 2).parameters()]
        [(2, 3), (2,)]
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        """Yield (name, buffer) with dotted names like ``"1.running_mean"``.

        >>> from minigrad import nn
        >>> [name for name, _ in nn.Sequential(nn.BatchNorm1d(2)).named_buffers()]
        ['0.running_mean', '0.running_var', '0.num_batches_tracked']
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        """Every buffer of this module (and, if ``recurse``, of its sub-modules).

        >>> from minigrad import nn
        >>> len(list(nn.BatchNorm1d(2).buffers()))
        3
        """
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, then on this one; return self.

        >>> from minigrad import nn
        >>> names = []
        >>> _ = nn.Sequential(nn.ReLU()).apply(lambda m: names.append(type(m).__name__))
        >>> names
        ['ReLU', 'Sequential']
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients --------------------------------------------------------
    def train(self, mode: bool = True):
        """Switch this module and all below it to training mode (or eval if False).

        >>> from minigrad import nn
        >>> nn.Dropout().train(False).training
        False
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Switch to evaluation mode: Dropout passes through, BatchNorm uses running stats.

        >>> from minigrad import nn
        >>> nn.Dropout().eval().training
        False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        """Freeze (False) or unfreeze every parameter; return self.

        >>> from minigrad import nn
        >>> nn.Linear(2, 2).requires_grad_(False).weight.requires_grad
        False
        """
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (default) or fill them with zeros.

        >>> import minigrad
        >>> from minigrad import nn
        >>> layer = nn.Linear(2, 1)
        >>> layer(minigrad.ones(1, 2)).sum().backward()
        >>> layer.zero_grad()
        >>> layer.weight.grad is None
        True
        """
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = param.grad.detach()  # no graph of the old gradient is kept
                param.grad.zero_()

    # --- devices and dtypes ---------------------------------------------------------
    def to(self, *args, device=None, dtype=None):
        """Move every parameter and buffer to ``device`` and/or cast floating ones to
        ``dtype``, in place: the Parameter objects stay the same (only their arrays
        change), so an optimizer made before keeps working. Returns self.

        >>> import minigrad
        >>> from minigrad import nn
        >>> layer = nn.Linear(2, 2)
        >>> w = layer.weight
        >>> layer.to(minigrad.float64).weight is w, w.dtype
        (True, dtype('float64'))
        """
        for arg in args:
            if isinstance(arg, (str, Device)):
                device = arg
            elif isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            else:
                dtype = arg
        dtype = dtypes.as_dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got {dtype}")
        backend = None if device is None else get_backend(device)
        for tensor in list(self.parameters()) + list(self.buffers()):
            _move(tensor, backend, dtype)
            if tensor.grad is not None:
                _move(tensor.grad, backend, dtype)
        return self

    def cpu(self):
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self, index=None):
        """``to("cuda")`` (or ``"cuda:index"``)."""
        return self.to("cuda" if index is None else f"cuda:{index}")

    def float(self):
        """``to(float32)``: floating parameters and buffers only."""
        return self.to(dtypes.float32)

    def double(self):
        """``to(float64)``: the precision gradcheck needs."""
        return self.to(dtypes.float64)

    def half(self):
        """``to(float16)``."""
        return self.to(dtypes.float16)

    # --- saving and loading -----------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict of every parameter and persistent buffer, by dotted name.

        The names are PyTorch's (``"0.weight"``, ``"1.running_mean"``), so a state
        dict moves between the two frameworks. Values share memory with the module
        but are detached from the graph (unless ``keep_vars``).

        >>> from minigrad import nn
        >>> {k: v.shape for k, v in nn.Linear(3, 2).state_dict().items()}
        {'weight': (2, 3), 'bias': (2,)}
        """
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Every problem is reported at once, in one RuntimeError: missing keys and
        unexpected keys (when ``strict``) and shape mismatches (always). Nothing is
        copied unless the whole load can succeed. Returns ``(missing_keys,
        unexpected_keys)``. A BatchNorm's ``num_batches_tracked`` may be absent (older
        files lack it): the module keeps its own count, as in PyTorch.

        >>> from minigrad import nn
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> bool((a.weight == b.weight).all())
        True
        """
        own = self.state_dict(keep_vars=True)
        optional = self._optional_keys()
        missing = [key for key in own if key not in state_dict and key not in optional]
        unexpected = [key for key in state_dict if key not in own]
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                shape = tuple(getattr(state_dict[key], "shape", ()))
                if shape != target.shape:
                    mismatched.append(
                        f"size mismatch for {key}: copying a param with shape {shape} from "
                        f"checkpoint, the shape in current model is {target.shape}."
                    )
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + _quoted(missing) + ".")
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
        errors += mismatched
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    target.copy_(_array_for(state_dict[key], target))
        return IncompatibleKeys(missing, unexpected)

    # Buffers a state dict may lack: loading one without them keeps the module's own
    # values, as PyTorch does (BatchNorm's num_batches_tracked, which old files lack).
    _optional_buffers = ()

    def _optional_keys(self) -> set:
        return {
            f"{prefix}.{name}" if prefix else name
            for prefix, module in self.named_modules()
            for name in module._optional_buffers
        }

    # --- printing -----------------------------------------------------------------
    def extra_repr(self) -> str:
        """The settings to show between the parentheses of ``repr`` (override it).

        >>> from minigrad import nn
        >>> nn.Linear(2, 3).extra_repr()
        'in_features=2, out_features=3, bias=True'
        """
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _indent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def __dir__(self):
        names = list(super().__dir__())
        return sorted(
            set(names + list(self._parameters) + list(self._buffers) + list(self._modules))
        )


def _move(tensor, backend, dtype):
    """Change ``tensor``'s array in place: to ``backend``'s device, and to ``dtype`` if
    it holds floats (integer buffers such as num_batches_tracked keep their type)."""
    array = tensor.data
    if backend is not None and backend is not tensor._backend:
        array = backend.asarray(tensor._backend.to_numpy(array))  # through host memory
        tensor._backend = backend
    if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    tensor.data = array


def _array_for(value, target):
    """``value`` (a Tensor or an array) as an array on ``target``'s device."""
    if isinstance(value, Tensor):
        value = value.data
    return target._backend.asarray(value)


def _quoted(keys):
    return ", ".join(f'"{key}"' for key in keys)


def _indent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])
