"""Files that are not what they claim: each one a SerializationError, never a crash."""

import json
import pickle
import struct

import numpy as np
import pytest

import minigrad
from minigrad.io import SerializationError, load, save


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    save({"w": minigrad.ones(4, 5), "b": minigrad.zeros(5), "epoch": 2}, path)
    return path


def header_of(data: bytes) -> tuple[int, dict]:
    (size,) = struct.unpack("<Q", data[:8])
    return size, json.loads(data[8 : 8 + size])


def with_header(header: dict, payload: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


def assert_refused(path, *words):
    with pytest.raises(SerializationError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message, "the error must name the file"
    for word in words:
        assert word in message
    return message


def test_a_file_truncated_anywhere_is_refused(good_file, tmp_path):
    data = good_file.read_bytes()
    size, _ = header_of(data)
    cuts = [0, 1, 7, 8, 9, 8 + size // 2, 8 + size - 1, 8 + size, 8 + size + 3, len(data) - 1]
    for cut in cuts:
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(data[:cut])
        assert_refused(path)


def test_random_bytes_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    for n in (3, 64, 4096):
        path = tmp_path / f"random{n}.bin"
        path.write_bytes(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        assert_refused(path)


class Boom:
    """Unpickling this would run print(): the reason pickles are never loaded."""

    def __reduce__(self):
        return (print, ("code ran while loading",))


def test_a_pickle_file_is_refused_without_running_it(tmp_path, capsys):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": Boom()}))  # the one place pickle is used: to refuse it
    assert_refused(path, "pickle")
    assert "code ran" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, words",
    [
        (b'{"weights": [1, 2, 3]}', ["JSON"]),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), ["PNG"]),
        (b"PK\x03\x04" + bytes(100), ["zip"]),
        (b"", ["truncated"]),
    ],
)
def test_foreign_files_are_refused_with_a_hint(tmp_path, content, words):
    path = tmp_path / "foreign.safetensors"
    path.write_bytes(content)
    assert_refused(path, *words)


def test_a_header_that_lies_about_offsets_is_refused(good_file, tmp_path):
    data = good_file.read_bytes()
    size, header = header_of(data)
    payload = data[8 + size :]
    lies = {
        "overlap": lambda h: (
            h["w"].update(data_offsets=[0, 80]) or h["b"].update(data_offsets=[40, 60])
        ),
        "past the end": lambda h: h["b"].update(
            data_offsets=[h["b"]["data_offsets"][0] + 1000, h["b"]["data_offsets"][1] + 1000]
        ),
        "wrong size": lambda h: h["w"].update(shape=[4, 6]),
        "negative": lambda h: h["w"].update(data_offsets=[-8, 72]),
        "not ints": lambda h: h["w"].update(data_offsets=["0", "80"]),
        "unknown dtype": lambda h: h["w"].update(dtype="BF16"),
        "no dtype": lambda h: h["w"].pop("dtype"),
    }
    for name, lie in lies.items():
        lying = json.loads(json.dumps(header))
        lie(lying)
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(with_header(lying, payload))
        assert_refused(path)


def test_a_header_length_past_the_end_is_refused(good_file, tmp_path):
    data = bytearray(good_file.read_bytes())
    data[:8] = struct.pack("<Q", 2**62)
    path = tmp_path / "huge.safetensors"
    path.write_bytes(bytes(data))
    assert_refused(path, "announce a header")


def test_corrupt_minigrad_metadata_is_refused(good_file, tmp_path):
    data = good_file.read_bytes()
    size, header = header_of(data)
    payload = data[8 + size :]
    for bad in ['{"root": {"tensor": "missing"}}', "not json", '{"root": {"what": 1}}', "[1]"]:
        header["__metadata__"] = {"minigrad": bad}
        path = tmp_path / "meta.safetensors"
        path.write_bytes(with_header(header, payload))
        assert_refused(path, "metadata")


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.safetensors")
