"""The strict device follows CuPy's rules: no implicit NumPy, only CuPy's functions, counted copies.

These tests name the device themselves, so they run (the same) under every MINIGRAD_DEVICE.
"""

import numpy
import pytest

import minigrad
from minigrad import nn
from minigrad.backend import backend_of_array, count_transfers, get_backend, total_transfers
from minigrad.testing.strict import StrictArray

xp = get_backend("strict").xp


def strict(values):
    return minigrad.tensor(values, device="strict")


def test_its_arrays_are_their_own_type_and_refuse_implicit_conversion():
    x = strict([1.0, 2.0, 3.0])
    assert isinstance(x.data, StrictArray) and x.device == "strict"
    for convert in (numpy.asarray, numpy.array, lambda a: numpy.sum(a), lambda a: a.__array__()):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
            convert(x.data)


def test_tensors_on_the_device_refuse_implicit_conversion_as_in_pytorch():
    x = strict([1.0, 2.0])
    with pytest.raises(TypeError, match=r"can't convert strict device type tensor .* \.cpu\(\)"):
        numpy.asarray(x)
    assert numpy.asarray(x.cpu()).tolist() == [1.0, 2.0] == x.numpy().tolist()


def test_mixing_with_numpy_arrays_raises_but_numbers_are_fine():
    a = strict([1.0, 2.0]).data
    for mix in (
        lambda: a + numpy.ones(2),
        lambda: numpy.ones(2) * a,
        lambda: xp.maximum(a, numpy.zeros(2)),
        lambda: a.__setitem__(0, numpy.ones(1)),
    ):
        with pytest.raises(TypeError):
            mix()
    assert (a * 2 + 1).tolist() == [3.0, 5.0]
    scaled = numpy.float32(3) * a  # a NumPy scalar's operator: computed on the device
    assert isinstance(scaled, StrictArray) and scaled.tolist() == [3.0, 6.0]


def test_results_are_arrays_never_numpy_scalars():
    total = xp.sum(strict([1.0, 2.0]).data)
    assert isinstance(total, StrictArray) and total.shape == () and total.item() == 3.0
    assert isinstance(strict([[1.0]]).data[0, 0], StrictArray)


def test_a_function_given_out_returns_that_very_array_as_cupy_does():
    # minigrad.compile follows in-place writes by identity: a new wrapper around the same
    # memory would hide them from the trace
    a, out = strict([1.0, -2.0]).data, strict([0.0, 0.0]).data
    assert xp.maximum(a, 0, out=out) is out and out.tolist() == [1.0, 0.0]
    assert xp.matmul(a, a, out=strict(0.0).data).tolist() == 5.0


def test_its_module_has_only_cupys_functions_with_cupys_signatures():
    a = strict([1.0, 2.0]).data
    with pytest.raises(AttributeError, match="CuPy may lack it"):
        xp.nanpercentile  # noqa: B018 - not on the list: CuPy's own name check comes first
    with pytest.raises(AttributeError):
        xp.add.at  # noqa: B018 - numpy.add.at: CuPy has cupyx.scatter_add instead
    with pytest.raises(TypeError, match=r"cupy\.sum"):
        xp.sum(a, initial=0.0)  # NumPy's sum takes `initial`; CuPy's does not
    with pytest.raises(AttributeError, match="cupy.ndarray methods"):
        a.ptp()  # noqa: B018
    assert xp.sum(a, axis=0, keepdims=True).tolist() == [3.0]


def test_scatter_add_adds_repeated_indices_as_cupyx_does():
    target = xp.zeros(3)
    get_backend("strict").scatter_add(target, xp.asarray([0, 0, 2]), xp.asarray([1.0, 2.0, 5.0]))
    assert target.tolist() == [3.0, 0.0, 5.0]


