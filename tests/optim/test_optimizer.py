"""The Optimizer base: groups, zero_grad, closures, state_dict, dtypes, bad input."""

import ast
import json
import pathlib

import numpy as np
import pytest

import minigrad
from minigrad.optim import SGD, Adam, AdamW, Optimizer, RMSprop

# Every optimizer with the options that give it the most state.
FULL_OPTIONS = {
    "sgd": lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, l1=0.01),
    "nesterov": lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
    "adam": lambda ps: Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True, l1=0.1),
    "adamw": lambda ps: AdamW(ps, lr=0.01, amsgrad=True, l1=0.05, l1_proximal=True),
    "rmsprop": lambda ps: RMSprop(ps, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
    "rmsprop-plain": lambda ps: RMSprop(ps, lr=0.01, l1=0.01, l1_proximal=True),
}


def make_params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [
        minigrad.tensor(rng.standard_normal((3, 2)).astype(dtype), requires_grad=True),
        minigrad.tensor(rng.standard_normal(4).astype(dtype), requires_grad=True),
    ]


def loss_of(params, step):
    """A loss whose gradients change from step to step, deterministically."""
    a, b = params
    shift = float(np.sin(step))
    return ((a - shift) ** 2).sum() + (b * b * b).sum() * 0.1 + (a.sum() * b.sum())


def run(opt, params, steps, start=0):
    for step in range(start, start + steps):
        opt.zero_grad()
        loss_of(params, step).backward()
        opt.step()


# --- param groups -------------------------------------------------------------------
def test_groups_take_defaults_unless_they_set_their_own():
    a, b = make_params()
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    g0, g1 = opt.param_groups
    assert (g0["lr"], g0["momentum"], g1["lr"], g1["momentum"]) == (0.1, 0.0, 0.5, 0.9)
    assert g1["params"] == [b] and g0["l1"] == 0.0 and g0["l1_proximal"] is False


def test_each_group_steps_with_its_own_lr():
    a = minigrad.tensor(np.array([1.0]), requires_grad=True)
    b = minigrad.tensor(np.array([1.0]), requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a + b).sum().backward()
    opt.step()
    assert a.item() == 0.9 and b.item() == 0.5


def test_add_param_group():
    a, b = make_params()
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)


def test_parameters_without_a_gradient_are_skipped():
    a, b = make_params()
    opt = Adam([a, b], lr=0.1)
    before = b.numpy().copy()
    (a * a).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)
    assert b not in opt.state and a in opt.state


def test_zero_grad():
    a, b = make_params()
    opt = SGD([a, b], lr=0.1)
    (a.sum() + b.sum()).backward()
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and np.all(a.grad.numpy() == 0) and np.all(b.grad.numpy() == 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_closure_is_evaluated_with_grad_enabled_and_its_loss_returned():
    w = minigrad.tensor(np.array([3.0]), requires_grad=True)
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == 1.5


def test_step_builds_no_graph_and_keeps_parameters_leaves():
    a, b = make_params()
    opt = Adam([a, b], lr=0.1)
    run(opt, [a, b], 2)
    assert a.is_leaf and a.requires_grad and a.grad_fn is None


def test_step_updates_the_parameter_array_in_place():
    a, b = make_params()
    arrays = [a.data, b.data]
    for make_opt in FULL_OPTIONS.values():
        run(make_opt([a, b]), [a, b], 2)
    assert a.data is arrays[0] and b.data is arrays[1]


def test_optimizer_source_never_imports_numpy():
    # updates use the array module of the parameter's device (numpy or cupy)
    folder = pathlib.Path(minigrad.optim.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] in ("numpy", "cupy") for n in names), path.name


def test_repr_lists_the_groups():
    text = repr(SGD(make_params(), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# --- dtypes -------------------------------------------------------------------------
@pytest.mark.parametrize("name", FULL_OPTIONS)
def test_float32_parameters_and_state_stay_float32(name):
    params = make_params(np.float32)
    opt = FULL_OPTIONS[name](params)
    run(opt, params, 3)
    for p in params:
        assert p.dtype == np.float32
        for key, value in opt.state[p].items():
            if hasattr(value, "dtype"):
                assert value.dtype == np.float32, (name, key)
    for saved in opt.state_dict()["state"].values():
        for value in saved.values():
            assert not hasattr(value, "dtype") or value.dtype == np.float32


def test_numpy_float64_hyperparameters_do_not_promote_float32():
    # NumPy 2 would promote float32 * float64-scalar to float64; the step casts to float
    params = make_params(np.float32)
    opt = Adam(params, lr=np.float64(0.01), betas=(np.float64(0.9), np.float64(0.99)))
    run(opt, params, 2)
    assert all(p.dtype == np.float32 for p in params)
    assert all(opt.state[p]["exp_avg"].dtype == np.float32 for p in params)


# --- state_dict ---------------------------------------------------------------------
def through_json(state_dict):
    """What a save/load round trip keeps: arrays as NumPy arrays, the rest as JSON."""
    arrays, numbers = {}, {}
    for key, values in state_dict["state"].items():
        arrays[key] = {n: v for n, v in values.items() if isinstance(v, np.ndarray)}
        numbers[key] = {n: v for n, v in values.items() if not isinstance(v, np.ndarray)}
    rest = {"state": numbers, "param_groups": state_dict["param_groups"]}
    loaded = json.loads(json.dumps(rest))  # keys become strings, tuples lists
    for key, values in arrays.items():
        loaded["state"][str(key)].update({n: v.copy() for n, v in values.items()})
    return loaded


@pytest.mark.parametrize("name", FULL_OPTIONS)
def test_a_resumed_run_continues_bit_for_bit(name):
    make_opt = FULL_OPTIONS[name]
    straight = make_params(np.float32)
    opt = make_opt(straight)
    run(opt, straight, 7)

    first = make_params(np.float32)
    opt_first = make_opt(first)
    run(opt_first, first, 4)
    saved = through_json(opt_first.state_dict())
    # a fresh process: new parameters holding the saved values, a new optimizer
    resumed = [minigrad.tensor(p.numpy(), requires_grad=True) for p in first]
    opt_resumed = make_opt(resumed)
    opt_resumed.param_groups[0]["lr"] = 123.0  # overwritten by the load
    opt_resumed.load_state_dict(saved)
    run(opt_resumed, resumed, 3, start=4)

    for p, q in zip(straight, resumed, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert opt_resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_state_dict_layout_is_pytorchs():
    a, b = make_params()
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    run(opt, [a, b], 1)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert set(sd["state"]) == {0, 1}
    assert isinstance(sd["state"][1]["momentum_buffer"], np.ndarray)


def test_state_dict_is_a_snapshot():
    a, b = make_params()
    opt = Adam([a, b], lr=0.1)
    run(opt, [a, b], 1)
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].copy()
    run(opt, [a, b], 2, start=1)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], before)
    assert sd["state"][0]["step"] == 1


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    params64 = make_params(np.float64)
    opt64 = Adam(params64, lr=0.1)
    run(opt64, params64, 2)
    params32 = make_params(np.float32)
    opt32 = Adam(params32, lr=0.1)
    opt32.load_state_dict(opt64.state_dict())
    assert opt32.state[params32[0]]["exp_avg"].dtype == np.float32
    assert opt32.state[params32[0]]["step"] == 2


