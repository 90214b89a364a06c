"""A whole LSTM layer, one direction over every time step, as one op.

Written with Tensor operations step by step (``nn.layers.recurrent.lstm_step``),
an LSTM over L steps is about 20 graph nodes per step, each with its own backward
and its own small arrays: at L = 100 the step-by-step training step is thousands
of tiny calls. Here the whole loop is one op that computes on arrays, with the
backward through time written out by hand (as cuDNN and PyTorch do):

    forward, for each step t (PyTorch's gates i, f, g, o; s is the sigmoid):
        z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        i, f, o = s(z_i), s(z_f), s(z_o);   g = tanh(z_g)
        c_t = f c_{t-1} + i g;   h_t = o tanh(c_t)

    backward, from the last step to the first, with dh = dL/dh_t (from the output
    and from step t+1) and dc = dL/dc_t (from c_n and from step t+1):
        dc   += dh o (1 - tanh^2 c_t)
        dz_o  = dh tanh(c_t) o (1 - o)        dz_i = dc g i (1 - i)
        dz_f  = dc c_{t-1} f (1 - f)          dz_g = dc i (1 - g^2)
        dL/dh_{t-1} += dz W_hh;   dL/dc_{t-1} = dc f
    and once, over every step together (one matrix product each):
        dW_ih = sum_t dz_t^T x_t,  dW_hh = sum_t dz_t^T h_{t-1},  db = sum_t dz_t,
        dx_t = dz_t W_ih

Two tricks keep the array calls per step few (the time of a small LSTM is the
number of calls, not the arithmetic):
- s(z) = (1 + tanh(z / 2)) / 2, so with the sigmoid gates' rows of the weights
  halved (exact in binary floating point), one tanh over all four gates does
  the work of three sigmoids and a tanh;
- inside the op the gates are kept in the order (o, i, f, g): the three sigmoids
  are one slice, and the three gates whose gradient comes from dc are another.
Only the weights are reordered (once per call); the caller sees PyTorch's order.

The loop is written once, for arrays and for Tensors alike (``_Arrays``,
``_Tensors``): the op runs it on arrays; when the backward pass is itself being
recorded (``create_graph=True``, second derivatives) it runs it again on the
Tensors of the graph, so that the backward is differentiable too. (PyTorch's
cuDNN LSTM has no double backward; this one keeps it.)

    >>> import minigrad
    >>> x = minigrad.zeros(3, 1, 2)  # 3 steps, batch 1, 2 inputs
    >>> h0, c0 = minigrad.zeros(1, 1), minigrad.ones(1, 1)
    >>> w_ih, w_hh = minigrad.zeros(4, 2), minigrad.zeros(4, 1)
    >>> out = LSTMSequence.apply(x, h0, c0, w_ih, w_hh)  # f = 1/2, g = 0: c halves
    >>> out[-1].tolist()  # the last row is c_n
    [[0.125]]
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.autograd.mode import mode
from minigrad.dtypes import require_floating
from minigrad.ops.shape import cat, stack

_INTERNAL = [3, 0, 1, 2]  # PyTorch's gate blocks (i, f, g, o) -> the op's (o, i, f, g)
_PYTORCH = [1, 2, 3, 0]  # and back
_HALVED = (0.5, 0.5, 0.5, 1.0)  # (o, i, f, g): the sigmoid gates' rows are halved


class LSTMSequence(Function):
    """h_t, c_t = LSTM cell(x_t, h_{t-1}, c_{t-1}) for every t;  backward through time
    (the formulas are in this module's docstring)

    Inputs: x (L, N, input), h0 and c0 (N, H), w_ih (4H, input), w_hh (4H, H) and the
    biases b_ih, b_hh (4H,) or None. With ``reverse=True`` the steps run from t = L-1
    down to 0. The output is (L + 1, N, H): rows 0 to L-1 hold h_t in time order, the
    last row the final cell state c_n (one op has one output; the caller slices it).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False):
        require_floating(x, "lstm")
        xp = ctx.xp
        bias = _joint_bias(b_ih, b_hh)
        hs, cs, sigmoids, candidates = _forward_steps(
            _Arrays(xp), x, h0, c0, w_ih, w_hh, bias, reverse
        )
        output = xp.stack(hs + [cs[0 if reverse else -1]])
        ctx.reverse = reverse
        ctx.cells, ctx.sigmoids = xp.stack(cs), xp.stack(sigmoids)
        ctx.candidates = xp.stack(candidates)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, output = ctx.saved
        length = x.shape[0]
        if mode.grad_enabled:  # create_graph: run the same steps on the graph's Tensors
            ns = _Tensors()
            bias = _joint_bias(b_ih, b_hh)
            hs, cs, sigmoids, candidates = _forward_steps(
                ns, x, h0, c0, w_ih, w_hh, bias, ctx.reverse
            )
            states = (stack(hs), stack(cs), stack(sigmoids), stack(candidates))
        else:  # first derivatives: the arrays the forward pass kept will do
            ns, grad = _Arrays(ctx.xp), grad.data
            x, h0, c0, w_ih, w_hh = x.data, h0.data, c0.data, w_ih.data, w_hh.data
            states = (output.data[:length], ctx.cells, ctx.sigmoids, ctx.candidates)
        dx, dh0, dc0, dw_ih, dw_hh, db = _backward_steps(
            ns,
            grad[:length],
            grad[length],
            x,
            h0,
            c0,
            w_ih,
            w_hh,
            states,
            ctx.reverse,
            ctx.needs_input_grad,
        )
        grads = (dx, dh0, dc0, dw_ih, dw_hh, db, db)  # both biases: the gradient of their sum
        return grads[: len(ctx.needs_input_grad)]


