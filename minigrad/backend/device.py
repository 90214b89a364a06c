"""Device names, as PyTorch spells them: "cpu", "cuda", "cuda:0"; and "strict", the
testing device that follows CuPy's rules in host memory (minigrad/testing/strict.py)."""

from __future__ import annotations


class Device:
    """A place where arrays live.

    >>> Device("cuda")
    device(type='cuda', index=0)
    >>> Device("cpu") == "cpu"
    True
    """

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu"):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"a device is named by a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, index = spec.partition(":")
        if kind in ("cpu", "strict") and not index:
            self.type, self.index = kind, None
        elif kind == "cuda" and (not index or index.isdigit()):
            self.type, self.index = "cuda", int(index or 0)
        else:
            raise ValueError(
                f"unknown device {spec!r}: expected 'cpu', 'cuda', 'cuda:N' or 'strict'"
            )

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='cuda', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))
