"""Recurrent layers: a network that reads a sequence one step at a time, carrying a state.

At every time step t a cell combines the input x_t with the previous hidden
state h_{t-1}; the same weights are used at every step. With W_i* acting on
the input and W_h* on the state (PyTorch's names and gate order):

    RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)          (or relu)

    LSTM  i, f, g, o = split(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)   4 gates
          c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)           a memory cell
          h_t = sigmoid(o) * tanh(c_t)

    GRU   r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)           reset gate
          z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)           update gate
          n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))        candidate
          h_t = (1 - z) * n + z * h_{t-1}

The cells are written with Tensor operations, so backpropagation through time of
a loop of cells is just ``backward()`` through the unrolled loop (``_run_steps``
does that over a sequence). The layers run each layer and direction as one op
instead (``LSTMSequence``, ``RNNSequence``, ``GRUSequence``, in
minigrad/ops/recurrent.py): the same formulas on arrays, with the backward through
time written by hand, a few array calls per step instead of a few dozen graph
nodes. In both, the input's share of every step, W_ih x_t + b_ih, is computed for
the whole sequence in one matmul before the loop; only the recurrent part has to
wait for the previous step.

Layers stack (``num_layers``: the outputs of one layer are the inputs of the
next) and may also read the sequence backwards (``bidirectional``: the two
directions' outputs are concatenated). Parameters are named as in PyTorch:
``weight_ih_l0`` (gates * hidden, input), ``weight_hh_l0`` (gates * hidden, hidden),
``bias_ih_l0``, ``bias_hh_l0``, then ``..._l0_reverse``, ``..._l1`` and so on, all
initialised from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""

from __future__ import annotations

import math
import warnings

from minigrad.factories import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from minigrad.ops.recurrent import split_steps as _split_steps
from minigrad.ops.shape import cat, stack

# --- one step of each cell: (input share gi, state) -> new state -----------------------


def _linear(x, weight, bias):
    y = x @ weight.T
    return y if bias is None else y + bias


def rnn_step(gi, h, w_hh, b_hh, nonlinearity="tanh"):
    """h' = act(gi + W_hh h + b_hh), where gi = W_ih x + b_ih.

    >>> import minigrad
    >>> h = minigrad.zeros(1, 2)
    >>> rnn_step(minigrad.tensor([[0.0, 100.0]]), h, minigrad.eye(2), None).tolist()
    [[0.0, 1.0]]
    """
    pre = gi + _linear(h, w_hh, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_step(gi, state, w_hh, b_hh):
    """(h', c') from gi = W_ih x + b_ih and (h, c); gates in PyTorch's order i, f, g, o.

    >>> import minigrad
    >>> h, c = minigrad.zeros(1, 1), minigrad.ones(1, 1)
    >>> gates = minigrad.zeros(1, 4)  # f = sigmoid(0) = 0.5, g = tanh(0) = 0: c' = c / 2
    >>> lstm_step(gates, (h, c), minigrad.zeros(4, 1), None)[1].tolist()
    [[0.5]]
    """
    h, c = state
    i, f, g, o = (gi + _linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_step(gi, h, w_hh, b_hh):
    """h' from gi = W_ih x + b_ih and h; gates in PyTorch's order r, z, n.

    The reset gate r multiplies the state's share of the candidate *after* its
    bias, (W_hn h + b_hn), as PyTorch (and cuDNN) do.

    >>> import minigrad
    >>> keep = minigrad.tensor([[0.0, 100.0, 0.0]])  # z = sigmoid(100) ~ 1: h' = h
    >>> gru_step(keep, minigrad.tensor([[0.5]]), minigrad.zeros(3, 1), None).tolist()
    [[0.5]]
    """
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = _linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return (1 - z) * n + z * h


_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step_for(mode):
    """The step function of a mode, as f(gi, state, w_hh, b_hh)."""
    if mode == "RNN_TANH":
        return lambda gi, h, w, b: rnn_step(gi, h, w, b, "tanh")
    if mode == "RNN_RELU":
        return lambda gi, h, w, b: rnn_step(gi, h, w, b, "relu")
    return lstm_step if mode == "LSTM" else gru_step


def _uniform_init(module, hidden_size):
    """PyTorch's init for every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for param in module.parameters():
        init.uniform_(param, -bound, bound)


