"""Einstein summation: products of tensors, summed over the letters that do not
appear in the output.

``einsum("ij,jk->ik", a, b)`` is ``a @ b``: y_ik = sum_j a_ij b_jk. Its derivative
in one operand is again an einsum: dL/da_ij = sum_k dL/dy_ik b_jk, that is
``einsum("ik,jk->ij", grad, b)``: the gradient takes the operand's place, and the
operand's subscripts become the output. Letters only the operand has (summed
away in the forward pass) get the gradient broadcast over them.

    >>> import minigrad
    >>> a, b = minigrad.ones(2, 3), minigrad.ones(3, 4)
    >>> einsum("ij,jk->ik", a, b).shape
    (2, 4)
"""

from __future__ import annotations

import string

from minigrad.autograd.function import Function
from minigrad.ops.broadcast import sum_to_shape


def parse(equation, shapes):
    """The input subscripts and the output subscripts of ``equation``, with every
    ``...`` written out as letters the equation does not use.

    >>> parse("...j,j", [(2, 3), (3,)])
    (['aj', 'j'], 'a')
    >>> parse("ij,jk", [(2, 3), (3, 4)])
    (['ij', 'jk'], 'ik')
    """
    equation = equation.replace(" ", "")
    lhs, arrow, output = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(
            f"einsum: the equation {equation!r} has {len(inputs)} operand(s), but "
            f"{len(shapes)} tensor(s) were given"
        )
    spare = [c for c in string.ascii_letters if c not in equation]
    widths = [len(s) - len(t) + 3 for t, s in zip(inputs, shapes) if "..." in t]
    broadcast = "".join(spare[: max(widths, default=0)])
    expanded = []
    for term, shape in zip(inputs, shapes):
        if "..." in term:
            width = len(shape) - len(term) + 3
            term = term.replace("...", broadcast[len(broadcast) - width :] if width else "")
        if len(term) != len(shape) or (term and not term.isalpha()):
            raise ValueError(
                f"einsum: subscripts {term!r} do not fit an operand of shape {tuple(shape)}: "
                "give one letter per dimension (or '...' for several)"
            )
        expanded.append(term)
    if arrow:
        output = output.replace("...", broadcast)
    else:  # implicit: the broadcast dims, then every letter seen once, in alphabetical order
        letters = "".join(expanded)
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in broadcast)
        output = broadcast + "".join(once)
    for c in output:
        if c not in "".join(expanded) or output.count(c) > 1:
            raise ValueError(
                f"einsum: output subscript {c!r} in {equation!r} must appear once in the output "
                "and in at least one operand"
            )
    return expanded, output


class Einsum(Function):
    """y = einsum(inputs -> output, x_1, ..., x_n);  dL/dx_k = einsum of dL/dy and the
    other operands into x_k's subscripts"""

    @staticmethod
    def forward(ctx, *operands, inputs, output):
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*operands)
        equation = ",".join(inputs) + "->" + output
        return ctx.xp.einsum(equation, *operands, optimize=len(operands) > 1)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved
        return tuple(
            _operand_grad(grad, operands, k, ctx.inputs, ctx.output) if needed else None
            for k, needed in enumerate(ctx.needs_input_grad)
        )


def _operand_grad(grad, operands, k, inputs, output):
    """dL/dx_k: the gradient in x_k's place, x_k's subscripts as the output."""
    target, shape = inputs[k], operands[k].shape
    unique = "".join(dict.fromkeys(target))  # a letter repeated in x_k (a diagonal) once
    sizes = {c: shape[target.index(c)] for c in unique}
    others = [inputs[j] for j in range(len(inputs)) if j != k]
    present = output + "".join(others)
    kept = "".join(c for c in unique if c in present)  # letters the others can give
    tensors = [grad] + [operands[j] for j in range(len(operands)) if j != k]
    g = Einsum.apply(*tensors, inputs=[output] + others, output=kept)
    # Letters only x_k has were summed away: size 1 here, then broadcast over them.
    # A size-1 dim of x_k that broadcast in the forward pass is summed back to 1.
    got = dict(zip(kept, g.shape))
    g = g.reshape(tuple(got.get(c, 1) for c in unique))
    g = sum_to_shape(g, tuple(sizes[c] if c in kept else 1 for c in unique))
    unique_shape = tuple(sizes[c] for c in unique)
    g = g if g.shape == unique_shape else g.expand(*unique_shape)
    if unique != target:
        g = _onto_diagonals(g, unique, target, sizes, inputs + [output])
    return g


def _onto_diagonals(g, unique, target, sizes, used):
    """g over ``unique`` letters, placed on the diagonals that ``target`` repeats
    ("ii": y = sum_i x_ii reads the diagonal, so the gradient is g there and 0
    elsewhere): each repeat gets a fresh letter tied to the first by an identity matrix."""
    spare = iter(c for c in string.ascii_letters if c not in "".join(used))
    renamed, eyes, terms = "", [], []
    for c in target:
        if c in renamed:  # a repeat: a fresh letter, tied to c by an identity
            fresh = next(spare)
            eyes.append(g._wrap(g.xp.eye(sizes[c], dtype=g.dtype)))
            terms.append(c + fresh)
            renamed += fresh
        else:
            renamed += c
    return Einsum.apply(g, *eyes, inputs=[unique] + terms, output=renamed)


def einsum(equation, *operands):
    """Sum of products over the letters of ``equation`` that the output leaves out
    (as ``torch.einsum``: implicit output, ``...`` and broadcasting included).

    >>> import minigrad
    >>> x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> einsum("ij->j", x).tolist(), einsum("ij,ij->", x, x).item()
    ([4.0, 6.0], 30.0)
    """
    from minigrad.tensor import Tensor

    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {i} must be a Tensor, got {type(t).__name__}")
    inputs, output = parse(equation, [t.shape for t in operands])
    return Einsum.apply(*operands, inputs=inputs, output=output)
