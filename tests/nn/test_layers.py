"""Layers: derivatives by finite differences, train/eval behaviour by hand-computed numbers.

Gradchecks run on float64 layers (``.double()``) with sizes hypothesis draws.
"""

import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays

F64 = minigrad.float64
sizes = st.integers(1, 4)


def draw_input(data, shape, low=-3.0, high=3.0, away_from=None):
    values = data.draw(arrays(tuple(shape), low=low, high=high), label="input")
    if away_from is not None:
        values[numpy.abs(values - away_from) < 0.05] = away_from + 0.1
    x = minigrad.as_tensor(values)
    x.requires_grad = True
    return x


def check_module(module, x, second_order=False):
    """gradcheck a float64 module with respect to its input and every parameter."""
    params = list(module.parameters())
    weights = [minigrad.as_tensor(p.data.copy()).requires_grad_() for p in params]
    fn = lambda x, *ws: _call_with_weights(module, params, ws, x)  # noqa: E731
    name = type(module).__name__
    assert gradcheck(fn, [x] + weights, name=name)
    if second_order:
        assert gradgradcheck(fn, [x] + weights, name=name)


def _call_with_weights(module, params, weights, x):
    """Call ``module`` with its parameters temporarily replaced by ``weights`` (tensors of
    the graph), so that gradients with respect to the weights can be checked."""
    owners = []
    for m in module.modules():
        for name, p in list(m._parameters.items()):
            if p is not None:
                owners.append((m, name, p))
    lookup = {id(p): w for p, w in zip(params, weights)}
    try:
        for m, name, p in owners:
            m._parameters[name] = lookup[id(p)]
        return module(x)
    finally:
        for m, name, p in owners:
            m._parameters[name] = p


# --- Linear ---------------------------------------------------------------------------


@given(data=st.data(), n=sizes, fan_in=sizes, fan_out=sizes, bias=st.booleans())
def test_linear_gradcheck(data, n, fan_in, fan_out, bias):
    layer = nn.Linear(fan_in, fan_out, bias=bias).double()
    check_module(layer, draw_input(data, (n, fan_in)), second_order=True)


def test_linear_computes_x_w_transpose_plus_b():
    layer = nn.Linear(2, 3)
    with minigrad.no_grad():
        layer.weight.copy_(minigrad.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        layer.bias.copy_(minigrad.tensor([0.5, 0.0, -1.0]))
    assert layer(minigrad.tensor([[2.0, 3.0]])).tolist() == [[2.5, 3.0, 4.0]]
    assert layer(minigrad.ones(4, 5, 2)).shape == (4, 5, 3)  # any leading dimensions


def test_linear_says_which_sizes_disagree():
    with pytest.raises(RuntimeError, match=r"weight of shape \(3, 2\) expects 2"):
        nn.Linear(2, 3)(minigrad.ones(4, 5))


def test_layers_take_device_and_dtype():
    layer = nn.Linear(2, 3, dtype=F64, device="cpu")
    assert layer.weight.dtype == F64 and layer.bias.dtype == F64
    assert str(layer.weight.device) == "cpu"
    assert nn.LayerNorm(3, dtype=F64).weight.dtype == F64
    assert nn.Embedding(3, 2, dtype=F64).weight.dtype == F64
    bn = nn.BatchNorm1d(3, dtype=F64)
    assert bn.running_var.dtype == F64 and bn.num_batches_tracked.dtype == minigrad.int64


# --- activations ------------------------------------------------------------------------

ACTIVATIONS = {
    "ReLU": (nn.ReLU(), 0.0, False),
    "LeakyReLU": (nn.LeakyReLU(0.2), 0.0, False),
    "GELU": (nn.GELU(), None, True),
    "GELU(tanh)": (nn.GELU(approximate="tanh"), None, True),
    "Tanh": (nn.Tanh(), None, True),
    "Sigmoid": (nn.Sigmoid(), None, True),
    "Softplus": (nn.Softplus(beta=2.0), None, True),
    "Softmax": (nn.Softmax(dim=-1), None, True),
    "LogSoftmax": (nn.LogSoftmax(dim=0), None, True),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data(), shape=st.sampled_from([(3,), (2, 3), (2, 1, 3)]))
def test_activation_gradcheck(name, data, shape):
    module, kink, second_order = ACTIVATIONS[name]
    x = draw_input(data, shape, away_from=kink)
    assert gradcheck(module, [x], name=name)
    if second_order:
        assert gradgradcheck(module, [x], name=name)


def test_activation_values():
    x = minigrad.tensor([-2.0, 0.0, 1.0])
    assert nn.ReLU()(x).tolist() == [0.0, 0.0, 1.0]
    assert nn.LeakyReLU(0.1)(x).numpy().tolist() == pytest.approx([-0.2, 0.0, 1.0])
    assert nn.Sigmoid()(x).numpy() == pytest.approx(1 / (1 + numpy.exp([2.0, 0.0, -1.0])))
    assert nn.Tanh()(x).numpy() == pytest.approx(numpy.tanh([-2.0, 0.0, 1.0]))
    phi = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in (-2.0, 0.0, 1.0)]
    assert nn.GELU()(x).numpy() == pytest.approx([v * p for v, p in zip([-2, 0, 1], phi)])
    assert nn.Softmax(dim=0)(x).sum().item() == pytest.approx(1.0)


