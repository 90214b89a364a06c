"""scaled_dot_product_attention and MultiheadAttention: values against NumPy's
softmax(Q K^T / sqrt(d)) V, PyTorch's mask conventions and parameter names,
causality, and derivatives against finite differences."""

import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.nn import MultiheadAttention
from minigrad.nn.functional import scaled_dot_product_attention
from minigrad.testing import gradcheck, gradgradcheck


def numpy_attention(q, k, v, bias=0.0, scale=None):
    """softmax(Q K^T * scale + bias) V, and the weights."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ numpy.swapaxes(k, -1, -2) * scale + bias
    e = numpy.exp(scores - scores.max(-1, keepdims=True))
    weights = e / e.sum(-1, keepdims=True)
    return weights @ v, weights


def _t(a, requires_grad=False):
    return minigrad.tensor(a, dtype=minigrad.float64, requires_grad=requires_grad)


@given(
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 99)
)
def test_sdpa_matches_numpy(length, source_length, width, value_width, seed):
    rng = numpy.random.default_rng(seed)
    q = rng.standard_normal((2, length, width))
    k = rng.standard_normal((2, source_length, width))
    v = rng.standard_normal((2, source_length, value_width))
    got = scaled_dot_product_attention(_t(q), _t(k), _t(v))
    numpy.testing.assert_allclose(got.numpy(), numpy_attention(q, k, v)[0], rtol=1e-12)
    got = scaled_dot_product_attention(_t(q), _t(k), _t(v), scale=0.3)
    numpy.testing.assert_allclose(got.numpy(), numpy_attention(q, k, v, scale=0.3)[0], rtol=1e-12)


def test_sdpa_boolean_mask_is_true_where_attention_is_allowed_and_float_masks_add():
    rng = numpy.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 4, 5)) for _ in range(3))
    allowed = rng.random((4, 4)) < 0.6
    allowed[:, 0] = True  # every query keeps at least one key
    got = scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=minigrad.tensor(allowed))
    bias = numpy.where(allowed, 0.0, -numpy.inf)
    numpy.testing.assert_allclose(got.numpy(), numpy_attention(q, k, v, bias)[0], rtol=1e-12)
    float_mask = rng.standard_normal((3, 4, 4))  # broadcast over the leading batch axis
    got = scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=_t(float_mask))
    numpy.testing.assert_allclose(got.numpy(), numpy_attention(q, k, v, float_mask)[0], rtol=1e-12)


@pytest.mark.parametrize("as_float", [False, True])
def test_sdpa_query_masked_everywhere_gives_zero_as_pytorch(as_float):
    # softmax of a row of -inf is 0 / 0 = nan; PyTorch's function gives 0 there (and a
    # gradient of 0). The other row: weights softmax(q k_j / sqrt(3)) over both keys.
    allowed = numpy.array([[False, False], [True, True]])
    mask = _t(numpy.where(allowed, 0.0, -numpy.inf)) if as_float else minigrad.tensor(allowed)
    q = minigrad.ones(2, 3, dtype=minigrad.float64, requires_grad=True)
    k = v = _t(numpy.arange(6.0).reshape(2, 3))  # rows [0, 1, 2] and [3, 4, 5]
    out = scaled_dot_product_attention(q, k, v, attn_mask=mask)
    e = numpy.exp(numpy.array([3.0, 12.0]) / numpy.sqrt(3.0))
    w = e / e.sum()
    assert out[0].tolist() == [0.0, 0.0, 0.0]
    numpy.testing.assert_allclose(out[1].numpy(), w @ numpy.arange(6.0).reshape(2, 3))
    out.sum().backward()
    assert q.grad[0].tolist() == [0.0, 0.0, 0.0]
    assert numpy.isfinite(q.grad.numpy()).all()


def test_sdpa_causal_output_at_t_ignores_later_positions():
    rng = numpy.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 6, 4)) for _ in range(3))
    before = scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=True).numpy()
    tril = numpy.tril(numpy.ones((6, 6), dtype=bool))
    explicit = scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=minigrad.tensor(tril))
    numpy.testing.assert_allclose(before, explicit.numpy())
    for t in range(5):
        k2, v2, q2 = k.copy(), v.copy(), q.copy()
        for a in (k2, v2, q2):
            a[:, t + 1 :] = rng.standard_normal(a[:, t + 1 :].shape)  # change the future
        after = scaled_dot_product_attention(_t(q2), _t(k2), _t(v2), is_causal=True).numpy()
        numpy.testing.assert_allclose(after[:, : t + 1], before[:, : t + 1], rtol=1e-12)
        assert not numpy.allclose(after[:, t + 1 :], before[:, t + 1 :])
    with pytest.raises(ValueError, match="not both"):
        scaled_dot_product_attention(
            _t(q), _t(k), _t(v), attn_mask=minigrad.tensor(tril), is_causal=True
        )


def test_sdpa_gradients_match_finite_differences():
    q, k, v = (
        minigrad.randn(2, 3, 2, dtype=minigrad.float64, requires_grad=True) for _ in range(3)
    )
    mask = minigrad.randn(3, 3, dtype=minigrad.float64, requires_grad=True)
    f = lambda q, k, v, m: scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
    assert gradcheck(f, [q, k, v, mask], name="sdpa")
    causal = lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    assert gradcheck(causal, [q, k, v], name="sdpa causal")
    assert gradgradcheck(causal, [q, k, v], name="sdpa causal")


def test_sdpa_dropout_drops_weights_and_keeps_float32():
    q = k = v = minigrad.randn(1, 8, 4)
    plain = scaled_dot_product_attention(q, k, v)
    dropped = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert plain.dtype == dropped.dtype == minigrad.float32
    assert not numpy.allclose(plain.numpy(), dropped.numpy())


# --- MultiheadAttention -----------------------------------------------------------------


def test_multihead_attention_state_dict_has_pytorchs_keys_and_shapes():
    mha = MultiheadAttention(8, 2)
    assert [(k, v.shape) for k, v in mha.state_dict().items()] == [
        ("in_proj_weight", (24, 8)),
        ("in_proj_bias", (24,)),
        ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,)),
    ]
    separate = MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert [(k, v.shape) for k, v in separate.state_dict().items()] == [
        ("q_proj_weight", (8, 8)),
        ("k_proj_weight", (8, 3)),
        ("v_proj_weight", (8, 5)),
        ("in_proj_bias", (24,)),
        ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,)),
    ]
    assert list(MultiheadAttention(4, 1, bias=False).state_dict()) == [
        "in_proj_weight",
        "out_proj.weight",
    ]
    with pytest.raises(ValueError, match="divisible by num_heads"):
        MultiheadAttention(10, 3)


def test_multihead_attention_init_is_pytorchs():
    mha = MultiheadAttention(16, 4)
    bound = math.sqrt(6 / (16 + 48))  # xavier_uniform_ on the whole (3E, E) matrix
    w = mha.in_proj_weight.numpy()
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.8 * bound
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()


def numpy_multihead(mha, query, key, value, bias=0.0):
    """PyTorch's multi_head_attention_forward for (L, N, E) inputs, in NumPy."""
    p = {k: v.numpy() for k, v in mha.state_dict().items()}
    e, heads = mha.embed_dim, mha.num_heads
    w_q, w_k, w_v = numpy.split(p["in_proj_weight"], 3)
    b_q, b_k, b_v = numpy.split(p["in_proj_bias"], 3)

    def split_heads(x):  # (T, N, E) -> (N, heads, T, E / heads)
        t, n, _ = x.shape
        return x.reshape(t, n, heads, e // heads).transpose(1, 2, 0, 3)

    q, k, v = (
        split_heads(query @ w_q.T + b_q),
        split_heads(key @ w_k.T + b_k),
        split_heads(value @ w_v.T + b_v),
    )
    out, weights = numpy_attention(q, k, v, bias)
    length, n = query.shape[:2]
    out = out.transpose(2, 0, 1, 3).reshape(length, n, e)
    return out @ p["out_proj.weight"].T + p["out_proj.bias"], weights


def _mha_inputs(length=3, source_length=4, n=2, e=6, seed=0):
    rng = numpy.random.default_rng(seed)
    return (
        rng.standard_normal((length, n, e)),
        rng.standard_normal((source_length, n, e)),
        rng.standard_normal((source_length, n, e)),
    )


def _randomise(mha):
    """Nonzero biases too, so that the check sees them."""
    with minigrad.no_grad():
        for p in mha.parameters():
            p.copy_(minigrad.randn(*p.shape, dtype=p.dtype) * 0.5)
    return mha


def test_multihead_attention_matches_numpy():
    mha = _randomise(MultiheadAttention(6, 3).double())
    q, k, v = _mha_inputs()
    out, weights = mha(_t(q), _t(k), _t(v))
    expected, expected_weights = numpy_multihead(mha, q, k, v)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    numpy.testing.assert_allclose(weights.numpy(), expected_weights.mean(1), rtol=1e-10)
    _, per_head = mha(_t(q), _t(k), _t(v), average_attn_weights=False)
    numpy.testing.assert_allclose(per_head.numpy(), expected_weights, rtol=1e-10)
    assert mha(_t(q), _t(k), _t(v), need_weights=False)[1] is None


def test_multihead_attention_masks_follow_pytorch():
    mha = _randomise(MultiheadAttention(6, 2).double())
    q, k, v = _mha_inputs()
    padding = numpy.array([[False, False, True, False], [False, True, True, False]])  # True: ignore
    blocked = numpy.array([[False, True, False, False]] * 3)  # True: not allowed
    out, weights = mha(
        _t(q),
        _t(k),
        _t(v),
        key_padding_mask=minigrad.tensor(padding),
        attn_mask=minigrad.tensor(blocked),
        average_attn_weights=False,
    )
    bias = numpy.where(padding[:, None, None, :] | blocked, -numpy.inf, 0.0)
    expected, expected_weights = numpy_multihead(mha, q, k, v, bias)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    numpy.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-10, atol=1e-15)
    assert (weights.numpy()[0, :, :, 2] == 0).all() and (weights.numpy()[:, :, :, 1] == 0).all()
    # A float mask per batch item and head, (N * heads, L, S), is added to the scores.
    float_mask = numpy.random.default_rng(3).standard_normal((4, 3, 4))
    out, _ = mha(_t(q), _t(k), _t(v), attn_mask=_t(float_mask))
    expected, _ = numpy_multihead(mha, q, k, v, float_mask.reshape(2, 2, 3, 4))
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_multihead_attention_is_causal_builds_the_causal_mask():
    mha = MultiheadAttention(4, 2, batch_first=True).double()
    x = minigrad.randn(2, 5, 4, dtype=minigrad.float64)
    out, weights = mha(x, x, x, is_causal=True)
    assert (numpy.triu(weights.numpy()[0], 1) == 0).all()
    tril = minigrad.tensor(numpy.triu(numpy.ones((5, 5), dtype=bool), 1))  # True above: blocked
    numpy.testing.assert_allclose(out.numpy(), mha(x, x, x, attn_mask=tril)[0].numpy())
    later = x.numpy().copy()
    later[:, 3:] += 1.0  # change the last two positions
    changed, _ = mha(_t(later), _t(later), _t(later), is_causal=True)
    numpy.testing.assert_allclose(changed.numpy()[:, :3], out.numpy()[:, :3], rtol=1e-12)


