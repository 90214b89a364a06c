"""Saving and loading: safetensors files, no pickle, atomic writes.

``save(obj, path)`` stores a state dict or a whole checkpoint (model,
optimizer, scheduler, epoch, RNG state, history, fitted preprocessors) in the
`safetensors <https://github.com/huggingface/safetensors>`_ format:

- every array (a minigrad Tensor or a NumPy array) is stored as a tensor of
  the file, under the dotted path that leads to it (``"model.0.weight"``); a
  plain state dict therefore keeps PyTorch's key names and shapes, and the file
  opens with ``safetensors.numpy.load_file`` or ``safetensors.torch.load_file``;
- everything else (dicts, lists, tuples, ints, floats, strings, bools, None) is
  described by one JSON document in the header's metadata, under the key
  ``"minigrad"``. It records the exact structure and, for each array, the key of
  the tensor that holds it, so that nested dicts (with dots in their own keys),
  int keys, tuples, and Tensor-versus-ndarray all come back exactly.

Why not pickle (what ``torch.save`` uses)? Loading a pickle runs code chosen by
whoever wrote the file. A safetensors file is data only: a JSON header and raw
bytes. ``load`` checks the header before trusting it, so a truncated, corrupt or
foreign file raises ``SerializationError`` naming the file and the problem.

Why atomic? A crash (or Ctrl-C) in the middle of writing would otherwise leave
half a file where the last good checkpoint was. ``save`` writes a temporary file
in the same folder, flushes it to disk, then renames it over the target: the
rename is atomic, so the target is always either the old file or the new one.

    >>> import os, tempfile
    >>> import minigrad
    >>> from minigrad.io import load, save       # also minigrad.save, minigrad.load
    >>> state = {"weight": minigrad.ones(2, 3), "step": 7, "betas": (0.9, 0.999)}
    >>> path = os.path.join(tempfile.mkdtemp(), "state.safetensors")
    >>> save(state, path)
    >>> back = load(path)
    >>> back["weight"].shape, back["step"], back["betas"]
    ((2, 3), 7, (0.9, 0.999))

The layout of the JSON document (each node of the saved object is one of)::

    null | true | false | 1 | 2.5 | "text"          a Python scalar, as itself
    {"float": "nan" | "inf" | "-inf"}               a float JSON cannot spell
    {"list": [node, ...]}   {"tuple": [node, ...]}
    {"dict": [[key, node], ...]}                    keys: str, int, float, bool, None
    {"tensor": "file key", "requires_grad": bool}   a minigrad Tensor
    {"ndarray": "file key"}                         a NumPy array
    {"numpy_scalar": "file key"}                    a NumPy scalar (numpy.float32(1.5))
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import tempfile

import numpy

from minigrad.backend import backend_of_array, get_backend

FORMAT_VERSION = 1
METADATA_KEY = "minigrad"
MAX_HEADER_BYTES = 100_000_000  # the safetensors library's own limit

# The dtypes of the safetensors format, as NumPy spells them.
_DTYPES = {
    "BOOL": numpy.bool_,
    "U8": numpy.uint8,
    "I8": numpy.int8,
    "U16": numpy.uint16,
    "I16": numpy.int16,
    "U32": numpy.uint32,
    "I32": numpy.int32,
    "U64": numpy.uint64,
    "I64": numpy.int64,
    "F16": numpy.float16,
    "F32": numpy.float32,
    "F64": numpy.float64,
}


class SerializationError(ValueError):
    """A file that ``minigrad.load`` cannot read: truncated, corrupt, or not a safetensors file.

    >>> raise SerializationError("model.safetensors: truncated")
    Traceback (most recent call last):
        ...
    minigrad.io.SerializationError: model.safetensors: truncated
    """


# --- saving -------------------------------------------------------------------------
def save(obj, path) -> None:
    """Write ``obj`` (a state dict, a checkpoint, a Tensor, ...) to ``path``, atomically.

    Arrays on a GPU are copied to the host first. Objects of other types (a
    Module, a scaler) are refused with a TypeError: save their ``state_dict()`` or
    ``get_state()`` instead.

    >>> import os, tempfile
    >>> import minigrad
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save({"0.weight": minigrad.zeros(4, 2)}, path)
    >>> load(path)["0.weight"].shape
    (4, 2)
    """
    import safetensors.numpy

    tensors: dict[str, numpy.ndarray] = {}
    root = _encode(obj, [], tensors)
    document = json.dumps({"format": FORMAT_VERSION, "root": root}, allow_nan=False)
    data = safetensors.numpy.save(tensors, metadata={METADATA_KEY: document})
    write_atomic(path, data)


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never seen half-written.

    The bytes go to a temporary file in the same folder (a rename is only atomic
    within one file system), are flushed and synced to the disk, and the file is
    then renamed over ``path`` with ``os.replace``.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):  # else mkstemp would name its hidden temporary file
        raise FileNotFoundError(
            f"cannot save to {path!r}: the folder {os.path.dirname(path)!r} does not exist; "
            "create it first (os.makedirs(folder, exist_ok=True))"
        )
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"cannot save to {path!r}: it is a folder; give a file name in it, such as "
            f"{os.path.join(path, 'model.safetensors')!r}"
        )
    mode = _file_mode(path)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on the disk before the name points at them
        os.chmod(temp, mode)  # mkstemp makes private files; give the usual permissions
        os.replace(temp, path)
    except BaseException:  # KeyboardInterrupt included: never leave the temporary file behind
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _sync_folder(folder)


def _file_mode(path: str) -> int:
    """The permissions the file should get: those it has now, or what open() would give."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)  # the only way to read the umask is to set it...
        os.umask(umask)  # ...and put it back at once
        return 0o666 & ~umask


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode(obj, path: list, tensors: dict):
    """The JSON node of ``obj``; its arrays are added to ``tensors`` under dotted keys."""
    from minigrad.tensor import Tensor

    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"float": repr(obj)}  # 'nan', 'inf', '-inf'
    if isinstance(obj, Tensor):
        key = _add_tensor(tensors, path, obj.numpy())
        return {"tensor": key, "requires_grad": obj.requires_grad}
    if isinstance(obj, numpy.generic):
        return {"numpy_scalar": _add_tensor(tensors, path, numpy.asarray(obj))}
    if _is_array(obj):
        return {"ndarray": _add_tensor(tensors, path, backend_of_array(obj).to_numpy(obj))}
    if isinstance(obj, (list, tuple)):
        items = [_encode(item, [*path, str(i)], tensors) for i, item in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if isinstance(obj, dict):
        return {
            "dict": [
                [_check_key(k, path), _encode(v, [*path, str(k)], tensors)] for k, v in obj.items()
            ]
        }
    raise TypeError(
        f"save: cannot store a {type(obj).__name__} at {_where(path)}. minigrad files hold "
        "Tensors, NumPy arrays, dicts, lists, tuples, numbers, strings, bools and None; "
        "save an object's state_dict() (or get_state()) instead of the object itself"
    )


def _is_array(obj) -> bool:
    """A NumPy or CuPy array (anything else with a shape and a dtype is not ours to guess)."""
    return isinstance(obj, numpy.ndarray) or type(obj).__module__.startswith("cupy")


def _check_key(key, path: list):
    """Dict keys must survive a trip through JSON unchanged."""
    if key is None or isinstance(key, (bool, int, str)):
        return key
    if isinstance(key, float) and math.isfinite(key):
        return key
    raise TypeError(
        f"save: the dict at {_where(path)} has a key {key!r} of type {type(key).__name__}; "
        "keys must be str, int, finite float, bool or None"
    )


def _add_tensor(tensors: dict, path: list, array) -> str:
    """Store ``array`` under the dotted path; a suffix keeps clashing paths apart."""
    array = numpy.asarray(array)
    if array.dtype.type not in _DTYPES.values():
        raise TypeError(
            f"save: the array at {_where(path)} has dtype {array.dtype}, which safetensors "
            f"cannot store; use one of {sorted(numpy.dtype(t).name for t in _DTYPES.values())}"
        )
    key = ".".join(path) or "tensor"
    base, n = key, 0
    while key in tensors:  # {"a.b": x, "a": {"b": y}} would both be "a.b"
        n += 1
        key = f"{base}~{n}"
    # safetensors stores contiguous little-endian bytes
    tensors[key] = numpy.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
    return key


def _where(path: list) -> str:
    return "the top level" if not path else "key " + repr(".".join(path))


# --- loading ------------------------------------------------------------------------
def load(path, device=None):
    """Read an object written by ``save``; Tensors are created on ``device`` (default cpu).

    A safetensors file written by another program (PyTorch, for instance) loads
    as a flat dict of Tensors, in the order of its header. NumPy arrays saved as
    such come back as NumPy arrays, whatever ``device`` is.

    Raises ``SerializationError`` when the file is not a valid safetensors file,
    with its name and what is wrong; ``FileNotFoundError`` when it does not exist.

    >>> import os, tempfile
    >>> import minigrad
    >>> path = os.path.join(tempfile.mkdtemp(), "x.safetensors")
    >>> save({"x": minigrad.arange(3)}, path)
    >>> load(path, device="cpu")["x"].tolist()
    [0, 1, 2]
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        data = file.read()
    header = read_header(data, path)
    arrays = _read_arrays(data, header, path)
    backend = get_backend(device if device is not None else "cpu")
    metadata = header.get("__metadata__") or {}
    if METADATA_KEY not in metadata:  # a plain safetensors file: a flat state dict
        return {key: _make_tensor(arrays[key], backend, False) for key in arrays}
    try:
        document = json.loads(metadata[METADATA_KEY])
        if not isinstance(document, dict) or "root" not in document:
            raise ValueError("it has no 'root' entry")
        return _decode(document["root"], arrays, backend)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as error:
        raise SerializationError(
            f"{path}: the minigrad metadata in the header is corrupt ({error})"
        ) from None


def read_header(data: bytes, path: str = "<bytes>") -> dict:
    """The parsed, checked JSON header of the safetensors bytes ``data``.

    Layout of a safetensors file: 8 bytes (little-endian u64) giving the header
    length N, N bytes of JSON, then the tensors' bytes. Each tensor entry of the
    header gives its dtype, shape, and ``data_offsets`` [begin, end) into that
    data; the offsets must tile the data exactly.
    """
    try:
        header = _parse_header(data, path)
    except SerializationError:
        foreign = _recognise(data)
        if foreign:  # say what the file is, rather than how its bytes misparse
            raise SerializationError(f"{path}: not a safetensors file: {foreign}") from None
        raise
    _check_entries(header, len(data) - 8 - struct.unpack("<Q", data[:8])[0], path)
    return header


def _parse_header(data: bytes, path: str) -> dict:
    if len(data) < 8:
        raise SerializationError(
            f"{path}: the file is truncated or not a safetensors file: it has only "
            f"{len(data)} bytes, fewer than the 8 that give the header length"
        )
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(len(data) - 8, MAX_HEADER_BYTES):
        raise SerializationError(
            f"{path}: not a valid safetensors file: its first 8 bytes announce a header of "
            f"{size} bytes, but the file has {len(data)} bytes in all; it is truncated, "
            "or not a safetensors file"
        )
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SerializationError(
            f"{path}: the header is not valid JSON: the file is corrupt, truncated, or not "
            "a safetensors file"
        ) from None
    if not isinstance(header, dict):
        raise SerializationError(f"{path}: the header is JSON but not an object")
    return header


def _check_entries(header: dict, data_size: int, path: str) -> None:
    """Every tensor entry well formed, and the offsets tiling the data exactly."""
    spans = []
    for key, entry in header.items():
        if key == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise SerializationError(f"{path}: __metadata__ must map strings to strings")
            continue
        if isinstance(entry, dict) and entry.get("dtype") not in _DTYPES:
            raise SerializationError(
                f"{path}: tensor {key!r} has dtype {entry.get('dtype')!r}, which minigrad "
                f"cannot read (NumPy has no such type); readable: {sorted(_DTYPES)}"
            )
        try:
            dtype = numpy.dtype(_DTYPES[entry["dtype"]])
            shape = _ints(entry["shape"])
            begin, end = _ints(entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SerializationError(
                f"{path}: the header entry of tensor {key!r} is malformed: {entry!r} "
                f"(dtype must be one of {sorted(_DTYPES)}, shape a list of ints, "
                "data_offsets [begin, end])"
            ) from None
        expected = math.prod(shape) * dtype.itemsize
        if min(shape, default=0) < 0 or not 0 <= begin <= end or end - begin != expected:
            raise SerializationError(
                f"{path}: tensor {key!r} has shape {shape} and dtype {entry['dtype']} "
                f"({expected} bytes) but its data_offsets {[begin, end]} span {end - begin} bytes"
            )
        spans.append((begin, end, key))
    position = 0
    for begin, end, key in sorted(spans):
        if begin != position:
            raise SerializationError(
                f"{path}: the header lies about offsets: tensor {key!r} starts at byte {begin} "
                f"of the data, but the previous tensor ends at {position}"
            )
        position = end
    if position != data_size:
        raise SerializationError(
            f"{path}: the header's tensors need {position} bytes of data but the file holds "
            f"{data_size}; the file is truncated or corrupt"
        )


def _ints(values) -> list:
    """A list of JSON integers (no floats, no bools), or a ValueError."""
    if not isinstance(values, list) or not all(type(v) is int for v in values):
        raise ValueError(f"expected a list of integers, got {values!r}")
    return values


def _recognise(data: bytes) -> str:
    """What a file that is not safetensors is instead, judged by its first bytes ("" if unsure)."""
    if data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q", b"]q"):
        return (
            "it looks like a pickle file (torch.save writes those); minigrad never loads "
            "pickles, because loading one can run arbitrary code"
        )
    if data[:4] == b"PK\x03\x04":
        return (
            "it looks like a zip archive, the format of torch.save's .pt files; save the "
            "weights with safetensors instead (safetensors.torch.save_file)"
        )
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "it is a PNG image"
    if data.lstrip()[:1] in (b"{", b"["):
        return "it looks like a JSON text file"
    return ""


def _read_arrays(data: bytes, header: dict, path: str) -> dict:
    """The tensors of the file as NumPy arrays, in header order, read by safetensors."""
    import safetensors
    import safetensors.numpy

    try:
        arrays = safetensors.numpy.load(data)
    except (safetensors.SafetensorError, ValueError, TypeError) as error:
        raise SerializationError(f"{path}: safetensors cannot read the file: {error}") from None
    return {key: arrays[key] for key in header if key != "__metadata__"}


def _decode(node, arrays: dict, backend):
    """Rebuild the object that ``_encode`` described by ``node``."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise ValueError(f"unexpected node {node!r}")
    if "tensor" in node:
        return _make_tensor(_array(arrays, node["tensor"]), backend, node.get("requires_grad"))
    if "ndarray" in node:
        return numpy.array(_array(arrays, node["ndarray"]))  # a copy that we own
    if "numpy_scalar" in node:
        return _array(arrays, node["numpy_scalar"])[()]
    if "float" in node:
        return float(node["float"])
    if "list" in node:
        return [_decode(item, arrays, backend) for item in node["list"]]
    if "tuple" in node:
        return tuple(_decode(item, arrays, backend) for item in node["tuple"])
    if "dict" in node:
        return {key: _decode(value, arrays, backend) for key, value in node["dict"]}
    raise ValueError(f"unexpected node {node!r}")


def _array(arrays: dict, key):
    if key not in arrays:
        raise KeyError(f"it refers to a tensor {key!r} that the file does not hold")
    return arrays[key]


def _make_tensor(array, backend, requires_grad):
    """A Tensor on ``backend``'s device holding a copy of ``array``."""
    from minigrad.tensor import Tensor

    tensor = Tensor._make(backend.asarray(array, copy=True), backend)
    if requires_grad and tensor.dtype.kind == "f":
        tensor.requires_grad = True
    return tensor


__all__ = ["SerializationError", "load", "read_header", "save", "write_atomic"]
