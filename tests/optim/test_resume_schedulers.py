"""Resuming from a checkpoint continues a schedule exactly, for every scheduler.

Train 5 steps, save model, optimizer and scheduler with ``minigrad.save``, go on 5
steps. A fresh model, optimizer and scheduler built as at the start, loaded from the
file, must then make the same 5 steps: same losses and same weights, bit for bit.
"""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.optim import SGD, Adam
from minigrad.optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

SCHEDULERS = {  # each steps once per training step and changes the lr within 10 steps
    "step": lambda opt: StepLR(opt, step_size=2, gamma=0.5),
    "multistep": lambda opt: MultiStepLR(opt, milestones=[3, 6, 8], gamma=0.5),
    "exponential": lambda opt: ExponentialLR(opt, gamma=0.8),
    "cosine": lambda opt: CosineAnnealingLR(opt, T_max=10, eta_min=1e-3),
    "linear": lambda opt: LinearLR(opt, start_factor=0.25, total_iters=8),
    "lambda": lambda opt: LambdaLR(opt, lr_lambda=lambda epoch: 1 / (1 + epoch)),
    "onecycle": lambda opt: OneCycleLR(opt, max_lr=0.05, total_steps=10),
    # mode="max" on a falling loss: no step improves, so the lr halves at every step
    "plateau": lambda opt: ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0),
    "chained": lambda opt: ChainedScheduler(
        [LinearLR(opt, start_factor=0.5, total_iters=4), ExponentialLR(opt, gamma=0.8)]
    ),
    "sequential": lambda opt: SequentialLR(
        opt,
        [LinearLR(opt, start_factor=0.5, total_iters=3), ExponentialLR(opt, gamma=0.7)],
        milestones=[3],
    ),
}
OPTIMIZERS = {
    "adam-amsgrad": lambda params: Adam(params, lr=0.02, amsgrad=True),
    "sgd-momentum": lambda params: SGD(params, lr=0.02, momentum=0.9),
}

rng = np.random.default_rng(0)
INPUTS = rng.standard_normal((16, 3)).astype(np.float32)
TARGETS = rng.standard_normal((16, 2)).astype(np.float32)


def train(model, opt, scheduler, steps):
    # made here, not at import, so that they are on the device the test runs on
    x, y = minigrad.tensor(INPUTS), minigrad.tensor(TARGETS)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(loss.item())
        else:
            scheduler.step()
        losses.append(loss.item())
    return losses


def weights(model):
    return [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("load_order", ["build-then-load", "load-optimizer-first"])
@pytest.mark.parametrize("opt_name", OPTIMIZERS)
@pytest.mark.parametrize("name", SCHEDULERS)
def test_a_resumed_run_continues_exactly(tmp_path, name, opt_name, load_order):
    make_scheduler, make_optimizer = SCHEDULERS[name], OPTIMIZERS[opt_name]
    minigrad.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = make_optimizer(model.parameters())
    scheduler = make_scheduler(opt)
    train(model, opt, scheduler, 5)
    path = tmp_path / "checkpoint.safetensors"
    state = {"model": model.state_dict(), "optimizer": opt.state_dict()}
    minigrad.save({**state, "scheduler": scheduler.state_dict()}, path)
    lr_at_save = [group["lr"] for group in opt.param_groups]
    straight_losses = train(model, opt, scheduler, 5)

    minigrad.manual_seed(1)  # a fresh process: other initial weights, all overwritten
    checkpoint = minigrad.load(path)
    model2 = nn.Linear(3, 2)
    model2.load_state_dict(checkpoint["model"])
    opt2 = make_optimizer(model2.parameters())
    if load_order == "build-then-load":
        scheduler2 = make_scheduler(opt2)
        opt2.load_state_dict(checkpoint["optimizer"])
    else:  # a scheduler built on a restored optimizer keeps its lr
        opt2.load_state_dict(checkpoint["optimizer"])
        scheduler2 = make_scheduler(opt2)
    scheduler2.load_state_dict(checkpoint["scheduler"])
    assert [group["lr"] for group in opt2.param_groups] == lr_at_save
    resumed_losses = train(model2, opt2, scheduler2, 5)

    assert resumed_losses == straight_losses
    for resumed, straight in zip(weights(model2), weights(model), strict=True):
        np.testing.assert_array_equal(resumed, straight)
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()


@pytest.mark.parametrize("name", ["step", "cosine", "linear", "lambda", "plateau"])
def test_a_scheduler_built_on_a_restored_optimizer_keeps_its_lr(name):
    # PyTorch: initial_lr is already in the groups, so the initial step leaves lr alone.
    opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=0.1)
    opt.load_state_dict(
        {
            "state": {},
            "param_groups": [
                {**opt.state_dict()["param_groups"][0], "lr": 0.0125, "initial_lr": 0.1}
            ],
        }
    )
    scheduler = SCHEDULERS[name](opt)
    assert opt.param_groups[0]["lr"] == 0.0125 and scheduler.get_last_lr() == [0.0125]
    if name != "plateau":  # it has no base lr: it only ever lowers the lr it finds
        assert scheduler.base_lrs == [0.1] and scheduler.last_epoch == 0
