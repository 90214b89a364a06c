"""Self-attention on one packed projection: [Q | K | V] side by side, as one op.

Multi-head self-attention projects the same x three times. Projected together, as
one x @ [Wq; Wk; Wv]^T, that is one matrix product instead of three, forward and
backward alike. But cutting Q, K and V out of the result as three slices costs
their backward: each slice's gradient is an array of zeros as large as the whole
projection, with the slice's gradient written in, and the three are then added up.
This op takes the packed projection (N, L, 3E) whole and writes the three gradients
straight into one array of its shape, so the fused product is a gain.

For each batch item and head (E = heads * head_dim), with s = 1 / sqrt(head_dim):

    W = softmax(s Q K^T)                      (L, L), softmax along each row
    O = W V                                   (L, head_dim)
    dV = W^T dO,   dW = dO V^T,   dS = W * (dW - rowsum(dW * W))
    dQ = s dS K,   dK = s dS^T Q

MultiheadAttention uses it for self-attention without masks, dropout or returned
weights (minigrad/nn/layers/attention.py, ``_packed_self_attention``); every other
case goes through the plain composition in nn/functional.py ``_attend``, which is
also the definition this op is tested against.
"""

from __future__ import annotations

import math

from minigrad.autograd.function import Function
from minigrad.autograd.mode import mode
from minigrad.dtypes import require_floating
from minigrad.ops.reduce import softmax_grad, softmax_into
from minigrad.ops.shape import stack


def _split(packed, heads):
    """(N, L, 3E) -> (N, L, 3, heads, head_dim), a view; permuted by (2, 0, 3, 1, 4) it
    is Q, K and V, each (N, heads, L, head_dim)."""
    n, length, width = packed.shape
    return packed.reshape(n, length, 3, heads, width // (3 * heads))


def _heads(packed, heads):
    """Q, K and V of an array, each (N, heads, L, head_dim), views."""
    return _split(packed, heads).transpose(2, 0, 3, 1, 4)


class PackedSelfAttention(Function):
    """O = softmax(s Q K^T) V per head, [Q | K | V] = packed, heads joined (N, L, E);
    dV = W^T dO, dQ = s dS K, dK = s dS^T Q, dS = W * (dO V^T - rowsum(dO V^T * W))"""

    @staticmethod
    def forward(ctx, packed, *, heads):
        xp = ctx.xp
        require_floating(packed, "packed self-attention")
        n, length, width = packed.shape
        if width % (3 * heads):
            raise RuntimeError(
                f"packed self-attention: the last dimension ({width}) must hold Q, K and V "
                f"for {heads} heads, a multiple of 3 * {heads}"
            )
        q, k, v = _heads(packed, heads)
        ctx.heads, ctx.scale = heads, 1.0 / math.sqrt(q.shape[-1])
        weights = xp.matmul(q * ctx.scale, k.transpose(0, 1, 3, 2))  # (Q s) K^T: see _attend
        ctx.weights = softmax_into(ctx.backend, weights, -1, out=weights)  # in place
        ctx.save_for_backward(packed)
        out = xp.matmul(weights, v)  # (N, heads, L, head_dim) -> (N, L, E): heads side by side
        return out.transpose(0, 2, 1, 3).reshape(n, length, width // 3)

    @staticmethod
    def backward(ctx, grad):
        (packed,) = ctx.saved
        if not mode.grad_enabled:  # first derivatives only: the formulas on the arrays
            return grad._wrap(_gradient(ctx.xp, packed.data, ctx.weights, grad.data, ctx))
        q, k, v = _split(packed, ctx.heads).permute(2, 0, 3, 1, 4)
        weights = ((q * ctx.scale) @ k.transpose(-2, -1)).softmax(-1)
        g = grad.reshape(*grad.shape[:2], ctx.heads, -1).transpose(1, 2)
        dw = g @ v.transpose(-2, -1)
        ds = weights * (dw - (dw * weights).sum(-1, keepdim=True)) * ctx.scale
        d = stack([ds @ k, ds.transpose(-2, -1) @ q, weights.transpose(-2, -1) @ g])
        return d.permute(1, 3, 0, 2, 4).reshape(packed.shape)


def _gradient(xp, packed, weights, grad, ctx):
    """dL/d packed, each of dQ, dK, dV written into its place of one new array."""
    n, length, width = packed.shape
    q, k, v = _heads(packed, ctx.heads)
    g = grad.reshape(n, length, ctx.heads, -1).transpose(0, 2, 1, 3)  # (N, heads, L, hd)
    d = xp.empty(packed.shape, dtype=packed.dtype)
    dq, dk, dv = _heads(d, ctx.heads)
    dv[...] = xp.matmul(weights.transpose(0, 1, 3, 2), g)
    ds = softmax_grad(xp, xp.matmul(g, v.transpose(0, 1, 3, 2)), weights, -1)  # dL/dS
    ds *= ctx.scale
    dq[...] = xp.matmul(ds, k)
    dk[...] = xp.matmul(ds.transpose(0, 1, 3, 2), q)
    return d