def test_softmax_without_dim_warns_and_uses_pytorchs_rule():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(minigrad.zeros(2, 4))
    assert y.tolist() == [[0.25] * 4] * 2  # dim 1 for 2-d input


# --- Dropout ----------------------------------------------------------------------------


def test_dropout_scales_survivors_by_one_over_keep_probability():
    drop = nn.Dropout(p=0.25)
    y = drop(minigrad.ones(20000))
    values = numpy.unique(y.numpy())
    numpy.testing.assert_allclose(values, [0.0, 1 / 0.75], rtol=1e-6)
    kept = float((y.numpy() > 0).mean())
    assert abs(kept - 0.75) < 0.02  # about 3 / 4 kept (15,000 +- 3 sd of 61)
    assert abs(float(y.numpy().mean()) - 1.0) < 0.03  # the expected value is kept


def test_dropout_is_the_identity_in_eval_and_for_p_zero():
    x = minigrad.randn(3, 4)
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert F.dropout(x, 0.9, training=False) is x


def test_dropout_with_p_one_zeros_everything():
    assert nn.Dropout(1.0)(minigrad.ones(5)).tolist() == [0.0] * 5


def test_dropout_mask_is_reproducible_from_the_seed():
    minigrad.manual_seed(7)
    a = nn.Dropout(0.5)(minigrad.ones(50))
    minigrad.manual_seed(7)
    b = nn.Dropout(0.5)(minigrad.ones(50))
    assert a.tolist() == b.tolist()


def test_dropout_gradient_uses_the_same_mask():
    x = minigrad.ones(100, requires_grad=True)
    y = nn.Dropout(0.3)(x)
    y.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())  # d(x * m)/dx = m


@given(data=st.data(), p=st.sampled_from([0.2, 0.5]))
def test_dropout_gradcheck(data, p):
    x = draw_input(data, (3, 4))

    def fn(t):
        minigrad.manual_seed(3)  # the same mask for every finite-difference evaluation
        return F.dropout(t, p, training=True)

    assert gradcheck(fn, [x], name="dropout")


def test_dropout_rejects_bad_probabilities():
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
            nn.Dropout(p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(minigrad.ones(2), p)


# --- BatchNorm --------------------------------------------------------------------------


def test_batchnorm_training_normalises_with_batch_statistics():
    bn = nn.BatchNorm1d(2)
    x = minigrad.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 30.0]])
    y = bn(x)
    # channel 0: mean 3, biased var 8/3;  channel 1: mean 20, biased var 200/3
    expected = numpy.array(
        [[-2 / math.sqrt(8 / 3 + 1e-5), -10 / math.sqrt(200 / 3 + 1e-5)],
         [0.0, 0.0],
         [2 / math.sqrt(8 / 3 + 1e-5), 10 / math.sqrt(200 / 3 + 1e-5)]]
    )  # fmt: skip
    numpy.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-5)
    # running stats: 0.9 * old + 0.1 * batch, with the UNBIASED variance (4 and 100)
    numpy.testing.assert_allclose(bn.running_mean.numpy(), [0.3, 2.0], rtol=1e-6)
    numpy.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.4, 0.9 + 10.0], rtol=1e-6)
    assert bn.num_batches_tracked.item() == 1
    bn(x)  # a second step: 0.9 * 0.3 + 0.1 * 3 = 0.57
    numpy.testing.assert_allclose(bn.running_mean.numpy(), [0.57, 3.8], rtol=1e-6)
    numpy.testing.assert_allclose(bn.running_var.numpy(), [1.17 + 0.4, 9.81 + 10.0], rtol=1e-6)
    assert bn.num_batches_tracked.item() == 2


