"""Attention: each position of a sequence takes a weighted average of the others' values.

Scaled dot-product attention, for queries Q (L, E), keys K (S, E) and values V (S, Ev):

    weights = softmax(Q K^T / sqrt(E) + mask)      (L, S): each row sums to 1
    output  = weights V                            (L, Ev)

Query i "asks", key j "answers", and the dot product says how well they match;
dividing by sqrt(E) keeps the scores' spread independent of the width E, so the
softmax does not saturate. A mask removes pairs by adding -inf to their score
(their weight becomes exactly 0) or adds any other number as a bias. A causal
mask lets position i see only positions j <= i, which is what a model that
predicts the next token needs.

Multi-head attention projects the inputs ``num_heads`` times into narrower
spaces (E / num_heads wide), attends in each separately, and joins the heads'
outputs with one more projection: different heads can look for different things.
Everything is Tensor operations, so all derivatives (and second derivatives) come
from those ops; self-attention without masks, dropout or returned weights runs as one
op instead (ops/attention.py, PackedSelfAttention: the same numbers, fewer products).

Masks follow PyTorch, whose two functions disagree on what True means:

- ``scaled_dot_product_attention``: a boolean ``attn_mask`` is True where a pair
  *takes part*;
- ``MultiheadAttention``: a boolean ``attn_mask`` or ``key_padding_mask`` is True
  where a pair is *left out* (a padding token, a future position).

A float mask is added to the scores in both.

``scaled_dot_product_attention`` lives in ``nn/functional.py`` with the other
function forms; the layer here uses its helpers from there.
"""

from __future__ import annotations

from minigrad.factories import zeros
from minigrad.nn import init
from minigrad.nn.functional import _attend, _causal_bias, _check_input, _mask_as_bias, linear
from minigrad.nn.layers.linear import Linear
from minigrad.nn.module import Module, Parameter
from minigrad.ops.attention import PackedSelfAttention


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters: ``in_proj_weight`` (3E, E) holding
    the query, key and value projections one above the other (or ``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight`` when kdim / vdim differ from E), ``in_proj_bias``
    (3E,) and ``out_proj`` (a Linear E -> E).

    ``forward(query, key, value)`` takes (L, N, E) - (N, L, E) if ``batch_first`` - and
    returns (output, weights): the weights averaged over heads, (N, L, S), unless
    ``average_attn_weights=False`` (then (N, num_heads, L, S)) or ``need_weights=False``
    (then None).

    >>> import minigrad
    >>> mha = MultiheadAttention(8, num_heads=2, batch_first=True)
    >>> x = minigrad.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv and add_zero_attn are not implemented"
            )
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                f"num_heads ({num_heads}): each head gets embed_dim / num_heads features"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.dropout, self.batch_first = float(dropout), batch_first

        def weight(*shape):
            return Parameter(zeros(*shape, dtype=dtype, device=device))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = weight(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = weight(embed_dim, embed_dim)
            self.k_proj_weight = weight(embed_dim, self.kdim)
            self.v_proj_weight = weight(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = weight(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's init: Xavier-uniform projections, zero biases; out_proj.weight keeps
        Linear's default."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _projections(self):
        """The (weight, bias) pairs for query, key and value."""
        if self._qkv_same_embed_dim:
            weights = self.in_proj_weight.chunk(3)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        return zip(weights, biases)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        """Attend from ``query`` to ``key`` / ``value``. Boolean masks are True where a
        pair is left out: ``key_padding_mask`` (N, S) for padding keys, ``attn_mask``
        (L, S) or (N * num_heads, L, S) for pairs; float masks are added to the scores.
        ``is_causal=True`` without an ``attn_mask`` applies the causal mask (PyTorch
        insists on an explicit attn_mask then; here the mask is built for you)."""
        for x, (w, _) in zip((query, key, value), self._projections()):
            _check_input("MultiheadAttention", x, w)
        batched = query.ndim == 3
        self_attention = query is key is value and self._qkv_same_embed_dim
        # Work batch first, (N, L, E): each projection is then one product of rows and
        # each head a view of its result (see _heads).
        if not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, length, _ = query.shape
        source_length = key.shape[1]
        bias = self._bias(query, attn_mask, key_padding_mask, is_causal, n, length, source_length)
        dropout_p = self.dropout if self.training else 0.0
        if self_attention and bias is None and dropout_p == 0.0 and not need_weights:
            output = self.out_proj(self._packed_self_attention(query))
        else:
            output, weights = _attend(*self._heads(query, key, value), bias, dropout_p)
            # (N, heads, L, head_dim) -> (N, L, E): the heads side by side again
            output = self.out_proj(output.transpose(1, 2).reshape(n, length, self.embed_dim))
        if not batched:
            output = output.squeeze(0)
        elif not self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(1)
        return output, (weights if batched else weights.squeeze(0))

    def _heads(self, query, key, value):
        """Query, key and value, each projected (x W^T + b) and cut into heads:
        (N, size, E) -> (N, heads, size, head_dim), a view of the projection."""
        heads = []
        for x, (w, b) in zip((query, key, value), self._projections()):
            n, size, _ = x.shape
            projected = linear(x, w, b)
            heads.append(projected.reshape(n, size, self.num_heads, self.head_dim).transpose(1, 2))
        return heads

    def _packed_self_attention(self, x):
        """Self-attention of x (N, L, E) as [Q | K | V] = one projection of x, attended by
        one op (ops/attention.py): the same numbers as _heads and _attend.

        Why: the benchmark's block (x (16, 64, 128), 4 heads) made three (1024, 128) @
        (128, 128) products forward and six backward; packed, one (1024, 128) @
        (128, 384) forward and two backward. With 2 BLAS threads here: forward 518 ->
        258 us, dL/dx 343 -> 255 us (the three sums included), dL/dW 505 -> 270 us.
        """
        packed = linear(x, self.in_proj_weight, self.in_proj_bias)
        return PackedSelfAttention.apply(packed, heads=self.num_heads)

    def _bias(self, like, attn_mask, key_padding_mask, is_causal, n, length, source_length):
        """Every mask as one term to add to the scores (N, heads, L, S), or None."""
        if attn_mask is None and is_causal:
            bias = _causal_bias(like, length, source_length)
        else:
            bias = _mask_as_bias(attn_mask, like, masked_when=True)
            if bias is not None and bias.ndim == 3:  # one (L, S) mask per batch item and head
                bias = bias.reshape(n, self.num_heads, length, source_length)
        padding = _mask_as_bias(key_padding_mask, like, masked_when=True)
        if padding is not None:
            padding = padding.reshape(n, 1, 1, source_length)
            bias = padding if bias is None else bias + padding
        return bias
