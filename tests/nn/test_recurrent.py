"""RNN, LSTM, GRU and their cells: PyTorch's parameter names and shapes, values against
the formulas written out in NumPy, and derivatives against finite differences."""

import math

import numpy
import pytest

import minigrad
from minigrad.nn import GRU, LSTM, RNN
from minigrad.nn.layers.recurrent import GRUCell, LSTMCell, RNNCell, _split_steps
from minigrad.testing import gradcheck

# --- the formulas, in NumPy -------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + numpy.exp(-x))


def numpy_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One time step written from the papers' equations (PyTorch's gate order)."""
    hidden = h.shape[-1]

    def part(w, k):  # the k-th gate's rows of a stacked weight or bias
        return w[k * hidden : (k + 1) * hidden]

    if mode in ("tanh", "relu"):
        pre = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        return (numpy.tanh(pre) if mode == "tanh" else numpy.maximum(pre, 0.0)), None
    if mode == "lstm":
        gate = [
            x @ part(w_ih, k).T + part(b_ih, k) + h @ part(w_hh, k).T + part(b_hh, k)
            for k in range(4)
        ]
        i, f, g, o = _sigmoid(gate[0]), _sigmoid(gate[1]), numpy.tanh(gate[2]), _sigmoid(gate[3])
        c_new = f * c + i * g
        return o * numpy.tanh(c_new), c_new
    # GRU: reset r, update z, candidate n
    r = _sigmoid(x @ part(w_ih, 0).T + part(b_ih, 0) + h @ part(w_hh, 0).T + part(b_hh, 0))
    z = _sigmoid(x @ part(w_ih, 1).T + part(b_ih, 1) + h @ part(w_hh, 1).T + part(b_hh, 1))
    n = numpy.tanh(x @ part(w_ih, 2).T + part(b_ih, 2) + r * (h @ part(w_hh, 2).T + part(b_hh, 2)))
    return (1 - z) * n + z * h, None


def numpy_sequence(mode, params, x, h0, c0, num_layers, bidirectional):
    """The whole stacked (bi)directional layer, loop by loop: output and final states."""
    directions = 2 if bidirectional else 1
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w = [params[k + suffix] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h, c = h0[layer * directions + d], c0[layer * directions + d]
            out = [None] * len(x)
            for t in reversed(range(len(x))) if d else range(len(x)):
                h, c = numpy_step(mode, x[t], h, c, *w)
                out[t] = h
            outs.append(numpy.stack(out))
            h_n.append(h)
            c_n.append(c)
        x = numpy.concatenate(outs, axis=-1)
    return x, numpy.stack(h_n), (numpy.stack(c_n) if mode == "lstm" else None)


def _numpy_params(module):
    return {k: v.numpy() for k, v in module.state_dict().items()}


MODES = {"tanh": RNN, "relu": RNN, "lstm": LSTM, "gru": GRU}


def _make(mode, *args, **kwargs):
    if mode == "relu":
        kwargs["nonlinearity"] = "relu"
    return MODES[mode](*args, **kwargs).double()


# --- parameters ---------------------------------------------------------------------------


def test_lstm_state_dict_has_pytorchs_keys_and_shapes():
    lstm = LSTM(3, 5, num_layers=2)
    assert [(k, v.shape) for k, v in lstm.state_dict().items()] == [
        ("weight_ih_l0", (20, 3)),
        ("weight_hh_l0", (20, 5)),
        ("bias_ih_l0", (20,)),
        ("bias_hh_l0", (20,)),
        ("weight_ih_l1", (20, 5)),
        ("weight_hh_l1", (20, 5)),
        ("bias_ih_l1", (20,)),
        ("bias_hh_l1", (20,)),
    ]


def test_bidirectional_gru_and_biasless_rnn_keys():
    gru = GRU(3, 4, num_layers=2, bidirectional=True)
    assert [(k, v.shape) for k, v in gru.state_dict().items()] == [
        ("weight_ih_l0", (12, 3)),
        ("weight_hh_l0", (12, 4)),
        ("bias_ih_l0", (12,)),
        ("bias_hh_l0", (12,)),
        ("weight_ih_l0_reverse", (12, 3)),
        ("weight_hh_l0_reverse", (12, 4)),
        ("bias_ih_l0_reverse", (12,)),
        ("bias_hh_l0_reverse", (12,)),
        ("weight_ih_l1", (12, 8)),  # layer 1 reads both directions of layer 0
        ("weight_hh_l1", (12, 4)),
        ("bias_ih_l1", (12,)),
        ("bias_hh_l1", (12,)),
        ("weight_ih_l1_reverse", (12, 8)),
        ("weight_hh_l1_reverse", (12, 4)),
        ("bias_ih_l1_reverse", (12,)),
        ("bias_hh_l1_reverse", (12,)),
    ]
    assert list(RNN(2, 3, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert list(LSTMCell(2, 3).state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert GRUCell(2, 3).weight_ih.shape == (9, 2)


def test_every_recurrent_parameter_starts_uniform_in_plus_minus_one_over_sqrt_hidden():
    bound = 1 / math.sqrt(16)
    for module in (LSTM(8, 16, num_layers=2), GRU(8, 16), RNN(8, 16), LSTMCell(8, 16)):
        for name, p in module.named_parameters():
            values = p.numpy()
            assert values.min() >= -bound and values.max() <= bound, name
            assert values.max() > 0.7 * bound and values.min() < -0.7 * bound, name


def test_reprs_read_like_pytorch():
    assert repr(LSTM(3, 5, num_layers=2, batch_first=True)) == (
        "LSTM(3, 5, num_layers=2, batch_first=True)"
    )
    assert repr(RNN(3, 5, nonlinearity="relu", bidirectional=True)) == (
        "RNN(3, 5, nonlinearity='relu', bidirectional=True)"
    )
    assert repr(GRUCell(3, 5, bias=False)) == "GRUCell(3, 5, bias=False)"


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["tanh", "relu", "lstm", "gru"])
def test_one_step_matches_the_formulas(mode):
    rng = numpy.random.default_rng(0)
    module = _make(mode, 3, 4)
    x, h0, c0 = (
        rng.standard_normal((1, 2, 3)),
        rng.standard_normal((1, 2, 4)),
        rng.standard_normal((1, 2, 4)),
    )
    hx = minigrad.tensor(h0)
    if mode == "lstm":
        hx = (hx, minigrad.tensor(c0))
    output, state = module(minigrad.tensor(x), hx)
    p = _numpy_params(module)
    h, c = numpy_step(
        mode,
        x[0],
        h0[0],
        c0[0],
        *(p[k + "_l0"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")),
    )
    numpy.testing.assert_allclose(output.numpy()[0], h, rtol=1e-12)
    if mode == "lstm":
        numpy.testing.assert_allclose(state[1].numpy()[0], c, rtol=1e-12)


@pytest.mark.parametrize("mode", ["tanh", "relu", "lstm", "gru"])
def test_stacked_bidirectional_sequence_matches_the_formulas(mode):
    rng = numpy.random.default_rng(1)
    module = _make(mode, 3, 4, num_layers=2, bidirectional=True)
    x = rng.standard_normal((5, 2, 3))
    h0, c0 = rng.standard_normal((4, 2, 4)), rng.standard_normal((4, 2, 4))
    hx = minigrad.tensor(h0)
    if mode == "lstm":
        hx = (hx, minigrad.tensor(c0))
    output, state = module(minigrad.tensor(x), hx)
    expected, h_n, c_n = numpy_sequence(mode, _numpy_params(module), x, h0, c0, 2, True)
    assert output.shape == (5, 2, 8)
    numpy.testing.assert_allclose(output.numpy(), expected, rtol=1e-10, atol=1e-12)
    if mode == "lstm":
        numpy.testing.assert_allclose(state[0].numpy(), h_n, rtol=1e-10, atol=1e-12)
        numpy.testing.assert_allclose(state[1].numpy(), c_n, rtol=1e-10, atol=1e-12)
    else:
        numpy.testing.assert_allclose(state.numpy(), h_n, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["tanh", "lstm", "gru"])
def test_cells_are_one_step_of_the_layer(mode):
    cell_class = {"tanh": RNNCell, "lstm": LSTMCell, "gru": GRUCell}[mode]
    cell, layer = cell_class(3, 4).double(), _make(mode, 3, 4)
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = minigrad.randn(2, 3, dtype=minigrad.float64)
    out, _ = layer(x.unsqueeze(0))
    from_cell = cell(x)
    from_cell = from_cell[0] if mode == "lstm" else from_cell
    numpy.testing.assert_allclose(from_cell.numpy(), out[0].numpy(), rtol=1e-12)
    unbatched = cell(x[0])
    assert (unbatched[0] if mode == "lstm" else unbatched).shape == (4,)


def test_batch_first_and_unbatched_inputs_give_the_same_numbers():
    lstm = LSTM(3, 4, num_layers=2).double()
    x = minigrad.randn(6, 2, 3, dtype=minigrad.float64)
    out, (h_n, c_n) = lstm(x)
    lstm.batch_first = True
    out_bf, (h_bf, _) = lstm(x.transpose(0, 1))
    numpy.testing.assert_allclose(out_bf.transpose(0, 1).numpy(), out.numpy())
    numpy.testing.assert_allclose(h_bf.numpy(), h_n.numpy())  # h_n is never batch-first
    lstm.batch_first = False
    out_one, (h_one, c_one) = lstm(x[:, 0])
    assert out_one.shape == (6, 4) and h_one.shape == c_one.shape == (2, 4)
    numpy.testing.assert_allclose(out_one.numpy(), out[:, 0].numpy(), rtol=1e-12)
    numpy.testing.assert_allclose(out[-1].numpy(), h_n[-1].numpy())  # last output = last state


def test_dropout_acts_between_layers_in_training_only():
    with pytest.warns(UserWarning, match="no effect with num_layers=1"):
        GRU(2, 3, dropout=0.5)
    gru = GRU(3, 4, num_layers=2, dropout=0.5)
    x = minigrad.randn(5, 2, 3)
    gru.eval()
    first, h_n = gru(x)
    again, _ = gru(x)
    assert first.dtype == h_n.dtype == minigrad.float32  # float32 stays float32
    numpy.testing.assert_array_equal(first.numpy(), again.numpy())
    gru.dropout = 0.0
    numpy.testing.assert_array_equal(gru.train()(x)[0].numpy(), first.numpy())
    gru.dropout = 0.5
    assert not numpy.allclose(gru(x)[0].numpy(), first.numpy())


def test_wrong_shapes_are_explained():
    lstm = LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="Expected 3, got 5"):
        lstm(minigrad.zeros(2, 1, 5))
    with pytest.raises(RuntimeError, match=r"expected hidden state of shape \(2, 1, 4\)"):
        lstm(minigrad.zeros(2, 1, 3), (minigrad.zeros(1, 1, 4), minigrad.zeros(1, 1, 4)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(minigrad.zeros(2, 1, 3), minigrad.zeros(2, 1, 4))


# --- derivatives ----------------------------------------------------------------------------


def _double(*shape):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=True)


@pytest.mark.parametrize("cell_class", [RNNCell, LSTMCell, GRUCell])
def test_cell_gradients_match_finite_differences(cell_class):
    cell = cell_class(2, 3).double()
    names = list(dict(cell.named_parameters()))
    lstm = cell_class is LSTMCell

    def step(x, h, c, *params):
        for name, p in zip(names, params):  # the checked tensors stand in for the weights
            cell._parameters[name] = p
        out = cell(x, (h, c) if lstm else h)
        return out if lstm else (out,)

    inputs = [_double(2, 2), _double(2, 3), _double(2, 3)]
    inputs += [p.detach().requires_grad_() for p in cell.parameters()]
    if not lstm:
        inputs[2].requires_grad = False  # no cell state
    assert gradcheck(step, inputs, name=cell_class.__name__)


@pytest.mark.parametrize("mode", ["tanh", "lstm", "gru"])
def test_layer_gradients_through_time_match_finite_differences(mode):
    module = _make(mode, 2, 2, num_layers=2, bidirectional=True)
    name = "weight_hh_l0_reverse"

    def run(x, h0, c0, w):
        module._parameters[name] = w
        output, state = module(x, (h0, c0) if mode == "lstm" else h0)
        return (output,) + (state if mode == "lstm" else (state,))

    inputs = [_double(3, 1, 2), _double(4, 1, 2), _double(4, 1, 2)]
    inputs.append(getattr(module, name).detach().requires_grad_())
    if mode != "lstm":
        inputs[2].requires_grad = False
    assert gradcheck(run, inputs, name=mode)


@pytest.mark.parametrize("length", [1, 2, 5, 7])
def test_split_steps_gives_each_step_and_its_gradient(length):
    x = minigrad.randn(length, 2, 3, dtype=minigrad.float64, requires_grad=True)
    steps = _split_steps(x)
    assert [s.tolist() for s in steps] == [x[t].tolist() for t in range(length)]
    weights = minigrad.randn(length, 2, 3, dtype=minigrad.float64)
    (sum(s * weights[t] for t, s in enumerate(steps))).sum().backward()
    assert x.grad.tolist() == weights.tolist()


# --- the LSTM op against the step-by-step path it replaced ----------------------------------


def _step_by_step(mode, *args):
    """The layer's old path, one Tensor step at a time, in place of ``recurrent._run``."""
    from minigrad.nn.layers import recurrent

    return recurrent._run_steps(recurrent._step_for(mode), *args)