def test_multihead_attention_batch_first_unbatched_and_kdim_vdim():
    mha = _randomise(MultiheadAttention(6, 2).double())
    q, k, v = _mha_inputs()
    out, weights = mha(_t(q), _t(k), _t(v))
    mha.batch_first = True
    out_bf, weights_bf = mha(*(_t(a.transpose(1, 0, 2)) for a in (q, k, v)))
    numpy.testing.assert_allclose(out_bf.numpy().transpose(1, 0, 2), out.numpy())
    numpy.testing.assert_allclose(weights_bf.numpy(), weights.numpy())
    one, one_weights = mha(_t(q[:, 0]), _t(k[:, 0]), _t(v[:, 0]))
    assert one.shape == (3, 6) and one_weights.shape == (3, 4)
    numpy.testing.assert_allclose(one.numpy(), out.numpy()[:, 0], rtol=1e-12)
    cross = MultiheadAttention(4, 2, kdim=3, vdim=5, batch_first=True)
    out, weights = cross(minigrad.randn(2, 7, 4), minigrad.randn(2, 6, 3), minigrad.randn(2, 6, 5))
    assert out.shape == (2, 7, 4) and weights.shape == (2, 7, 6)


def test_multihead_attention_dropout_only_in_training():
    mha = MultiheadAttention(4, 2, dropout=0.5).eval()
    x = minigrad.randn(5, 1, 4)
    first, weights = mha(x, x, x)
    assert first.dtype == weights.dtype == minigrad.float32
    numpy.testing.assert_array_equal(first.numpy(), mha(x, x, x)[0].numpy())
    assert not numpy.allclose(mha.train()(x, x, x)[0].numpy(), first.numpy())