def test_copies_each_way_are_counted_with_their_bytes():
    with count_transfers() as moved:
        x = minigrad.tensor(numpy.arange(6, dtype=numpy.float32), device="strict")
        y = (x * 2).sum()
        assert moved.to_device == 1 and moved.bytes_to_device == 24 and moved.to_host == 0
        assert y.item() == 30.0
        assert x.numpy().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert float(y) == 30.0
        assert x.cpu().device == "cpu"
    assert (moved.to_host, moved.bytes_to_host) == (4, 4 + 24 + 4 + 24)
    assert total_transfers.to_host >= moved.to_host  # the running totals include them


def test_models_move_to_the_device_and_back():
    model = nn.Linear(3, 2)
    weight = model.weight
    model.to("strict")
    assert model.weight is weight and weight.device == "strict"
    assert backend_of_array(weight.data) is get_backend("strict")
    out = model(minigrad.ones(4, 3, device="strict"))
    assert out.device == "strict" and out.shape == (4, 2)
    model.to("cpu")
    assert isinstance(weight.data, numpy.ndarray)


def test_a_model_fed_a_tensor_from_another_device_names_both_and_the_op():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to("strict")
    with pytest.raises(RuntimeError, match=r"Linear: .* on cpu .* on strict"):
        model(minigrad.ones(2, 3, device="cpu"))
    out = model(minigrad.ones(2, 3, device="strict"))
    cpu_targets = minigrad.tensor([0, 1], device="cpu")
    for name, call in [
        ("CrossEntropy", lambda: nn.functional.cross_entropy(out, cpu_targets)),
        ("nll_loss", lambda: nn.functional.nll_loss(out, cpu_targets)),
        ("Sub", lambda: nn.functional.mse_loss(out, minigrad.zeros(2, 4, device="cpu"))),
        ("gt", lambda: out > minigrad.zeros(2, 4, device="cpu")),
        ("where", lambda: out.masked_fill(minigrad.tensor([True] * 4, device="cpu"), 0.0)),
        ("batch_norm", lambda: nn.BatchNorm1d(3).to("strict")(minigrad.ones(2, 3, device="cpu"))),
        ("add_", lambda: out.detach().add_(minigrad.ones(2, 4, device="cpu"))),
        ("indexing", lambda: out[minigrad.tensor([0], device="cpu")]),
    ]:
        with pytest.raises(RuntimeError, match=rf"{name}.*(cpu.*strict|strict.*cpu)"):
            call()


def test_inside_fit_a_bad_class_index_on_the_device_is_reported_at_the_epochs_read():
    from minigrad.backend.deferred import deferring
    from minigrad.data import DataLoader, TensorDataset
    from minigrad.train import fit

    X = numpy.ones((8, 3), dtype=numpy.float32)
    # -1: out of range for 2 classes. (An index past the end would fail inside NumPy's
    # gather on strict at once; CuPy's gather wraps it silently, which is why the check
    # exists: a negative one wraps in both.)
    y = numpy.array([0, 1, 0, 1, 0, 1, 0, -1])
    loader = DataLoader(TensorDataset(X, y), batch_size=4, device="strict")
    model = nn.Linear(3, 2).to("strict")
    with count_transfers() as moved:
        with pytest.raises(IndexError, match=r"cross_entropy: index -1 is out of range"):
            fit(model, nn.CrossEntropyLoss(), minigrad.optim.SGD(model.parameters(), lr=0.1),
                loader, progress=False)  # fmt: skip
    assert moved.to_host == 2  # the flags, then the value for the message: no read per batch
    out = model(minigrad.tensor(X, device="strict"))
    with pytest.raises(IndexError, match="index -1"):  # outside fit: at once, as on the cpu
        nn.functional.cross_entropy(out, minigrad.tensor(y, device="strict"))
    with pytest.raises(IndexError, match="index -1"):  # a block that ends checks what is left
        with deferring():
            nn.functional.cross_entropy(out, minigrad.tensor(y, device="strict"))