def test_batchnorm_eval_uses_running_statistics():
    bn = nn.BatchNorm1d(2)
    with minigrad.no_grad():
        bn.running_mean.copy_(minigrad.tensor([1.0, -1.0]))
        bn.running_var.copy_(minigrad.tensor([4.0, 0.25]))
        bn.weight.copy_(minigrad.tensor([2.0, 1.0]))
        bn.bias.copy_(minigrad.tensor([0.0, 0.5]))
    bn.eval()
    y = bn(minigrad.tensor([[3.0, 0.0]]))  # one sample is fine in eval
    expected = [2.0 * 2.0 / math.sqrt(4.0 + 1e-5), 1.0 / math.sqrt(0.25 + 1e-5) + 0.5]
    numpy.testing.assert_allclose(y.detach().numpy(), [expected], rtol=1e-6)
    assert bn.num_batches_tracked.item() == 0  # eval does not count batches
    assert bn.running_mean.tolist() == [1.0, -1.0]  # nor change the statistics


def test_batchnorm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None)
    batches = [[[0.0], [2.0]], [[4.0], [8.0]], [[1.0], [1.0]]]  # means 1, 6, 1
    for batch in batches:
        bn(minigrad.tensor(batch))
    assert bn.running_mean.item() == pytest.approx((1 + 6 + 1) / 3)
    assert bn.running_var.item() == pytest.approx((2.0 + 8.0 + 0.0) / 3)  # unbiased vars


def test_batchnorm_momentum_none_compiles_to_the_same_cumulative_average():
    """Its 1 / count is an array, so a replay of minigrad.compile divides by the new count
    (a count read to Python would be a constant of the trace, or refused)."""
    batches = [[[0.0], [2.0]], [[4.0], [8.0]], [[1.0], [1.0]], [[3.0], [5.0]]]

    def run(compiled):
        bn = nn.BatchNorm1d(1, momentum=None)
        forward = minigrad.compile(lambda x: bn(x).detach()) if compiled else bn
        for batch in batches:
            forward(minigrad.tensor(batch))
        return bn.running_mean.numpy().tobytes(), bn.running_var.numpy().tobytes(), bn

    eager, compiled = run(compiled=False), run(compiled=True)
    assert compiled[:2] == eager[:2]
    assert compiled[2].running_mean.item() == pytest.approx((1 + 6 + 1 + 4) / 4)
    assert compiled[2].num_batches_tracked.item() == 4


def test_batchnorm2d_statistics_are_per_channel_over_batch_and_space():
    x = minigrad.randn(4, 3, 5, 5, dtype=F64) * 3.0 + 2.0
    bn = nn.BatchNorm2d(3, dtype=F64)
    y = bn(x).detach().numpy()
    numpy.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    numpy.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)
    unbiased = x.numpy().var(axis=(0, 2, 3), ddof=1)
    numpy.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * unbiased, rtol=1e-12)


def test_batchnorm_options():
    plain = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert list(plain.parameters()) == [] and list(plain.state_dict()) == []
    x = minigrad.tensor([[1.0, 2.0], [3.0, 6.0]])
    plain.eval()  # no running stats: batch statistics even in eval, as in PyTorch
    numpy.testing.assert_allclose(plain(x).numpy(), [[-1.0, -1.0], [1.0, 1.0]], atol=1e-4)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(minigrad.ones(1, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(minigrad.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(minigrad.ones(2, 3))
    with pytest.raises(ValueError, match=r"dimension 1 \(channels\) has size 4"):
        nn.BatchNorm1d(3)(minigrad.ones(2, 4))


@given(data=st.data(), n=st.integers(2, 3), c=sizes, spatial=st.sampled_from([(), (2,), (2, 2)]))
def test_batchnorm_gradcheck_training_and_eval(data, n, c, spatial):
    bn = (nn.BatchNorm1d if len(spatial) < 2 else nn.BatchNorm2d)(c).double()
    with minigrad.no_grad():
        nn.init.uniform_(bn.weight, 0.5, 1.5)
        nn.init.uniform_(bn.bias, -1.0, 1.0)
    x = draw_input(data, (n, c) + spatial)
    check_module(bn, x)  # training: batch statistics (running ones change, unused)
    bn.eval()
    check_module(bn, x)


# --- LayerNorm --------------------------------------------------------------------------


def reference_layer_norm(x, normalized_shape, weight, bias, eps=1e-5):
    """The plain composition: mean, variance, divide; what the fused op computes."""
    dims = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, correction=0, keepdim=True)
    return (x - mean) / (var + eps).sqrt() * weight + bias


@given(
    data=st.data(),
    lead=st.sampled_from([(), (2,), (2, 3)]),
    normalized_shape=st.sampled_from([(3,), (2, 2), (1,)]),
)
def test_layernorm_matches_the_plain_composition(data, lead, normalized_shape):
    x = draw_input(data, lead + normalized_shape)
    weight = minigrad.as_tensor(data.draw(arrays(normalized_shape))).requires_grad_()
    bias = minigrad.as_tensor(data.draw(arrays(normalized_shape))).requires_grad_()
    fast = F.layer_norm(x, normalized_shape, weight, bias)
    slow = reference_layer_norm(x, normalized_shape, weight, bias)
    numpy.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-9, atol=1e-9)
    upstream = minigrad.as_tensor(numpy.cos(numpy.arange(fast.numel())).reshape(fast.shape))
    fast_grads = minigrad.grad((fast * upstream).sum(), [x, weight, bias])
    slow_grads = minigrad.grad((slow * upstream).sum(), [x, weight, bias])
    for a, b in zip(fast_grads, slow_grads):
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-7)