def test_multihead_attention_gradients_match_finite_differences():
    mha = _randomise(MultiheadAttention(4, 2).double())

    def attend(q, k, v, w, b):
        mha._parameters["in_proj_weight"], mha._parameters["in_proj_bias"] = w, b
        return mha(q, k, v, attn_mask=minigrad.tensor([[False, True, False]] * 2))

    q = minigrad.randn(2, 1, 4, dtype=minigrad.float64, requires_grad=True)
    k, v = (minigrad.randn(3, 1, 4, dtype=minigrad.float64, requires_grad=True) for _ in range(2))
    w = mha.in_proj_weight.detach().requires_grad_()
    b = mha.in_proj_bias.detach().requires_grad_()
    assert gradcheck(attend, [q, k, v, w, b], name="MultiheadAttention")


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_self_attention_packed_matches_numpy(batch_first):
    # x as query, key and value, no mask, no weights asked for: the one projection
    # [Q | K | V] and the PackedSelfAttention op (ops/attention.py) take over
    mha = _randomise(MultiheadAttention(6, 3, batch_first=batch_first).double())
    x, _, _ = _mha_inputs()
    expected, _ = numpy_multihead(mha, x, x, x)
    given_x = _t(x.transpose(1, 0, 2) if batch_first else x)
    out, weights = mha(given_x, given_x, given_x, need_weights=False)
    assert weights is None
    got = out.numpy().transpose(1, 0, 2) if batch_first else out.numpy()
    numpy.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_multihead_self_attention_packed_gradients_match_finite_differences():
    mha = _randomise(MultiheadAttention(4, 2, batch_first=True).double())

    def attend(x, w, b):
        mha._parameters["in_proj_weight"], mha._parameters["in_proj_bias"] = w, b
        return mha(x, x, x, need_weights=False)[0]

    x = minigrad.randn(2, 3, 4, dtype=minigrad.float64, requires_grad=True)
    w = mha.in_proj_weight.detach().requires_grad_()
    b = mha.in_proj_bias.detach().requires_grad_()
    assert gradcheck(attend, [x, w, b], name="MultiheadAttention, packed self-attention")
    assert gradgradcheck(attend, [x, w, b], name="MultiheadAttention, packed self-attention")


