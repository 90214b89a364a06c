"""Device names, as PyTorch spells them: "cpu", "cuda", "cuda:0"."""

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
        if kind == "cpu" and not index:
            self.type, self.index = "cpu", None
        elif kind == "cuda" and (not index or index.isdigit()):
            self.type, self.index = "cuda", int(index or 0)
        else:
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")

    def __str__(self):
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self):
        if self.type == "cpu":
            return "device(type='cpu')"
        return f"device(type='cuda', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))