def _nonlinearity_mode(nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity {nonlinearity!r}: use 'tanh' or 'relu'")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


# --- the layers over whole sequences -------------------------------------------------


class _RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters, the loops over layers, directions
    and time steps, and the shapes of inputs and states."""

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"dropout should be a number in [0, 1], got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} has no effect with num_layers=1: dropout is applied "
                "between stacked layers, after every layer but the last",
                stacklevel=3,
            )
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(
                f"hidden_size and num_layers must be positive, got {hidden_size}, {num_layers}"
            )
        self.mode = mode
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias = num_layers, bias
        self.batch_first, self.dropout = batch_first, float(dropout)
        self.bidirectional = bidirectional
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                names = _weight_names(layer, suffix)
                shapes = [(gates, layer_input), (gates, hidden_size), (gates,), (gates,)]
                for name, shape in zip(names[: 4 if bias else 2], shapes):
                    setattr(self, name, Parameter(zeros(*shape, dtype=dtype, device=device)))
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self, self.hidden_size)

    def _weights(self, layer, direction):
        """(w_ih, w_hh, b_ih, b_hh) of one layer and direction (biases may be None)."""
        w_ih, w_hh, b_ih, b_hh = _weight_names(layer, "_reverse" if direction else "")
        biases = (getattr(self, b_ih), getattr(self, b_hh)) if self.bias else (None, None)
        return (getattr(self, w_ih), getattr(self, w_hh)) + biases

    def forward(self, input, hx=None):
        """input (L, N, input_size), or (N, L, input_size) if batch_first, or (L, input_size).

        Returns (output, h_n) - (output, (h_n, c_n)) for an LSTM - with output holding
        the last layer's h_t for every t, (L, N, D * hidden_size), and h_n (and c_n)
        the final state of every layer and direction, (num_layers * D, N, hidden_size).
        """
        F._check_input(type(self).__name__, input, self.weight_ih_l0)
        batched = input.ndim == 3
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: expected a 2-d (unbatched) or 3-d input, got shape "
                f"{tuple(input.shape)}"
            )
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)  # the loop runs over the first axis: time
        if x.shape[2] != self.input_size:
            raise RuntimeError(
                f"{type(self).__name__}: input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {x.shape[2]}"
            )
        states = self._initial_states(hx, x, batched)
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                state = states[layer * directions + direction]
                seq, state = _run(self.mode, x, state, w_ih, w_hh, b_ih, b_hh, direction == 1)
                outputs.append(seq)
                finals.append(state)
            x = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        return self._package(x, finals, batched)

    def _initial_states(self, hx, x, batched):
        """One initial state per layer and direction: zeros unless ``hx`` gives them."""
        count, n = self.num_layers * (2 if self.bidirectional else 1), x.shape[1]
        expected = (count, n, self.hidden_size)
        parts = hx if isinstance(hx, (tuple, list)) else (hx,)
        if hx is None:
            parts = (zeros(*expected, dtype=x.dtype, device=x.device),) * (
                2 if self.mode == "LSTM" else 1
            )
        elif (self.mode == "LSTM") != isinstance(hx, (tuple, list)):
            raise TypeError(
                f"{type(self).__name__}: hx must be "
                + ("a tuple (h_0, c_0)" if self.mode == "LSTM" else "one tensor h_0")
            )
        elif not batched:
            parts = tuple(p.unsqueeze(1) for p in parts)
        for p in parts:
            F._check_input(f"{type(self).__name__} (hidden state)", p, self.weight_ih_l0)
            if tuple(p.shape) != expected:
                raise RuntimeError(
                    f"{type(self).__name__}: expected hidden state of shape {expected} "
                    f"(num_layers * num_directions, batch, hidden_size), got {tuple(p.shape)}"
                )
        if self.mode == "LSTM":
            return [(parts[0][k], parts[1][k]) for k in range(count)]
        return [parts[0][k] for k in range(count)]

    def _package(self, output, finals, batched):
        if self.mode == "LSTM":
            h_n, c_n = stack([h for h, _ in finals]), stack([c for _, c in finals])
        else:
            h_n, c_n = stack(finals), None
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


def _weight_names(layer, suffix):
    return [f"{kind}_l{layer}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _run(mode, seq, state, w_ih, w_hh, b_ih, b_hh, reverse):
    """One layer in one direction over the sequence (L, N, input): (outputs (L, N, H), state).

    Each mode runs the whole loop as one op, its backward through time written by
    hand (minigrad/ops/recurrent.py); ``_run_steps`` is the same loop in Tensor steps.
    """
    length = seq.shape[0]
    last = 0 if reverse else length - 1
    if mode == "LSTM":
        h0, c0 = state
        out = LSTMSequence.apply(seq, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
        return out[:length], (out[last], out[length])
    if mode in ("RNN_TANH", "RNN_RELU"):
        act = "tanh" if mode == "RNN_TANH" else "relu"
        out = RNNSequence.apply(
            seq, state, w_ih, w_hh, b_ih, b_hh, nonlinearity=act, reverse=reverse
        )
        return out, out[last]
    out = GRUSequence.apply(seq, state, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    return out, out[last]


def _run_steps(step, seq, state, w_ih, w_hh, b_ih, b_hh, reverse):
    """The same, one Tensor step at a time: backward() through the unrolled loop."""
    gi = _split_steps(_linear(seq, w_ih, b_ih))  # every step's input share, in one matmul
    length = seq.shape[0]
    outputs = [None] * length
    for t in reversed(range(length)) if reverse else range(length):
        state = step(gi[t], state, w_hh, b_hh)
        outputs[t] = state[0] if isinstance(state, tuple) else state
    return stack(outputs), state


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu).

    >>> import minigrad
    >>> rnn = RNN(3, 5, num_layers=2)
    >>> output, h_n = rnn(minigrad.zeros(7, 4, 3))
    >>> output.shape, h_n.shape
    ((7, 4, 5), (2, 4, 5))
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        mode = _nonlinearity_mode(nonlinearity)
        args = (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        super().__init__(mode, *args, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory: a cell state c_t that gates keep, forget and expose.

    >>> import minigrad
    >>> lstm = LSTM(3, 5, batch_first=True)
    >>> output, (h_n, c_n) = lstm(minigrad.zeros(4, 7, 3))
    >>> output.shape, h_n.shape, c_n.shape
    ((4, 7, 5), (1, 4, 5), (1, 4, 5))
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not implemented in minigrad")
        args = (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        super().__init__("LSTM", *args, device, dtype)


class GRU(_RNNBase):
    """Gated recurrent unit: a reset gate and an update gate, no separate cell state.

    >>> import minigrad
    >>> gru = GRU(3, 5, bidirectional=True)
    >>> output, h_n = gru(minigrad.zeros(7, 4, 3))
    >>> output.shape, h_n.shape
    ((7, 4, 10), (2, 4, 5))
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        args = (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        super().__init__("GRU", *args, device, dtype)


# --- single cells: one time step, for writing the loop yourself ---------------------------


class _CellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias, device, dtype):
        super().__init__()
        self.mode = mode
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(zeros(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(zeros(gates, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(zeros(gates, dtype=dtype, device=device))
            self.bias_hh = Parameter(zeros(gates, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_init(self, hidden_size)

    def forward(self, input, hx=None):
        """input (N, input_size) or (input_size,); hx like the state (zeros if None)."""
        F._check_input(type(self).__name__, input, self.weight_ih)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            h0 = zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            hx = (h0, h0) if self.mode == "LSTM" else h0
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if self.mode == "LSTM" else hx.unsqueeze(0)
        gi = _linear(x, self.weight_ih, self.bias_ih)
        out = _step_for(self.mode)(gi, hx, self.weight_hh, self.bias_hh)
        if batched:
            return out
        return tuple(o.squeeze(0) for o in out) if self.mode == "LSTM" else out.squeeze(0)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        return text


class RNNCell(_CellBase):
    """One step of an RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).

    >>> import minigrad
    >>> RNNCell(3, 5)(minigrad.zeros(4, 3)).shape
    (4, 5)
    """

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        mode = _nonlinearity_mode(nonlinearity)
        super().__init__(mode, input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity


class LSTMCell(_CellBase):
    """One step of an LSTM: (h', c') from x and (h, c).

    >>> import minigrad
    >>> h, c = LSTMCell(3, 5)(minigrad.zeros(4, 3))
    >>> h.shape, c.shape
    ((4, 5), (4, 5))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)


class GRUCell(_CellBase):
    """One step of a GRU: h' from x and h.

    >>> import minigrad
    >>> GRUCell(3, 5)(minigrad.zeros(4, 3)).shape
    (4, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)