@pytest.mark.parametrize("dtype", [minigrad.int64, minigrad.uint8])
def test_integer_masks_are_refused_as_pytorch_refuses_them(dtype):
    """Was: a 0/1 integer mask added to the scores as numbers (1 where a key should be
    left out, so nothing was left out), silently; PyTorch raises for an integer
    attn_mask or key_padding_mask in MultiheadAttention and in
    scaled_dot_product_attention."""
    x = minigrad.randn(3, 1, 4)
    mha = MultiheadAttention(4, 2)
    padding = minigrad.tensor([[0, 0, 1]], dtype=dtype)
    with pytest.raises(TypeError, match=f"boolean or floating.*got {dtype}.*mask.bool()"):
        mha(x, x, x, key_padding_mask=padding)
    with pytest.raises(TypeError, match="boolean or floating"):
        mha(x, x, x, attn_mask=minigrad.zeros(3, 3, dtype=dtype))
    q = minigrad.randn(1, 3, 4)
    with pytest.raises(TypeError, match="boolean or floating"):
        scaled_dot_product_attention(q, q, q, attn_mask=minigrad.ones(3, 3, dtype=dtype))
    out, _ = mha(x, x, x, key_padding_mask=padding.bool())  # the boolean mask works
    assert out.shape == (3, 1, 4)