@given(data=st.data(), n=sizes, features=st.integers(2, 4))
def test_layernorm_gradcheck_and_second_derivative(data, n, features):
    ln = nn.LayerNorm(features).double()
    with minigrad.no_grad():
        nn.init.uniform_(ln.weight, 0.5, 1.5)
        nn.init.uniform_(ln.bias, -1.0, 1.0)
    check_module(ln, draw_input(data, (n, features)), second_order=True)


def test_layernorm_normalises_each_sample():
    ln = nn.LayerNorm(4)
    y = ln(minigrad.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 10.0, 50.0]]))
    numpy.testing.assert_allclose(y.detach().numpy().mean(axis=1), 0.0, atol=1e-6)
    numpy.testing.assert_allclose(y.detach().numpy().var(axis=1), 1.0, rtol=1e-3)
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 4\]"):
        ln(minigrad.ones(2, 3))


# --- Embedding --------------------------------------------------------------------------


def test_embedding_looks_up_rows_and_adds_their_gradients():
    emb = nn.Embedding(4, 2)
    with minigrad.no_grad():
        emb.weight.copy_(minigrad.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    idx = minigrad.tensor([[1, 3], [1, 1]])
    y = emb(idx)
    assert y.tolist() == [[[1.0, 2.0], [5.0, 6.0]], [[1.0, 2.0], [1.0, 2.0]]]
    y.sum().backward()
    assert emb.weight.grad.tolist() == [[0.0, 0.0], [3.0, 3.0], [0.0, 0.0], [1.0, 1.0]]


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=-1)  # -1 means the last row, 4
    assert emb.padding_idx == 4
    assert emb.weight[4].tolist() == [0.0, 0.0, 0.0]
    with minigrad.no_grad():
        emb.weight[4] = 7.0  # a non-zero padding vector is still looked up as it is
    y = emb(minigrad.tensor([4, 2, 4]))
    assert y[0].tolist() == [7.0, 7.0, 7.0]
    (y * 2).sum().backward()
    assert emb.weight.grad[4].tolist() == [0.0, 0.0, 0.0]
    assert emb.weight.grad[2].tolist() == [2.0, 2.0, 2.0]


@given(data=st.data(), rows=sizes, dim=sizes, padding=st.booleans())
def test_embedding_gradcheck(data, rows, dim, padding):
    weight = minigrad.as_tensor(data.draw(arrays((rows, dim)))).requires_grad_()
    idx = minigrad.randint(0, rows + 1, (2, 3))
    if not padding:
        table = lambda w: minigrad.cat([w, minigrad.zeros(1, dim, dtype=F64)])  # noqa: E731
        fn = lambda w: F.embedding(idx, table(w))  # noqa: E731
    else:
        # The padding row (last) is held out by design: check the others' gradients.
        padding_row = minigrad.ones(1, dim, dtype=F64)
        fn = lambda w: F.embedding(idx, minigrad.cat([w, padding_row]), padding_idx=rows)  # noqa: E731
    assert gradcheck(fn, [weight], name="embedding")


def test_embedding_init_is_standard_normal():
    w = nn.Embedding(1000, 50).weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02  # 50,000 draws