def _lstm_run(lstm, x, hx, seed):
    """Output, final states and every gradient of one forward and backward pass."""
    minigrad.manual_seed(seed)  # the same dropout masks on both paths
    lstm.zero_grad()
    x.grad = None
    for t in hx or ():
        t.grad = None
    out, (h_n, c_n) = lstm(x, hx)
    weights = [
        minigrad.tensor(numpy.linspace(-1, 1, t.numel()).reshape(t.shape)) for t in (out, h_n, c_n)
    ]
    (sum((t * w).sum() for t, w in zip((out, h_n, c_n), weights))).backward()
    grads = [p.grad.numpy() for p in lstm.parameters()] + [x.grad.numpy()]
    grads += [t.grad.numpy() for t in hx or ()]
    return [out.numpy(), h_n.numpy(), c_n.numpy()] + grads


@pytest.mark.parametrize(
    "config",
    [
        dict(),
        dict(num_layers=2, bidirectional=True),
        dict(batch_first=True, bias=False),
        dict(num_layers=3, dropout=0.3),
        dict(bidirectional=True, given_states=True),
        dict(num_layers=2, unbatched=True, given_states=True),
    ],
    ids=str,
)
def test_lstm_op_gives_the_step_by_step_numbers(config, monkeypatch):
    """nn.LSTM runs each layer and direction as one op (LSTMSequence); the old path,
    one Tensor step at a time, must give the same outputs, states and gradients."""
    from minigrad.nn.layers import recurrent

    config = dict(config)
    unbatched, given = config.pop("unbatched", False), config.pop("given_states", False)
    lstm = LSTM(3, 4, **config).double()
    rng = numpy.random.default_rng(3)
    layers = lstm.num_layers * (2 if lstm.bidirectional else 1)
    x_shape = (5, 3) if unbatched else ((2, 5, 3) if lstm.batch_first else (5, 2, 3))
    state_shape = (layers, 4) if unbatched else (layers, 2, 4)
    x = minigrad.tensor(rng.standard_normal(x_shape), requires_grad=True)
    hx = None
    if given:
        hx = tuple(
            minigrad.tensor(rng.standard_normal(state_shape), requires_grad=True) for _ in "hc"
        )
    fast = _lstm_run(lstm, x, hx, seed=7)
    monkeypatch.setattr(recurrent, "_run", _step_by_step)
    slow = _lstm_run(lstm, x, hx, seed=7)
    assert len(fast) == len(slow) == 3 + len(list(lstm.parameters())) + 1 + (2 if given else 0)
    for a, b in zip(fast, slow):
        numpy.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_lstm_double_backward_through_the_layer():
    """A gradient penalty: d/dw of |dL/dx|^2 through two stacked, bidirectional layers
    (the op's backward is recorded and differentiated) against finite differences."""
    lstm = LSTM(2, 2, num_layers=2, bidirectional=True).double()
    name = "weight_hh_l0_reverse"

    def penalty(x, w):
        lstm._parameters[name] = w
        (dx,) = minigrad.grad(lstm(x)[0].tanh().sum(), x, create_graph=True)
        return (dx * dx).sum()

    x = _double(3, 1, 2)
    w = getattr(lstm, name).detach().requires_grad_()
    assert gradcheck(penalty, [x, w], name="lstm gradient penalty")


