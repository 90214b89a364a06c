"""Embedding: a table of learned vectors, one per token id; the layer looks rows up.

Looking up row i is the same as multiplying the one-hot vector of i by the
table, so the gradient of a row is the sum of the gradients of every position
that used it (an index-add), and rows not used get none.

    >>> import minigrad
    >>> from minigrad import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(minigrad.tensor([[1, 2, 0]])).shape
    (1, 3, 3)
    >>> emb.weight[0].tolist()            # the padding row starts at zero
    [0.0, 0.0, 0.0]
"""

from __future__ import annotations

from minigrad.autograd.mode import no_grad
from minigrad.factories import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter


class Embedding(Module):
    """A (num_embeddings, embedding_dim) table, initialised from N(0, 1) as in PyTorch.

    ``padding_idx``: that row is initialised to zeros and gets no gradient, so it
    stays what it is (for the padding token of variable-length sequences).

    >>> Embedding(5, 2, padding_idx=0)
    Embedding(5, 2, padding_idx=0)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        _weight=None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"padding_idx {padding_idx} must be within the {num_embeddings} embeddings"
                )
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            weight = zeros(num_embeddings, embedding_dim, device=device, dtype=dtype)
            self.weight = Parameter(weight, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None):
        """An Embedding whose table is ``embeddings`` (2-D; shared, not copied); frozen
        (no gradient) unless ``freeze=False``.

        >>> import minigrad
        >>> table = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> Embedding.from_pretrained(table)(minigrad.tensor([1])).tolist()
        [[3.0, 4.0]]
        """
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx=padding_idx, _weight=embeddings, _freeze=freeze)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