def test_load_state_dict_refuses_a_different_setup():
    a, b = make_params()
    sd = SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="2 parameter"):
        SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 param group"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


# --- bad input ----------------------------------------------------------------------
def p():
    return minigrad.tensor(np.array([1.0]), requires_grad=True)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD([p()], lr=-0.1), "lr=-0.1 is negative"),
        (lambda: Adam([p()], lr=-1.0), "lr=-1.0 is negative"),
        (lambda: SGD([p()], lr=float("nan")), "lr must be a finite number"),
        (lambda: SGD([p()], lr=0.1, momentum=-0.5), "momentum=-0.5"),
        (lambda: SGD([p()], lr=0.1, weight_decay=-1e-4), "weight_decay=-0.0001"),
        (lambda: RMSprop([p()], weight_decay=-1.0), "weight_decay=-1.0"),
        (lambda: Adam([p()], l1=-0.5), "l1=-0.5"),
        (lambda: SGD([p()], lr=0.1, nesterov=True), "Nesterov momentum needs momentum > 0"),
        (lambda: SGD([p()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda: Adam([p()], betas=(1.0, 0.999)), r"beta1=1.0 is outside \[0, 1\)"),
        (lambda: Adam([p()], betas=(0.9, -0.1)), r"beta2=-0.1 is outside \[0, 1\)"),
        (lambda: AdamW([p()], betas=(0.9, 1.5)), r"beta2=1.5"),
        (lambda: Adam([p()], betas=(0.9,)), "betas must be a pair"),
        (lambda: Adam([p()], eps=-1e-8), "eps=-1e-08 is negative"),
        (lambda: RMSprop([p()], eps=-1.0), "eps=-1.0"),
        (lambda: RMSprop([p()], alpha=-0.9), "alpha=-0.9"),
        (lambda: SGD([], lr=0.1), "empty parameter list"),
        (lambda: SGD([{"params": []}], lr=0.1), "param group 0 has no parameters"),
        (lambda: SGD([{"lr": 0.1}], lr=0.1), "has no 'params' entry"),
    ],
)
def test_bad_hyperparameters_are_refused_with_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_switches_must_be_booleans():
    with pytest.raises(TypeError, match="l1_proximal must be True or False, got 1"):
        SGD([p()], lr=0.1, l1_proximal=1)
    with pytest.raises(TypeError, match="maximize must be True or False"):
        Adam([p()], maximize="yes")


def test_a_parameter_passed_twice_is_refused():
    a, b = p(), p()
    with pytest.raises(ValueError, match="position 2 .* already given in param group 0"):
        SGD([a, b, a], lr=0.1)
    with pytest.raises(ValueError, match="already given in param group 0"):
        SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    opt = SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="already given in param group 0"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 1


def test_frozen_params_are_kept_but_not_changed():
    trained, frozen = p(), minigrad.tensor(np.array([1.0]))
    opt = SGD([trained, frozen], lr=0.1)
    (trained * 3).sum().backward()
    opt.step()
    assert frozen.tolist() == [1.0] and trained.grad is not None


def test_params_that_cannot_be_optimized_are_refused():
    leaf = p()
    with pytest.raises(ValueError, match="not a leaf"):
        SGD([leaf * 2], lr=0.1)
    with pytest.raises(TypeError, match="is a ndarray, not a Tensor"):
        SGD([np.ones(3)], lr=0.1)
    with pytest.raises(TypeError, match="got one Tensor"):
        SGD(p(), lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        SGD([{"params": {p()}}], lr=0.1)


def test_a_bad_group_added_later_is_refused_too():
    opt = SGD([p()], lr=0.1)
    with pytest.raises(ValueError, match="param group 1: lr=-1"):
        opt.add_param_group({"params": [p()], "lr": -1})


def test_the_base_class_needs_an_update_rule():
    with pytest.raises(NotImplementedError, match="must define _update"):
        opt = Optimizer([p()], {"lr": 0.1})
        opt.param_groups[0]["params"][0].grad = minigrad.tensor(np.array([1.0]))
        opt.step()