@pytest.mark.parametrize(
    "config",
    [
        dict(),
        dict(nonlinearity="relu", num_layers=2, bidirectional=True),
        dict(batch_first=True, bias=False, num_layers=2, dropout=0.3),
    ],
    ids=str,
)
@pytest.mark.parametrize("layer", [RNN, GRU], ids=lambda c: c.__name__)
def test_rnn_and_gru_ops_give_the_step_by_step_numbers(config, layer, monkeypatch):
    """nn.RNN and nn.GRU run each layer and direction as one op (RNNSequence,
    GRUSequence): the same outputs, final state and gradients as the step-by-step path."""
    from minigrad.nn.layers import recurrent

    if layer is GRU:
        config = {k: v for k, v in config.items() if k != "nonlinearity"}
    rnn = layer(3, 4, **config).double()
    rng = numpy.random.default_rng(4)
    layers = rnn.num_layers * (2 if rnn.bidirectional else 1)
    x = minigrad.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
    batch = 2 if rnn.batch_first else 5  # x is (L, N, in) = (2, 5, 3), or (N, L, in)
    h0 = minigrad.tensor(rng.standard_normal((layers, batch, 4)), requires_grad=True)

    def run():
        minigrad.manual_seed(7)
        rnn.zero_grad()
        x.grad = h0.grad = None
        out, h_n = rnn(x, h0)
        weights = minigrad.tensor(numpy.linspace(-1, 1, out.numel()).reshape(out.shape))
        ((out * weights).sum() + (h_n * h_n).sum()).backward()
        grads = [p.grad.numpy() for p in rnn.parameters()] + [x.grad.numpy(), h0.grad.numpy()]
        return [out.numpy(), h_n.numpy()] + grads

    fast = run()
    monkeypatch.setattr(recurrent, "_run", _step_by_step)
    slow = run()
    for a, b in zip(fast, slow, strict=True):
        numpy.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("layer", "config"),
    [
        (RNN, dict(nonlinearity="relu", num_layers=2)),
        (GRU, dict(bidirectional=True)),
        (LSTM, dict(num_layers=2, dropout=0.2)),
    ],
    ids=["rnn", "gru", "lstm"],
)
def test_compiled_training_steps_equal_eager_ones_bit_for_bit(layer, config):
    """The ops write into their buffers in place: minigrad.compile must replay every
    write (a dropped one changes the numbers), on the cpu and on the strict device."""
    from minigrad import optim
    from minigrad.nn import functional as F

    def train(compiled):
        minigrad.manual_seed(0)
        rnn = layer(4, 8, batch_first=True, **config)
        head = minigrad.nn.Linear(8 * (2 if rnn.bidirectional else 1), 3)
        params = list(rnn.parameters()) + list(head.parameters())
        optimizer = optim.Adam(params, lr=1e-2)
        x, y = minigrad.randn(6, 5, 4), minigrad.randint(0, 3, (6,))

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(head(rnn(x)[0][:, -1]), y)
            loss.backward()
            optimizer.step()
            return loss

        run = minigrad.compile(step) if compiled else step
        losses = [run(x, y).item() for _ in range(6)]
        return losses, [p.numpy() for p in params]

    (eager_losses, eager_params), (losses, params) = train(False), train(True)
    assert losses == eager_losses and losses[-1] < losses[0]
    for a, b in zip(eager_params, params, strict=True):
        numpy.testing.assert_array_equal(a, b)
