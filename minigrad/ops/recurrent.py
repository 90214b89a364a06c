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

Three tricks keep the array calls per step few and fast (the time of a small
LSTM is the number of calls, not the arithmetic):
- s(z) = (1 + tanh(z / 2)) / 2, so with the sigmoid gates' rows of the weights
  halved (exact in binary floating point), one tanh over all four gates does
  the work of three sigmoids and a tanh;
- inside the op the gates are kept in the order (o, i, f, g), so the three
  sigmoids are one slice; only the weights are reordered (once per call), the
  caller sees PyTorch's order;
- inside the loops the states are transposed, (H, N), so that every array a step
  touches is contiguous (see the note above ``_forward_arrays``).

Beside the fast version on arrays, the same formulas are written plainly with
Tensor operations (``_reference_backward``: PyTorch's gate order, no tricks).
That one runs when the backward pass is itself being recorded
(``create_graph=True``, second derivatives), so the backward is differentiable
too (PyTorch's cuDNN LSTM has no double backward; this one keeps it), and the
tests check the fast version against it.

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
        _check_dtypes(x, h0=h0, c0=c0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
        bias = _joint_bias(b_ih, b_hh)
        output, ctx.gates, ctx.cells, ctx.tanh_cells = _forward_arrays(
            ctx.xp, x, h0, c0, w_ih, w_hh, bias, reverse
        )
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, output = ctx.saved
        if mode.grad_enabled:  # create_graph: the plain version, on the graph's Tensors
            grads = _reference_backward(grad, x, h0, c0, w_ih, w_hh, b_ih, b_hh, ctx.reverse)
        else:
            given, weights = (x.data, h0.data, c0.data), (w_ih.data, w_hh.data)
            saved = (output.data, ctx.gates, ctx.cells, ctx.tanh_cells)
            grads = _backward_arrays(
                ctx.xp, grad.data, given, weights, saved, ctx.reverse, ctx.needs_input_grad
            )
        dx, dh0, dc0, dw_ih, dw_hh, db = grads
        # both biases get the gradient of their sum
        return (dx, dh0, dc0, dw_ih, dw_hh, db, db)[: len(ctx.needs_input_grad)]


def _check_dtypes(x, **others):
    """One dtype for every input, as PyTorch's LSTM asks (no silent promotion)."""
    for name, value in others.items():
        if value is not None and value.dtype != x.dtype:
            raise RuntimeError(
                f"lstm: expected every input to have x's dtype {x.dtype}, but {name} is "
                f"{value.dtype}; convert one of them first, e.g. x.float() or lstm.double()"
            )


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


def _started_from(concatenate, states, first, reverse):
    """The state each step started from, in time order: the state of the step before
    (the one after, reading backwards), and the initial state for the first step."""
    if reverse:
        return concatenate([states[1:], first[None]], 0)
    return concatenate([first[None], states[:-1]], 0)


# --- the fast version, on arrays: few calls per step, every buffer allocated once -------
#
# Writes go through ``out=`` into named buffers, and the code goes on with those names,
# never with the value an ``out=`` call returns: NumPy and CuPy return ``out`` itself,
# but not every array module does (the strict test device returns a new wrapper), and
# minigrad.compile must see which buffer each later in-place write lands in.
#
# Layout: inside the loops every state is transposed, (H, N): a step's gates are then
# the contiguous (4H, N) = W_hh h^T + (input share), and each gate is a contiguous
# block of rows. NumPy runs an elementwise op on a contiguous array in one inner loop;
# on an (N, H) slice of (N, 4H) rows it runs N short loops, several times slower at
# this size (0.6 us against 3.6 us for N = 32, H = 64). Only the output is turned back
# to (L + 1, N, H), as a transposed view.


def _forward_arrays(xp, x, h0, c0, w_ih, w_hh, bias, reverse):
    """(output, gates, c_t, tanh c_t): the op's output and what its backward reads.

    ``gates`` (L, 4H, N) holds every step's gate values, in the order (o, i, f, g); it
    starts as the input's share of z, and each step turns its slice into the gates.
    """
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    halved = xp.asarray(_HALVED, dtype=w_hh.dtype).reshape(4, 1, 1)
    # every step's input share in one batched product, (4H, in + 1) @ (L, in + 1, N): the
    # bias rides along as the weight of one more input that is always 1
    w_in = _reorder(w_ih, _INTERNAL, halved)
    if bias is not None:
        w_in = xp.concatenate([w_in, _reorder(bias, _INTERNAL, halved)[:, None]], axis=1)
    gates = xp.matmul(w_in, _inputs_transposed(xp, x, with_ones=bias is not None))
    w_hh_inner = _reorder(w_hh, _INTERNAL, halved)  # (4H, H), read every step
    states = xp.empty((length + 1, hidden, batch), dtype=x.dtype)  # h_t^T, then c_n^T
    cells, tanh_cells = xp.empty_like(states[:length]), xp.empty_like(states[:length])
    recurrent, input_part = xp.empty_like(gates[0]), xp.empty_like(states[0])
    h, c = h0.T, c0.T
    for t in _time_steps(length, reverse):
        a = gates[t]
        xp.matmul(w_hh_inner, h, out=recurrent)
        a += recurrent
        xp.tanh(a, out=a)  # tanh(z / 2) for o, i, f (halved rows), tanh(z) for g
        sigmoids = a[: 3 * hidden]
        sigmoids *= 0.5
        sigmoids += 0.5  # s(z) = (1 + tanh(z / 2)) / 2
        o, i, f, g = (a[k * hidden : (k + 1) * hidden] for k in range(4))
        c_t, tanh_c, h = cells[t], tanh_cells[t], states[t]
        xp.multiply(f, c, out=c_t)
        xp.multiply(i, g, out=input_part)
        c_t += input_part
        xp.tanh(c_t, out=tanh_c)
        xp.multiply(o, tanh_c, out=h)
        c = c_t
    states[length] = c
    return states.transpose(0, 2, 1), gates, cells, tanh_cells


def _inputs_transposed(xp, x, with_ones):
    """x_t^T for every step, (L, in, N), contiguous (a batched product reads it 2.5x
    faster than a transposed view), with a row of ones below if ``with_ones``."""
    length, batch, size = x.shape
    out = xp.empty((length, size + (1 if with_ones else 0), batch), dtype=x.dtype)
    out[:, :size] = x.transpose(0, 2, 1)
    if with_ones:
        out[:, size] = 1
    return out


def _columns(xp, per_step):
    """(L, K, N) -> (K, L N): a column per step and batch entry, for one matrix product."""
    return xp.ascontiguousarray(per_step.transpose(1, 0, 2)).reshape(per_step.shape[1], -1)


def _backward_arrays(xp, grad, given, weights, saved, reverse, needs):
    """Backpropagation through time on arrays: the gradients of (x, h0, c0, w_ih, w_hh, b).

    Whatever does not wait for the step before is computed for the whole sequence at
    once; the loop keeps only dh, dc and one step of dz (all transposed, (H, N)).
    """
    (x, h0, c0), (w_ih, w_hh), (output, gates, cells, tanh_cells) = given, weights, saved
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    states = output.transpose(0, 2, 1)  # (L + 1, H, N): h_t^T, then c_n^T
    grad = xp.ascontiguousarray(grad.transpose(0, 2, 1))
    o, i, f, g = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
    # dz = (dh, dc, dc, dc) * via, gate by gate (the gates' order is o, i, f, g), each
    # factor computed in place, without whole-sequence temporaries:
    via = xp.empty_like(gates)
    via_o, via_i, via_f, via_g = (via[:, k * hidden : (k + 1) * hidden] for k in range(4))
    sigmoids = gates[:, : 3 * hidden]
    slopes = via[:, : 3 * hidden]
    xp.subtract(1, sigmoids, out=slopes)
    slopes *= sigmoids  # s'(z) = s (1 - s), for o, i, f
    via_o *= tanh_cells  # dz_o = dh tanh(c_t) o (1 - o)
    via_i *= g  # dz_i = dc g i (1 - i)
    via_f *= _started_from(xp.concatenate, cells, c0.T, reverse)  # dz_f = dc c_{t-1} f (1 - f)
    xp.multiply(g, g, out=via_g)
    xp.subtract(1, via_g, out=via_g)
    via_g *= i  # dz_g = dc i (1 - g^2)
    h_to_c = tanh_cells * tanh_cells
    xp.subtract(1, h_to_c, out=h_to_c)
    h_to_c *= o  # dc += dh o (1 - tanh^2 c_t)
    w_hh_t = xp.ascontiguousarray(_reorder(w_hh, _INTERNAL).T)  # (H, 4H)
    dz = xp.empty_like(gates)
    dz_o, dz_i, dz_f, dz_g = (dz[:, k * hidden : (k + 1) * hidden] for k in range(4))
    dc = grad[length].copy()
    dh, dh_next, scratch = xp.empty_like(dc), xp.zeros_like(dc), xp.empty_like(dc)
    for t in reversed(_time_steps(length, reverse)):
        xp.add(grad[t], dh_next, out=dh)
        xp.multiply(dh, h_to_c[t], out=scratch)
        dc += scratch
        xp.multiply(dh, via_o[t], out=dz_o[t])
        xp.multiply(dc, via_i[t], out=dz_i[t])
        xp.multiply(dc, via_f[t], out=dz_f[t])
        xp.multiply(dc, via_g[t], out=dz_g[t])
        dc *= f[t]  # dL/dc_{t-1}
        xp.matmul(w_hh_t, dz[t], out=dh_next)  # dL/dh_{t-1}
    dz = _columns(xp, dz)  # (4H, L N)
    dx = None
    if needs[0]:
        dx = xp.matmul(dz.T, _reorder(w_ih, _INTERNAL)).reshape(x.shape)
    h_before = _columns(xp, _started_from(xp.concatenate, states[:length], h0.T, reverse))
    dw_ih = _reorder(dz @ x.reshape(length * batch, -1), _PYTORCH) if needs[3] else None
    dw_hh = _reorder(dz @ h_before.T, _PYTORCH) if needs[4] else None
    db = _reorder(dz.sum(axis=1), _PYTORCH) if any(needs[5:]) else None
    return dx, dh_next.T if needs[1] else None, dc.T if needs[2] else None, dw_ih, dw_hh, db


# --- the plain version, on Tensors: the formulas as written, differentiable again --------


def _reference_forward(x, h0, c0, w_ih, w_hh, bias, reverse):
    """Every step's (h_t, c_t, i, f, g, o), stacked over time: PyTorch's gate order, no tricks."""
    length, hidden = x.shape[0], h0.shape[-1]
    z_in = x @ w_ih.T if bias is None else x @ w_ih.T + bias
    z_in = split_steps(z_in)
    h, c = h0, c0
    steps = [None] * length
    for t in _time_steps(length, reverse):
        z = z_in[t] + h @ w_hh.T
        i, f, o = (z[:, k * hidden : (k + 1) * hidden].sigmoid() for k in (0, 1, 3))
        g = z[:, 2 * hidden : 3 * hidden].tanh()
        c = f * c + i * g
        h = o * c.tanh()
        steps[t] = (h, c, i, f, g, o)
    return [stack(values) for values in zip(*steps)]


def _cat(tensors, dim):
    return cat(tensors, dim=dim)


def _reference_backward(grad, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The gradients of (x, h0, c0, w_ih, w_hh, b) with Tensor ops, by the formulas of
    the module's docstring: the plain version of ``_backward_arrays``, used when the
    backward pass is itself recorded (create_graph), and by the tests."""
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    bias = _joint_bias(b_ih, b_hh)
    hs, cs, i, f, g, o = _reference_forward(x, h0, c0, w_ih, w_hh, bias, reverse)
    tanh_c = cs.tanh()
    per_step = (i, f, g, o, tanh_c, _started_from(_cat, cs, c0, reverse))
    per_step = [split_steps(values) for values in per_step]
    grad_h = split_steps(grad[:length])
    dh_next, dc, dz = None, grad[length], [None] * length
    for t in reversed(_time_steps(length, reverse)):
        i_t, f_t, g_t, o_t, tanh_t, c_before_t = (values[t] for values in per_step)
        dh = grad_h[t] if dh_next is None else grad_h[t] + dh_next
        dc = dc + dh * o_t * (1 - tanh_t * tanh_t)
        dz_i = dc * g_t * i_t * (1 - i_t)
        dz_f = dc * c_before_t * f_t * (1 - f_t)
        dz_g = dc * i_t * (1 - g_t * g_t)
        dz_o = dh * tanh_t * o_t * (1 - o_t)
        dz[t] = cat([dz_i, dz_f, dz_g, dz_o], dim=1)
        dc = dc * f_t  # dL/dc_{t-1}
        dh_next = dz[t] @ w_hh  # dL/dh_{t-1}
    dz = stack(dz).reshape(length * batch, 4 * hidden)
    h_before = _started_from(_cat, hs, h0, reverse).reshape(length * batch, hidden)
    dx = (dz @ w_ih).reshape(x.shape)
    dw_ih = dz.T @ x.reshape(length * batch, -1)
    return dx, dh_next, dc, dw_ih, dz.T @ h_before, dz.sum(0)


# --- the Elman RNN, the same way: one op for a layer-direction -----------------------------


class RNNSequence(Function):
    """h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) for every t, act = tanh or relu;
    dz_t = dL/dh_t act'(z_t),  dL/dh_{t-1} += dz_t W_hh,  dW and db summed over t

    Inputs: x (L, N, input), h0 (N, H), w_ih (H, input), w_hh (H, H), the biases (H,)
    or None; ``nonlinearity`` "tanh" or "relu". The output is h_t for every t, (L, N, H),
    in time order (the final state is its last row, or its first with ``reverse``).
    act' comes from the output itself: 1 - h^2 for tanh, [h > 0] for relu.

    >>> import minigrad
    >>> x, h0, w = minigrad.ones(2, 1, 1), minigrad.zeros(1, 1), minigrad.ones(1, 1)
    >>> RNNSequence.apply(x, h0, w, w, nonlinearity="relu").tolist()  # h_t = h_{t-1} + 1
    [[[1.0]], [[2.0]]]
    """

    @staticmethod
    def forward(
        ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh", reverse=False
    ):
        require_floating(x, "rnn")
        _check_dtypes(x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
        ctx.relu, ctx.reverse = nonlinearity == "relu", reverse
        bias = _joint_bias(b_ih, b_hh)
        output = _rnn_forward_arrays(ctx.xp, x, h0, w_ih, w_hh, bias, ctx.relu, reverse)
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh, b_ih, b_hh, output = ctx.saved
        if mode.grad_enabled:  # create_graph: the plain version, on the graph's Tensors
            bias = _joint_bias(b_ih, b_hh)
            grads = _rnn_reference_backward(grad, x, h0, w_ih, w_hh, bias, ctx.relu, ctx.reverse)
        else:
            given = (x.data, h0.data, w_ih.data, w_hh.data, output.data)
            grads = _rnn_backward_arrays(
                ctx.xp, grad.data, given, ctx.relu, ctx.reverse, ctx.needs_input_grad
            )
        dx, dh0, dw_ih, dw_hh, db = grads
        return (dx, dh0, dw_ih, dw_hh, db, db)[: len(ctx.needs_input_grad)]


def _rnn_forward_arrays(xp, x, h0, w_ih, w_hh, bias, relu, reverse):
    """h_t for every t, (L, N, H): a transposed view of (L, H, N), as for the LSTM."""
    length = x.shape[0]
    w_in = w_ih if bias is None else xp.concatenate([w_ih, bias[:, None]], axis=1)
    states = xp.matmul(w_in, _inputs_transposed(xp, x, with_ones=bias is not None))
    recurrent, h = xp.empty_like(states[0]), h0.T
    for t in _time_steps(length, reverse):
        z = states[t]  # the input's share; the step adds W_hh h and applies act in place
        xp.matmul(w_hh, h, out=recurrent)
        z += recurrent
        if relu:
            xp.maximum(z, 0, out=z)
        else:
            xp.tanh(z, out=z)
        h = z
    return states.transpose(0, 2, 1)


def _rnn_backward_arrays(xp, grad, given, relu, reverse, needs):
    """Backpropagation through time for the RNN: (dx, dh0, dW_ih, dW_hh, db)."""
    x, h0, w_ih, w_hh, output = given
    length, batch = x.shape[0], x.shape[1]
    states = output.transpose(0, 2, 1)  # (L, H, N)
    grad = xp.ascontiguousarray(grad.transpose(0, 2, 1))
    if relu:
        slope = (states > 0).astype(states.dtype)
    else:
        slope = states * states
        xp.subtract(1, slope, out=slope)
    w_hh_t = xp.ascontiguousarray(w_hh.T)
    dz, dh_next = xp.empty_like(states), xp.zeros_like(states[0])
    for t in reversed(_time_steps(length, reverse)):
        dz_t = dz[t]
        xp.add(grad[t], dh_next, out=dz_t)
        dz_t *= slope[t]
        xp.matmul(w_hh_t, dz_t, out=dh_next)  # dL/dh_{t-1}
    dz = _columns(xp, dz)  # (H, L N)
    dx = xp.matmul(dz.T, w_ih).reshape(x.shape) if needs[0] else None
    h_before = _columns(xp, _started_from(xp.concatenate, states, h0.T, reverse))
    dw_ih = dz @ x.reshape(length * batch, -1) if needs[2] else None
    dw_hh = dz @ h_before.T if needs[3] else None
    db = dz.sum(axis=1) if any(needs[4:]) else None
    return dx, dh_next.T if needs[1] else None, dw_ih, dw_hh, db


def _rnn_reference_backward(grad, x, h0, w_ih, w_hh, bias, relu, reverse):
    """The RNN's gradients with Tensor ops, plainly: used when the backward is recorded."""
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    z_in = split_steps(x @ w_ih.T if bias is None else x @ w_ih.T + bias)
    h, hs = h0, [None] * length
    for t in _time_steps(length, reverse):
        z = z_in[t] + h @ w_hh.T
        h = hs[t] = z.relu() if relu else z.tanh()
    hs = stack(hs)
    slope = (hs.detach() > 0).astype(hs.dtype) if relu else 1 - hs * hs
    grad_h, slope = split_steps(grad), split_steps(slope)
    dh_next, dz = None, [None] * length
    for t in reversed(_time_steps(length, reverse)):
        dh = grad_h[t] if dh_next is None else grad_h[t] + dh_next
        dz[t] = dh * slope[t]
        dh_next = dz[t] @ w_hh
    dz = stack(dz).reshape(length * batch, hidden)
    h_before = _started_from(_cat, hs, h0, reverse).reshape(length * batch, hidden)
    dx = (dz @ w_ih).reshape(x.shape)
    return dx, dh_next, dz.T @ x.reshape(length * batch, -1), dz.T @ h_before, dz.sum(0)


# --- the GRU, the same way ---------------------------------------------------------------


class GRUSequence(Function):
    """h_t = (1 - z) n + z h_{t-1} with r, z = s(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h + b_h{r,z}),
    n = tanh(W_in x_t + b_in + r (W_hn h + b_hn));  backward through time by hand:
    dn = dh (1 - z) (1 - n^2) (for n's pre-activation), dz = dh (h_{t-1} - n) z (1 - z),
    dr = dn (W_hn h + b_hn) r (1 - r), dL/dh_{t-1} = dh z + [dr, dz, dn r] W_hh

    Inputs: x (L, N, input), h0 (N, H), w_ih (3H, input), w_hh (3H, H), the biases (3H,)
    or None, gates in PyTorch's order (r, z, n). The output is h_t for every t, (L, N, H).

    >>> import minigrad
    >>> x, h0 = minigrad.zeros(2, 1, 1), minigrad.ones(1, 1)
    >>> w = minigrad.zeros(3, 1)  # z = 1/2, n = 0: h halves every step
    >>> GRUSequence.apply(x, h0, w, w).tolist()
    [[[0.5]], [[0.25]]]
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False):
        require_floating(x, "gru")
        _check_dtypes(x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
        ctx.reverse = reverse
        output, *ctx.arrays = _gru_forward_arrays(ctx.xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh, b_ih, b_hh, output = ctx.saved
        if mode.grad_enabled:  # create_graph: the plain version, on the graph's Tensors
            grads = _gru_reference_backward(grad, x, h0, w_ih, w_hh, b_ih, b_hh, ctx.reverse)
        else:
            given = (x.data, h0.data, w_ih.data, w_hh.data, output.data, *ctx.arrays)
            grads = _gru_backward_arrays(
                ctx.xp, grad.data, given, ctx.reverse, ctx.needs_input_grad
            )
        return grads[: len(ctx.needs_input_grad)]


def _gru_forward_arrays(xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """(output, gates, W_hh h + b_hh): h_t for every t (a transposed view, as for the
    LSTM), every step's (r, z, n), and every step's recurrent share, for the backward."""
    length, hidden = x.shape[0], h0.shape[-1]
    halved = xp.asarray((0.5, 0.5, 1.0), dtype=w_hh.dtype).reshape(3, 1, 1)
    # b_hr and b_hz add to the input share like b_ir and b_iz; b_hn stays inside r (...)
    bias = None
    if b_ih is not None or b_hh is not None:
        zero = xp.zeros_like(w_hh[:, 0])
        bias = (zero if b_ih is None else b_ih) + xp.concatenate(
            [zero[: 2 * hidden] if b_hh is None else b_hh[: 2 * hidden], zero[2 * hidden :]]
        )
        bias = _scale_blocks(bias, halved)
    w_in = _scale_blocks(w_ih, halved)
    if bias is not None:
        w_in = xp.concatenate([w_in, bias[:, None]], axis=1)
    gates = xp.matmul(w_in, _inputs_transposed(xp, x, with_ones=bias is not None))
    w_hh_halved = _scale_blocks(w_hh, halved)
    b_hn = None if b_hh is None else b_hh[2 * hidden :, None]
    recurrent = xp.empty_like(gates)  # W_hh h + b_hh (r, z rows halved), kept per step
    states = xp.empty((length, hidden, x.shape[1]), dtype=x.dtype)
    scratch = xp.empty_like(states[0])
    h = h0.T
    for t in _time_steps(length, reverse):
        a, rec = gates[t], recurrent[t]
        xp.matmul(w_hh_halved, h, out=rec)
        rec_n = rec[2 * hidden :]
        if b_hn is not None:
            rec_n += b_hn
        r_and_z = a[: 2 * hidden]
        r_and_z += rec[: 2 * hidden]
        xp.tanh(r_and_z, out=r_and_z)  # tanh(z / 2): halved rows
        r_and_z *= 0.5
        r_and_z += 0.5  # s(z) = (1 + tanh(z / 2)) / 2
        r, z, n = a[:hidden], a[hidden : 2 * hidden], a[2 * hidden :]
        xp.multiply(r, rec_n, out=scratch)
        n += scratch
        xp.tanh(n, out=n)
        xp.subtract(h, n, out=scratch)
        scratch *= z
        h = states[t]
        xp.add(n, scratch, out=h)  # (1 - z) n + z h = n + z (h - n)
    return states.transpose(0, 2, 1), gates, recurrent


def _scale_blocks(w, scale):
    """w (3H, ...) with each of its three gate blocks multiplied by its entry of ``scale``."""
    return (w.reshape(3, w.shape[0] // 3, -1) * scale).reshape(w.shape)


def _gru_backward_arrays(xp, grad, given, reverse, needs):
    """Backpropagation through time for the GRU: (dx, dh0, dW_ih, dW_hh, db_ih, db_hh)."""
    x, h0, w_ih, w_hh, output, gates, recurrent = given
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    states = output.transpose(0, 2, 1)  # (L, H, N)
    grad = xp.ascontiguousarray(grad.transpose(0, 2, 1))
    r, z, n = (gates[:, k * hidden : (k + 1) * hidden] for k in range(3))
    rec_n = recurrent[:, 2 * hidden :]  # W_hn h_{t-1} + b_hn (not halved)
    h_before = _started_from(xp.concatenate, states, h0.T, reverse)
    # every gate's gradient is dh times a factor: dz_pre = dh * via_h[t] block by block,
    # the recurrent share's gradient dh * via_h, the input share's dh * via_x
    via_h = xp.empty_like(gates)
    via_r, via_z, via_n = (via_h[:, k * hidden : (k + 1) * hidden] for k in range(3))
    xp.multiply(n, n, out=via_n)
    xp.subtract(1, via_n, out=via_n)
    via_n *= 1 - z  # d(n's pre-activation) = dh (1 - z) (1 - n^2)
    xp.multiply(r, 1 - r, out=via_r)
    via_r *= rec_n
    via_r *= via_n  # d(r's pre-activation) = dn (W_hn h + b_hn) r (1 - r)
    xp.multiply(z, 1 - z, out=via_z)
    via_z *= h_before - n  # d(z's pre-activation) = dh (h_{t-1} - n) z (1 - z)
    via_x_n = via_n.copy()  # the input share of n is not multiplied by r
    via_n *= r  # the recurrent share of n is: dL/d(W_hn h + b_hn) = dn r
    w_hh_t = xp.ascontiguousarray(w_hh.T)
    d_rec, d_in_n = xp.empty_like(gates), xp.empty_like(states)
    dh, dh_next, scratch = (
        xp.empty_like(states[0]),
        xp.zeros_like(states[0]),
        xp.empty_like(states[0]),
    )
    d_rec_r, d_rec_z, d_rec_n = (d_rec[:, k * hidden : (k + 1) * hidden] for k in range(3))
    for t in reversed(_time_steps(length, reverse)):
        xp.add(grad[t], dh_next, out=dh)
        xp.multiply(dh, via_r[t], out=d_rec_r[t])
        xp.multiply(dh, via_z[t], out=d_rec_z[t])
        xp.multiply(dh, via_n[t], out=d_rec_n[t])
        xp.multiply(dh, via_x_n[t], out=d_in_n[t])
        xp.matmul(w_hh_t, d_rec[t], out=dh_next)
        xp.multiply(dh, z[t], out=scratch)
        dh_next += scratch  # dL/dh_{t-1}
    d_in = d_rec.copy()
    d_in[:, 2 * hidden :] = d_in_n
    d_rec = _columns(xp, d_rec)
    d_in = _columns(xp, d_in)
    dx = xp.matmul(d_in.T, w_ih).reshape(x.shape) if needs[0] else None
    dw_ih = d_in @ x.reshape(length * batch, -1) if needs[2] else None
    dw_hh = d_rec @ _columns(xp, h_before).T if needs[3] else None
    db_ih = d_in.sum(axis=1) if len(needs) > 4 and needs[4] else None
    db_hh = d_rec.sum(axis=1) if len(needs) > 5 and needs[5] else None
    return dx, dh_next.T if needs[1] else None, dw_ih, dw_hh, db_ih, db_hh


def _gru_reference_backward(grad, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The GRU's gradients with Tensor ops, plainly: used when the backward is recorded."""
    length, batch, hidden = x.shape[0], x.shape[1], h0.shape[-1]
    z_in = split_steps(x @ w_ih.T if b_ih is None else x @ w_ih.T + b_ih)
    h, steps = h0, [None] * length
    for t in _time_steps(length, reverse):
        rec = h @ w_hh.T if b_hh is None else h @ w_hh.T + b_hh
        r = (z_in[t][:, :hidden] + rec[:, :hidden]).sigmoid()
        z = (z_in[t][:, hidden : 2 * hidden] + rec[:, hidden : 2 * hidden]).sigmoid()
        n = (z_in[t][:, 2 * hidden :] + r * rec[:, 2 * hidden :]).tanh()
        steps[t] = (h, r, z, n, rec[:, 2 * hidden :])
        h = (1 - z) * n + z * h
    grad_h = split_steps(grad)
    dh_next, d_in, d_rec = None, [None] * length, [None] * length
    for t in reversed(_time_steps(length, reverse)):
        h_before, r, z, n, rec_n = steps[t]
        dh = grad_h[t] if dh_next is None else grad_h[t] + dh_next
        dn = dh * (1 - z) * (1 - n * n)
        dz = dh * (h_before - n) * z * (1 - z)
        dr = dn * rec_n * r * (1 - r)
        d_in[t] = cat([dr, dz, dn], dim=1)
        d_rec[t] = cat([dr, dz, dn * r], dim=1)
        dh_next = dh * z + d_rec[t] @ w_hh
    d_in = stack(d_in).reshape(length * batch, 3 * hidden)
    d_rec = stack(d_rec).reshape(length * batch, 3 * hidden)
    h_before = stack([step[0] for step in steps]).reshape(length * batch, hidden)
    dx = (d_in @ w_ih).reshape(x.shape)
    dw_ih, dw_hh = d_in.T @ x.reshape(length * batch, -1), d_rec.T @ h_before
    return dx, dh_next, dw_ih, dw_hh, d_in.sum(0), d_rec.sum(0)


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