def test_embedding_errors_and_from_pretrained():
    emb = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index 3 is out of range for an embedding table of 3"):
        emb(minigrad.tensor([0, 3]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(minigrad.tensor([0.0, 1.0]))
    table = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight.data is table.data
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


# --- Flatten, containers, one_hot, pad ---------------------------------------------------


def test_flatten():
    x = minigrad.zeros(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)


@given(data=st.data())
def test_sequential_gradcheck(data):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Flatten(0), nn.Sigmoid()).double()
    check_module(model, draw_input(data, (2, 3)), second_order=True)


def test_one_hot():
    assert F.one_hot(minigrad.tensor([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert F.one_hot(minigrad.tensor([[1]]), 3).shape == (1, 1, 3)
    assert F.one_hot(minigrad.tensor([1])).dtype == minigrad.int64
    with pytest.raises(IndexError, match="index 3 is out of range for 3 classes"):
        F.one_hot(minigrad.tensor([3]), 3)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes_by_hand_and_gradcheck(mode):
    x = minigrad.tensor([[1.0, 2.0, 3.0]])
    expected = {
        "constant": [[0.0, 0.0, 1.0, 2.0, 3.0, 0.0]],
        "reflect": [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]],
        "replicate": [[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]],
        "circular": [[2.0, 3.0, 1.0, 2.0, 3.0, 1.0]],
    }[mode]
    assert F.pad(x, (2, 1), mode=mode).tolist() == expected
    y = minigrad.randn(2, 3, 3, dtype=F64, requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, (1, 2, 2, 1), mode=mode), [y], name=f"pad {mode}")


@pytest.mark.parametrize(
    "pad, expected",
    [
        ((-1, 2), [1.0, 2.0, 3.0, 4.0, 1.0, 2.0]),
        ((2, -1), [2.0, 3.0, 0.0, 1.0, 2.0, 3.0]),
        ((-2, -1), [2.0, 3.0]),
    ],
)
def test_circular_pad_with_a_negative_side_crops_first_as_pytorch(pad, expected):
    """Was: the wrap-around took the cropped elements too (pad (-1, 2) of [0, 1, 2, 3, 4]
    gave [1, 2, 3, 4, 0, 1]); PyTorch crops first and wraps around what is left,
    [1, 2, 3, 4] -> [1, 2, 3, 4, 1, 2]."""
    x = minigrad.arange(5.0, requires_grad=True)[None]
    out = F.pad(x, pad, mode="circular")
    assert out.tolist() == [expected]


# --- float32 stays float32 ----------------------------------------------------------------

FLOAT32_CASES = {
    "Linear": lambda x: nn.Linear(3, 2)(x),
    "BatchNorm1d train": lambda x: nn.BatchNorm1d(3)(x),
    "BatchNorm1d eval": lambda x: nn.BatchNorm1d(3).eval()(x),
    "LayerNorm": lambda x: nn.LayerNorm(3)(x),
    "Dropout": lambda x: nn.Dropout(0.3)(x),
    "GELU": lambda x: nn.GELU()(x),
    "pad reflect": lambda x: F.pad(x, (1, 1), mode="reflect"),
    "cross_entropy": lambda x: F.cross_entropy(
        x, minigrad.tensor([0, 1, 2, 0]), weight=minigrad.ones(3), label_smoothing=0.1
    ),
    "cross_entropy probabilities": lambda x: F.cross_entropy(x, minigrad.rand(4, 3)),
    "nll_loss": lambda x: F.nll_loss(x, minigrad.tensor([0, 1, 2, 0])),
    "mse_loss": lambda x: F.mse_loss(x, minigrad.zeros(4, 3)),
    "0.5 * mse_loss": lambda x: 0.5 * F.mse_loss(x, minigrad.zeros(4, 3)) + 1,
    "huber_loss": lambda x: F.huber_loss(x, minigrad.zeros(4, 3)),
    "binary_cross_entropy": lambda x: F.binary_cross_entropy(x.sigmoid(), minigrad.rand(4, 3)),
    "binary_cross_entropy_with_logits": lambda x: F.binary_cross_entropy_with_logits(
        x, minigrad.rand(4, 3), pos_weight=minigrad.full((3,), 2.0)
    ),
}


@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_float32_stays_float32(name):
    """NumPy 1.26 promotes float32 with NumPy float64 scalars: nothing here may do that."""
    x = minigrad.randn(4, 3, requires_grad=True)
    y = FLOAT32_CASES[name](x)
    y.sum().backward()
    assert y.dtype == minigrad.float32 and x.grad.dtype == minigrad.float32
