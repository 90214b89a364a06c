"""The backward engine: reverse-mode differentiation over the recorded graph.

The graph is a DAG of Context nodes. ``backward`` visits it once, in reverse
topological order, so that every node has received the whole of its gradient
before it passes gradients on. The order is found iteratively (no recursion),
so a chain of a million ops works.

    >>> import minigrad
    >>> x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [2.0, 4.0]
"""

from __future__ import annotations

import gc
import sys

from minigrad.autograd.function import Context, _check_finite, _tensor_class
from minigrad.autograd.mode import mode, set_grad_enabled

_after_backward = []  # what hooks asked to run once the current backward pass is done


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into the ``.grad`` of every leaf of the graph.

    >>> import minigrad
    >>> w = minigrad.tensor(3.0, requires_grad=True)
    >>> backward([w * w])
    >>> w.grad.item()
    6.0
    """
    tensors, grads = _roots(tensors, grad_tensors)
    retain = create_graph if retain_graph is None else retain_graph
    only = None if inputs is None else {id(t) for t in _as_list(inputs)}
    try:
        _run(tensors, grads, retain, create_graph, capture=None, only=only)
        callbacks = list(_after_backward)
    finally:
        _after_backward.clear()
    for callback in callbacks:
        callback()


def queue_callback(callback) -> None:
    """Run ``callback()`` once, when the backward pass now running has filled every .grad.

    Called from a hook; a callback already queued is not queued twice. This is how
    ``DistributedDataParallel`` averages the gradients as soon as all are there
    (PyTorch's engine has the same ``queue_callback``). ``grad()`` fills no
    ``.grad``, so it drops what was queued during it.
    """
    if callback not in _after_backward:
        _after_backward.append(callback)


def grad(
    outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False
):
    """Return d(outputs)/d(inputs) as a tuple, leaving every ``.grad`` untouched.

    >>> import minigrad
    >>> x = minigrad.tensor(3.0, requires_grad=True)
    >>> (dx,) = grad(x**3, x, create_graph=True)   # 3x^2 = 27
    >>> (ddx,) = grad(dx, x)                        # 6x = 18
    >>> dx.item(), ddx.item()
    (27.0, 18.0)
    """
    outputs, grads = _roots(outputs, grad_outputs)
    inputs = _as_list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient")
    retain = create_graph if retain_graph is None else retain_graph
    capture = {id(t): None for t in inputs}
    try:
        _run(outputs, grads, retain, create_graph, capture=capture, only=None, inputs=inputs)
    finally:
        _after_backward.clear()
    result = []
    for i, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {tuple(t.shape)}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _roots(tensors, grads):
    """The output tensors and the gradient that starts each one (1 for a scalar)."""
    Tensor = _tensor_class()
    tensors = _as_list(tensors)
    grads = [None] * len(tensors) if grads is None else _as_list(grads)
    seeds = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not t.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and has no grad_fn: "
                "nothing it depends on was created with requires_grad=True"
            )
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but this "
                    f"tensor has shape {tuple(t.shape)}: reduce it first (.sum() or "
                    ".mean()) or pass gradient=<a tensor of that shape>"
                )
            g = Tensor._make(t._backend.xp.ones(t.shape, dtype=t.dtype), t._backend)
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=t.dtype, device=t.device)
        if tuple(g.shape) != tuple(t.shape):
            raise RuntimeError(
                f"gradient of shape {tuple(g.shape)} given for an output of shape "
                f"{tuple(t.shape)}: they must be equal"
            )
        seeds.append(g)
    return tensors, seeds


def _count_senders(roots):
    """For each node reachable from ``roots``: how many nodes send it a gradient.

    A node may run its backward only when all of them have run (then its gradient is
    complete): ``_visit`` counts down from these numbers (Kahn's topological order).
    """
    pending = dict.fromkeys(roots, 0)
    stack = list(roots)
    while stack:  # a depth-first walk with an explicit stack: no recursion limit
        node = stack.pop()
        for edge in node.edges:
            if type(edge) is Context:
                if edge in pending:
                    pending[edge] += 1
                else:  # first time this node is reached: count it, then walk below it
                    pending[edge] = 1
                    stack.append(edge)
    return pending


def _run(tensors, seeds, retain_graph, create_graph, capture, only, inputs=()):
    """Push gradients from the roots down to the leaves (or to ``capture``)."""
    node_grads = {}  # node -> gradient of its output, summed over every path
    hooked = {}  # leaf with hooks -> its gradient so far (see _deliver_to_leaf)
    for t, g in zip(tensors, seeds):
        if t.grad_fn is None:
            _deliver_to_leaf(t, g, capture, only, hooked)
        else:
            _add(node_grads, t.grad_fn, g)
    wanted_nodes = {}
    for t in inputs:
        if t.grad_fn is not None:
            wanted_nodes[t.grad_fn] = id(t)
    # Reference counting frees each gradient as soon as it is used; pausing the cyclic
    # collector stops Python from re-scanning the whole graph again and again meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _visit(node_grads, wanted_nodes, retain_graph, create_graph, capture, only, hooked)
    finally:
        if collecting:
            gc.enable()


def _visit(node_grads, wanted_nodes, retain_graph, create_graph, capture, only, hooked):
    """Call each node's backward in topological order and pass the gradients on.

    This loop runs once per op of the graph, so the common path is written out
    here rather than spread over small functions: the per-op cost of backward is
    mostly Python's own.
    """
    Tensor = _tensor_class()
    pending = _count_senders(list(node_grads))
    ready = [node for node in node_grads if pending[node] == 0]
    anomaly = mode.anomaly  # read once: a backward pass runs in one mode
    with set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            grad = node_grads.pop(node, None)
            if grad is None:  # no gradient came this way: the inputs stop waiting for it
                input_grads = (None,) * len(node.edges)
            else:
                if node._saved is None:  # release() ran: a backward went through already
                    node._raise_freed()
                if node.hooks or wanted_nodes or node.retained is not None:
                    grad = _before_backward(node, grad, wanted_nodes, capture)
                if anomaly:
                    input_grads = _call_backward_blaming(node, grad)
                else:
                    input_grads = node.fn.backward(node, grad)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if len(input_grads) != len(node.edges):
                    _raise_arity(node, input_grads)
                if not retain_graph:
                    node.release()
            for i, edge in enumerate(node.edges):
                if edge is None:
                    continue
                is_node = type(edge) is Context  # else a leaf tensor
                if is_node:
                    left = pending[edge] - 1
                    pending[edge] = left
                    if left == 0:  # every sender has run: its gradient is complete
                        ready.append(edge)
                g = input_grads[i]
                if g is None:
                    continue
                if type(g) is not Tensor:
                    g = _as_tensor(node, g, Tensor)
                shape = edge._out_shape if is_node else edge.data.shape
                if g.data.shape != shape or anomaly:
                    _check(node, i, g, shape)
                if is_node:
                    _add(node_grads, edge, g)
                else:
                    _deliver_to_leaf(edge, g, capture, only, hooked)
        for leaf, g in hooked.items():  # every path has run: hooks see the whole gradient
            _accumulate(leaf, _run_hooks(leaf._hooks, g), capture, seen_by_hooks=True)


def _before_backward(node, grad, wanted_nodes, capture):
    """What a node's gradient meets before its backward: hooks, grad(), retain_grad()."""
    if node.hooks:
        grad = _run_hooks(node.hooks, grad)
    if wanted_nodes and node in wanted_nodes:  # grad() asked for this tensor
        capture[wanted_nodes[node]] = grad
    if node.retained is not None:
        _retain(node, grad)
    return grad


def _add(grads, key, g):
    grads[key] = g if key not in grads else grads[key] + g


def _run_hooks(hooks, grad):
    """Each hook in the order registered; a hook's return value (unless None) replaces
    the gradient that the next hook, and the graph below, sees."""
    for hook in hooks:
        new = hook(grad)
        if new is not None:
            _check_hook_result(hook, new, grad)
            grad = new
    return grad


def _check_hook_result(hook, new, grad):
    """A replacement gradient must be a Tensor of the gradient's shape (as in PyTorch)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(new, _tensor_class()):
        raise TypeError(
            f"hook {name!r} returned a {type(new).__name__}: a hook returns a Tensor to "
            "replace the gradient, or None to keep it"
        )
    if new.shape != grad.shape:
        raise RuntimeError(
            f"hook {name!r} has changed the size of the gradient: it returned shape "
            f"{tuple(new.shape)} for a gradient of shape {tuple(grad.shape)}"
        )


def _retain(node, grad):
    """A non-leaf tensor that called retain_grad() gets its .grad here."""
    tensor = node.retained()
    if tensor is not None:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad


def _deliver_to_leaf(leaf, g, capture, only, hooked):
    """Give a leaf its gradient: into ``capture`` for grad(), else into ``.grad``.

    A leaf with hooks first gathers its gradient from every path in ``hooked``: its
    hooks run once, on the sum, when the pass ends (as PyTorch's do), so that a hook
    that clips or logs sees the whole gradient rather than one path's share.
    """
    wanted = capture if capture is not None else only
    if wanted is not None and id(leaf) not in wanted:
        return
    if leaf._hooks:
        _add(hooked, leaf, g)
    else:
        _accumulate(leaf, g, capture)


def _accumulate(leaf, g, capture, seen_by_hooks=False):
    """Add a leaf's gradient to what grad() captured, or to its ``.grad``.

    A gradient that hooks have seen may be kept by them (a list that logs it): it
    becomes ``.grad`` as a copy, or the next in-place accumulation would change it.
    """
    if capture is not None:
        key = id(leaf)
        capture[key] = g if capture[key] is None else capture[key] + g
    elif mode.grad_enabled:  # create_graph: keep the graph of the gradient and of the sum
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is None:
        alone = not seen_by_hooks and _owns_alone(g.data)
        leaf.grad = g.detach() if alone else g.detach()._own()
    else:
        leaf.grad.data += g.data  # accumulate in place: no new array per step


def _owns_alone(array) -> bool:
    """True if no one else can see ``array``: it may become a .grad without a copy.

    .grad is later changed in place (accumulation, clipping, ``zero_grad``), so it must
    not share memory with anything: not be a view, and be referenced by the gradient
    Tensor only (references: that Tensor, the ``array`` argument, getrefcount's own
    argument). And it must be an array: NumPy's arithmetic on 0-d arrays gives NumPy
    scalars, which cannot change in place, so a 0-d gradient is always copied (``_own``).
    """
    return array.ndim > 0 and array.base is None and sys.getrefcount(array) <= 3


def _call_backward_blaming(node, grad):
    """Run one node's backward, noting which node it is, so anomaly mode can name it."""
    mode.running_backward_of = node.name
    try:
        return node.fn.backward(node, grad)
    finally:
        mode.running_backward_of = None


def _raise_arity(node, result):
    raise RuntimeError(
        f"{node.name}.backward returned {len(result)} gradient(s) but forward took "
        f"{len(node.edges)} input(s): return one per input (None for non-tensors)"
    )


def _as_tensor(node, g, Tensor):
    """A backward may return an array (or a Tensor subclass): the engine passes Tensors on."""
    if isinstance(g, Tensor):
        return g
    return Tensor._make(node.backend.asarray(g), node.backend)


def _check(node, i, g, shape):
    """Raise if input ``i``'s gradient does not have the input's shape, or (in anomaly
    mode) holds a NaN or an infinity."""
    if g.data.shape != shape:
        got = tuple(g.data.shape)
        raise RuntimeError(
            f"{node.name}.backward returned a gradient of shape {got} for input "
            f"{i}, whose shape is {tuple(shape)}{_broadcast_hint(got, tuple(shape))}"
        )
    if mode.anomaly:
        _check_finite(node.backend, g.data, f"{node.name} (backward, input {i})")


def _broadcast_hint(got, want):
    extra = len(got) - len(want)
    if extra < 0:
        return ""
    axes = list(range(extra)) + [
        extra + k for k, (g, w) in enumerate(zip(got[extra:], want)) if w == 1 and g != 1
    ]
    return f": sum the gradient over the broadcast axes {tuple(axes)}" if axes else ""