def _joint_bias(b_ih, b_hh):
    """b_ih + b_hh: the two biases always appear summed (PyTorch keeps both for cuDNN)."""
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _time_steps(length, reverse):
    return range(length - 1, -1, -1) if reverse else range(length)


def _reorder(w, order, scale=None):
    """w (4H, ...) with its four gate blocks taken in ``order`` (and scaled block by block)."""
    blocks = w.reshape(4, w.shape[0] // 4, -1)[order]
    if scale is not None:
        blocks = blocks * scale
    return blocks.reshape(w.shape)


def _forward_steps(ns, x, h0, c0, w_ih, w_hh, bias, reverse):
    """Run the cell over the sequence: lists, in time order, of h_t, c_t, the sigmoid
    gates (o, i, f) of each step side by side (N, 3H) and the candidate g (N, H)."""
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    halved = ns.constant(_HALVED, like=w_hh).reshape(4, 1, 1)
    # Every step's input share in one matrix product: z_t = W_ih x_t + b, halved rows.
    z_in = x.reshape(length * batch, -1) @ _reorder(w_ih, _INTERNAL, halved).T
    if bias is not None:
        z_in = z_in + _reorder(bias, _INTERNAL, halved)
    z_in = ns.unbind(z_in.reshape(length, batch, 4 * hidden))
    w_hh_t = ns.contiguous(_reorder(w_hh, _INTERNAL, halved).T)  # (H, 4H), read every step
    h, c = h0, c0
    hs, cs, sigmoids, candidates = (
        [None] * length,
        [None] * length,
        [None] * length,
        [None] * length,
    )
    for t in _time_steps(length, reverse):
        a = ns.tanh(z_in[t] + h @ w_hh_t)
        sigmoid = a[:, : 3 * hidden] * 0.5 + 0.5  # s(z) = (1 + tanh(z / 2)) / 2
        g = a[:, 3 * hidden :]
        o, i, f = sigmoid[:, :hidden], sigmoid[:, hidden : 2 * hidden], sigmoid[:, 2 * hidden :]
        c = f * c + i * g
        h = o * ns.tanh(c)
        hs[t], cs[t], sigmoids[t], candidates[t] = h, c, sigmoid, g
    return hs, cs, sigmoids, candidates


def _backward_steps(ns, grad_h, grad_c, x, h0, c0, w_ih, w_hh, states, reverse, needs):
    """Backpropagation through time: the gradients of (x, h0, c0, w_ih, w_hh, bias).

    ``grad_h`` (L, N, H) is dL/dh_t from the output, ``grad_c`` (N, H) dL/dc_n;
    ``states`` are (h_t, c_t, sigmoid gates, g) stacked over time (from
    ``_forward_steps``). Everything that does not wait for the step before is
    computed for the whole sequence at once; the loop keeps only dh, dc and dz.
    """
    hs, cs, sigmoid, g = states
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    o, i, f = sigmoid[..., :hidden], sigmoid[..., hidden : 2 * hidden], sigmoid[..., 2 * hidden :]
    tanh_c = ns.tanh(cs)
    slope = sigmoid * (1 - sigmoid)  # s'(z) = s (1 - s), for o, i, f side by side
    c_before = _started_from(ns, cs, c0, reverse)  # c_{t-1}
    # dz = dh * via_h for the o gate, dc * via_c for (i, f, g); dc += dh * h_to_c
    via_h = ns.unbind(tanh_c * slope[..., :hidden])
    via_c = ns.unbind(
        ns.stack(
            [
                g * slope[..., hidden : 2 * hidden],
                c_before * slope[..., 2 * hidden :],
                i * (1 - g * g),
            ],
            dim=2,
        )
    )
    h_to_c = ns.unbind(o * (1 - tanh_c * tanh_c))
    grad_h, forget = ns.unbind(grad_h), ns.unbind(f)
    w_hh_inner = _reorder(w_hh, _INTERNAL)
    dh_next, dc, dz = None, grad_c, [None] * length
    for t in reversed(_time_steps(length, reverse)):
        dh = grad_h[t] if dh_next is None else grad_h[t] + dh_next
        dc = dc + dh * h_to_c[t]
        dz[t] = ns.cat([dh * via_h[t], (dc[:, None] * via_c[t]).reshape(batch, 3 * hidden)], dim=1)
        dc = dc * forget[t]  # dL/dc_{t-1}
        dh_next = dz[t] @ w_hh_inner  # dL/dh_{t-1}
    dz = ns.stack(dz).reshape(length * batch, 4 * hidden)
    dx = (dz @ _reorder(w_ih, _INTERNAL)).reshape(x.shape) if needs[0] else None
    h_before = _started_from(ns, hs, h0, reverse).reshape(length * batch, hidden)
    dw_ih = _reorder(dz.T @ x.reshape(length * batch, -1), _PYTORCH) if needs[3] else None
    dw_hh = _reorder(dz.T @ h_before, _PYTORCH) if needs[4] else None
    db = _reorder(dz.sum(0), _PYTORCH) if len(needs) > 5 and any(needs[5:]) else None
    return dx, dh_next if needs[1] else None, dc if needs[2] else None, dw_ih, dw_hh, db


def _started_from(ns, states, first, reverse):
    """The state each step started from, in time order: the state of the step before
    (the one after, reading backwards), and the initial state for the first step."""
    if reverse:
        return ns.cat([states[1:], first[None]], dim=0)
    return ns.cat([first[None], states[:-1]], dim=0)


class _Arrays:
    """The few functions the steps need that are not operators, on backend arrays."""

    def __init__(self, xp):
        self.xp = xp
        self.tanh = xp.tanh

    def constant(self, values, like):
        return self.xp.asarray(values, dtype=like.dtype)

    def contiguous(self, a):
        return self.xp.ascontiguousarray(a)

    def unbind(self, a):
        return list(a)  # views a[0], a[1], ...

    def cat(self, arrays, dim):
        return self.xp.concatenate(arrays, axis=dim)

    def stack(self, arrays, dim=0):
        return self.xp.stack(arrays, axis=dim)


class _Tensors:
    """The same functions on Tensors, each recorded in the graph."""

    @staticmethod
    def tanh(t):
        return t.tanh()

    @staticmethod
    def constant(values, like):
        from minigrad.tensor import Tensor

        return Tensor(values, dtype=like.dtype, device=like.device)

    @staticmethod
    def contiguous(t):
        return t

    @staticmethod
    def unbind(t):
        return split_steps(t)

    @staticmethod
    def cat(tensors, dim):
        return cat(tensors, dim=dim)

    @staticmethod
    def stack(tensors, dim=0):
        return stack(tensors, dim=dim)


def split_steps(x):
    """x[0], ..., x[L-1], cut by halving x again and again.

    Why not x[t] for each t: the backward of a slice is an array of zeros the size of
    what it was cut from, with the slice's gradient written in. L slices of the whole
    sequence make L whole-sequence arrays, and adding them up is L passes over the
    whole sequence: work that grows as L^2 (an LSTM at L = 400 spent two thirds of its
    training step there). Halving cuts each piece from one twice its size: log2(L) levels,
    each about twice the sequence in all.

    >>> import minigrad
    >>> [step.tolist() for step in split_steps(minigrad.tensor([[1.0], [2.0], [3.0]]))]
    [[1.0], [2.0], [3.0]]
    """
    if x.shape[0] == 1:
        return [x[0]]
    half = x.shape[0] // 2
    return split_steps(x[:half]) + split_steps(x[half:])
