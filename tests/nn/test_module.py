"""Module and Parameter: registration, walking the tree, modes, devices, state dicts, repr."""

import copy

import numpy
import pytest

import minigrad
from minigrad import nn
from minigrad.nn.module import IncompatibleKeys


class Block(nn.Module):
    """A module with a bit of everything: a parameter, a buffer, a child, a plain attribute."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(minigrad.ones(3))
        self.register_buffer("count", minigrad.zeros(()))
        self.register_buffer("scratch", minigrad.zeros(2), persistent=False)
        self.inner = nn.Linear(3, 2)
        self.note = "not registered"

    def forward(self, x):
        return self.inner(x * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(2, 1, bias=False))
        self.shared = self.first.inner  # the same module twice: counted once

    def forward(self, x):
        return self.head(self.first(x))


# --- Parameter --------------------------------------------------------------------------


def test_parameter_wraps_without_copying_and_requires_grad():
    t = minigrad.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert p.data is t.data and p.requires_grad and p.is_leaf
    assert isinstance(p, minigrad.Tensor)
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    a = numpy.zeros(3, dtype=numpy.float32)
    assert nn.Parameter(a).data is a
    assert nn.Parameter().shape == (0,)


def test_parameter_repr_and_arithmetic():
    on_cpu = nn.Parameter(minigrad.tensor([1.0, 2.0], device="cpu"))  # (others name their device)
    assert repr(on_cpu) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    p = nn.Parameter(minigrad.tensor([1.0, 2.0]))
    y = p * 2  # ops give plain Tensors
    assert type(y) is minigrad.Tensor and y.grad_fn is not None
    y.sum().backward()
    assert p.grad.tolist() == [2.0, 2.0]


def test_parameter_deepcopy_keeps_class_and_device():
    p = nn.Parameter(minigrad.tensor([1.0, 2.0]))
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.data is not p.data and q.tolist() == [1.0, 2.0]
    assert q._backend is p._backend and q.requires_grad
    (q + p).sum().backward()  # the two still work together


# --- registration and walking the tree --------------------------------------------------


def test_attributes_register_in_order():
    block = Block()
    assert [n for n, _ in block.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    assert [n for n, _ in block.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in block.named_buffers()] == ["count", "scratch"]
    assert [n for n, _ in block.named_children()] == ["inner"]
    assert block.note == "not registered" and "note" not in block._parameters
    assert list(block.state_dict()) == ["scale", "count", "inner.weight", "inner.bias"]


def test_shared_modules_and_parameters_are_listed_once():
    net = Net()
    names = [n for n, _ in net.named_modules()]
    assert names == ["", "first", "first.inner", "head", "head.0", "head.1"]
    assert len(list(net.parameters())) == 4  # scale, inner.weight, inner.bias, head.1.weight
    # children are the direct attributes: "shared" is one too (named_modules lists it once)
    assert [type(m).__name__ for m in net.children()] == ["Block", "Sequential", "Linear"]
    assert len(list(net.modules())) == 6


def test_reassigning_keeps_the_position_and_none_removes_a_parameter():
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(minigrad.zeros(2, 2))
    assert list(layer.state_dict()) == ["weight", "bias"]
    layer.bias = None
    assert list(layer.state_dict()) == ["weight"] and layer.bias is None
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = minigrad.zeros(2, 2)
    del layer.weight
    assert [n for n, _ in layer.named_parameters()] == []


def test_registration_errors():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minigrad.zeros(1))  # no super().__init__()

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Forgetful()
    m = nn.Module()
    with pytest.raises(KeyError, match="be empty or contain"):
        m.register_buffer("a.b", minigrad.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None expected"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        m.register_parameter("w", minigrad.zeros(1))
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        m.register_buffer("training", minigrad.zeros(1))
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        _ = m.missing
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        m(1)


def test_apply_visits_children_first():
    seen = []
    nn.Sequential(Block(), nn.Sequential(nn.ReLU())).apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Block", "ReLU", "Sequential", "Sequential"]


def test_apply_can_reinitialise():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(zero_linear)
    assert all(float(m.weight.abs().sum().item()) == 0.0 for m in model)


# --- modes and gradients ----------------------------------------------------------------


def test_train_and_eval_switch_every_module():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and not net.head[0].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    layer = nn.Linear(2, 1)
    layer(minigrad.ones(3, 2)).sum().backward()
    assert layer.weight.grad.tolist() == [[3.0, 3.0]]
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad.tolist() == [[0.0, 0.0]]
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None
    layer.requires_grad_(False)
    assert not any(p.requires_grad for p in layer.parameters())


# --- devices and dtypes ---------------------------------------------------------------


def test_to_casts_in_place_keeping_parameter_identity():
    bn = nn.BatchNorm1d(3)
    model = nn.Sequential(nn.Linear(2, 3), bn)
    params = list(model.parameters())
    model(minigrad.randn(4, 2)).sum().backward()
    assert model.to(minigrad.float64) is model
    assert list(model.parameters()) == params  # the very same objects
    assert all(p.dtype == minigrad.float64 for p in params)
    assert all(p.grad.dtype == minigrad.float64 for p in params)
    assert bn.running_mean.dtype == minigrad.float64
    assert bn.num_batches_tracked.dtype == minigrad.int64  # integer buffers keep their type
    model.float()
    assert all(p.dtype == minigrad.float32 for p in params)
    model.to("cpu", dtype=minigrad.float64)
    assert model[0].weight.dtype == minigrad.float64
    with pytest.raises(TypeError, match="floating point"):
        model.to(minigrad.int64)


def test_an_update_after_to_reaches_the_moved_parameters():
    """What an optimizer does: hold the parameters, update them after the move."""
    layer = nn.Linear(2, 1)
    params = list(layer.parameters())  # taken before the move, as an optimizer would
    layer.double()
    layer(minigrad.ones(1, 2, dtype=minigrad.float64)).sum().backward()
    before = layer.weight.numpy().copy()
    with minigrad.no_grad():
        for p in params:
            p -= 0.5 * p.grad
    numpy.testing.assert_allclose(layer.weight.numpy(), before - 0.5)


@pytest.mark.skipif(not minigrad.cuda.is_available(), reason="needs a GPU (CuPy)")
def test_to_moves_between_devices_keeping_parameter_identity():
    model = nn.Sequential(nn.Linear(2, 3, device="cpu"), nn.BatchNorm1d(3, device="cpu"))
    params = list(model.parameters())
    model.to("cuda")
    assert list(model.parameters()) == params
    assert all(t.device.type == "cuda" for t in list(model.parameters()) + list(model.buffers()))
    model(minigrad.randn(4, 2, device="cuda")).sum().backward()
    assert params[0].grad.device.type == "cuda"
    state = {k: v.cpu() for k, v in model.state_dict().items()}  # a cpu state dict loads too
    model.load_state_dict(state)
    model.cpu()
    assert all(t.device.type == "cpu" for t in list(model.parameters()) + list(model.buffers()))
    assert params[0].grad.device.type == "cpu"


# --- state_dict and load_state_dict -------------------------------------------------------


def shapes(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def test_state_dict_keys_and_shapes_are_pytorchs():
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    assert shapes(mlp) == [
        ("0.weight", (8, 4)),
        ("0.bias", (8,)),
        ("2.weight", (3, 8)),
        ("2.bias", (3,)),
    ]
    assert shapes(nn.BatchNorm1d(5)) == [
        ("weight", (5,)),
        ("bias", (5,)),
        ("running_mean", (5,)),
        ("running_var", (5,)),
        ("num_batches_tracked", ()),
    ]
    assert nn.BatchNorm1d(5).state_dict()["num_batches_tracked"].dtype == minigrad.int64
    assert shapes(nn.Embedding(10, 3)) == [("weight", (10, 3))]
    assert shapes(nn.LayerNorm((2, 4))) == [("weight", (2, 4)), ("bias", (2, 4))]
    assert shapes(nn.BatchNorm2d(2, affine=False)) == [
        ("running_mean", (2,)),
        ("running_var", (2,)),
        ("num_batches_tracked", ()),
    ]
    dicts = nn.ModuleDict({"enc": nn.Linear(2, 2), "dec": nn.ModuleList([nn.LayerNorm(2)])})
    assert list(dicts.state_dict()) == ["enc.weight", "enc.bias", "dec.0.weight", "dec.0.bias"]


def test_state_dict_values_are_detached_and_share_memory():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert not state["weight"].requires_grad
    assert type(state["weight"]) is minigrad.Tensor
    assert state["weight"].data is layer.weight.data
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight


def test_load_state_dict_copies_values_in_place():
    source, target = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)), None
    source(minigrad.randn(4, 2))  # move the running statistics
    target = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = target[0].weight
    result = target.load_state_dict(source.state_dict())
    assert result == IncompatibleKeys([], []) and result.missing_keys == []
    assert target[0].weight is weight  # the same Parameter, new values
    for key, value in source.state_dict().items():
        assert numpy.array_equal(target.state_dict()[key].numpy(), value.numpy()), key
    assert target[1].num_batches_tracked.item() == 1
    # values may also be NumPy arrays (as from a file)
    arrays = {k: v.numpy() * 0 for k, v in source.state_dict().items()}
    target.load_state_dict(arrays)
    assert target[0].weight.abs().sum().item() == 0.0


def test_load_state_dict_reports_every_problem_at_once_and_copies_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = model[0].weight.numpy().copy()
    bad = {
        "0.weight": minigrad.zeros(3, 2),  # fine, but must not be copied
        "0.bias": minigrad.zeros(4),  # wrong shape
        "2.weight": minigrad.zeros(1, 3),  # unexpected
    }
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(bad)
    message = str(error.value)
    assert message.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "1.weight", "1.bias".' in message
    assert 'Unexpected key(s) in state_dict: "2.weight".' in message
    assert (
        "size mismatch for 0.bias: copying a param with shape (4,) from checkpoint, "
        "the shape in current model is (3,)." in message
    )
    assert numpy.array_equal(model[0].weight.numpy(), before)  # nothing half-loaded


def test_load_state_dict_not_strict_returns_the_key_lists():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    partial = {"0.weight": minigrad.ones(3, 2), "extra": minigrad.zeros(1)}
    missing, unexpected = model.load_state_dict(partial, strict=False)
    assert missing == ["0.bias", "1.weight", "1.bias"] and unexpected == ["extra"]
    assert model[0].weight.tolist() == [[1.0, 1.0]] * 3
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        model.load_state_dict({"0.weight": minigrad.ones(2, 2)}, strict=False)


def test_a_state_dict_without_num_batches_tracked_loads_silently():
    # Files from before BatchNorm counted batches lack the counter: PyTorch fills it in
    # (keeps the module's own) rather than calling it missing, strict or not.
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model(minigrad.tensor([[1.0, 2.0], [3.0, 5.0]]))  # one training batch: the count is 1
    saved = {k: v for k, v in model.state_dict().items() if k != "1.num_batches_tracked"}
    saved["1.running_mean"] = minigrad.tensor([0.5, 0.25, 0.125])
    fresh = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert fresh.load_state_dict(saved, strict=False) == IncompatibleKeys([], [])
    assert fresh.load_state_dict(saved) == IncompatibleKeys([], [])
    assert fresh[1].running_mean.tolist() == [0.5, 0.25, 0.125]
    assert fresh[1].num_batches_tracked.item() == 0  # its own value, kept
    del saved["1.running_var"]  # any other buffer is still missing
    assert fresh.load_state_dict(saved, strict=False).missing_keys == ["1.running_var"]


def test_non_persistent_buffers_are_not_saved():
    block = Block()
    assert "scratch" not in block.state_dict()
    assert [n for n, _ in block.named_buffers()] == ["count", "scratch"]


# --- repr ---------------------------------------------------------------------------


def test_repr_is_nested_like_pytorchs():
    model = nn.Sequential(
        nn.Linear(4, 8),
        nn.ReLU(),
        nn.Sequential(nn.Dropout(0.1), nn.LayerNorm(8)),
        nn.Linear(8, 2, bias=False),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1, inplace=False)\n"
        "    (1): LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
        "  )\n"
        "  (3): Linear(in_features=8, out_features=2, bias=False)\n"
        ")"
    )
    assert repr(nn.BatchNorm2d(3)) == (
        "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"


def test_repr_with_extra_repr_and_children():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Tanh()

        def extra_repr(self):
            return "scale=2"

    assert repr(Scaled()) == "Scaled(\n  scale=2\n  (body): Tanh()\n)"


# --- containers -------------------------------------------------------------------------


def test_sequential_indexing_and_names():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"]
    assert isinstance(model[-1], nn.ReLU) and len(model) == 2
    assert isinstance(model[:1], nn.Sequential) and len(model[:1]) == 1
    model.append(nn.Tanh())
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Tanh"]
    model[1] = nn.GELU()
    assert [n for n, _ in model.named_children()] == ["fc", "act", "2"]
    with pytest.raises(IndexError, match="out of range"):
        model[3]


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU()).extend([nn.Tanh()])
    layers.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == ["Sigmoid", "Linear", "ReLU", "Tanh"]
    assert list(layers.state_dict()) == ["1.weight", "1.bias"]
    del layers[0]
    assert list(layers.state_dict()) == ["0.weight", "0.bias"]
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.Linear(1, 2)
    assert "b" in heads and list(heads) == ["a", "b"] and len(heads) == 2
    assert isinstance(heads.pop("a"), nn.Linear) and list(heads.keys()) == ["b"]
    with pytest.raises(NotImplementedError):
        layers(1)


# --- the public names ---------------------------------------------------------------


def test_nn_exports_every_name_of_the_design():
    layers = (
        "Linear Conv2d MaxPool2d AvgPool2d Flatten Dropout BatchNorm1d BatchNorm2d LayerNorm "
        "Embedding RNN LSTM GRU MultiheadAttention ReLU LeakyReLU GELU Tanh Sigmoid Softmax "
        "Module Parameter Sequential ModuleList ModuleDict l1_penalty l2_penalty"
    )
    for name in layers.split():
        assert hasattr(nn, name), name
    functions = (
        "linear dropout relu leaky_relu gelu softplus tanh sigmoid softmax log_softmax pad "
        "layer_norm batch_norm embedding one_hot cross_entropy nll_loss mse_loss l1_loss "
        "huber_loss binary_cross_entropy binary_cross_entropy_with_logits conv2d max_pool2d "
        "avg_pool2d scaled_dot_product_attention"
    )
    for name in functions.split():
        assert callable(getattr(nn.functional, name)), name
    for name in ("clip_grad_norm_", "clip_grad_value_"):
        assert callable(getattr(nn.utils, name))
    for name in nn.__all__ + nn.functional.__all__:
        assert hasattr(nn, name) or hasattr(nn.functional, name), name


@pytest.mark.parametrize(
    "first_import",
    [
        "import minigrad.nn.functional",
        "from minigrad.nn.layers.attention import MultiheadAttention",
        "from minigrad.nn.functional import scaled_dot_product_attention",
        "import minigrad.nn.layers.linear",
    ],
)
def test_any_entry_point_imports_cleanly(first_import):
    """Any of nn's entry points imports first without a cycle."""
    import subprocess
    import sys

    code = f"{first_import}; import minigrad.nn as nn; nn.functional.scaled_dot_product_attention"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_functional_holds_attention_and_imports_no_layer():
    """scaled_dot_product_attention lives in nn.functional; functional imports no layer
    file (the layers import functional, never the other way: no import circle)."""
    import ast
    import inspect

    from minigrad.nn import functional
    from minigrad.nn.layers import attention

    assert functional.scaled_dot_product_attention.__module__ == "minigrad.nn.functional"

    def imports(module):
        tree = ast.parse(inspect.getsource(module))
        return [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]

    assert "minigrad.nn.functional" in imports(attention)  # the layer uses the function
    assert not [name for name in imports(functional) if name.startswith("minigrad.nn.layers")]


def test_forward_hooks_see_and_replace_inputs_and_outputs():
    import minigrad
    from minigrad import nn

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    activations = {}
    handle = model[1].register_forward_hook(
        lambda module, args, output: activations.__setitem__("relu", output)
    )
    x = minigrad.randn(5, 3)
    out = model(x)
    assert activations["relu"].shape == (5, 4) and (activations["relu"] >= 0).all()
    handle.remove()
    activations.clear()
    model(x)
    assert activations == {}
    doubled = model[0].register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    assert not (model(x) == out).all()  # the first layer now sees 2x
    doubled.remove()
    assert (model(x) == out).all()
    zeroed = model.register_forward_hook(lambda module, args, output: output * 0)
    assert (model(x) == 0).all()
    zeroed.remove()
