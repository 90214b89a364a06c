"""Each scheduler's lr sequence against its formula, for 40 epochs, and its state_dict."""

import json
import math

import numpy as np
import pytest

import minigrad
from minigrad.optim import SGD, Adam, Optimizer, lr_scheduler
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

EPOCHS = 40
BASE_LRS = (0.5, 0.03)  # two param groups, so per-group scaling is checked too


def optimizer(cls=SGD, **options):
    groups = [
        {"params": [minigrad.tensor(np.zeros(2), requires_grad=True)]},
        {"params": [minigrad.tensor(np.zeros(3), requires_grad=True)], "lr": BASE_LRS[1]},
    ]
    return cls(groups, lr=BASE_LRS[0], **options)


def lr_sequence(scheduler, epochs=EPOCHS):
    """The lr of each group at epochs 0 .. epochs-1: read, then step (PyTorch's loop)."""
    lrs = []
    for _ in range(epochs):
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in scheduler.optimizer.param_groups]
        scheduler.step()
    return np.array(lrs)


def expected(formula, epochs=EPOCHS):
    return np.array([[formula(base, e) for base in BASE_LRS] for e in range(epochs)])


# Each case: a scheduler on a fresh optimizer, and its formula lr(base_lr, epoch).
CASES = {
    "step": (
        lambda opt: StepLR(opt, step_size=7, gamma=0.3),
        lambda base, e: base * 0.3 ** (e // 7),
    ),
    "multistep": (  # 12 listed twice counts twice
        lambda opt: MultiStepLR(opt, milestones=[30, 5, 12, 12], gamma=0.5),
        lambda base, e: base * 0.5 ** ((e >= 5) + 2 * (e >= 12) + (e >= 30)),
    ),
    "exponential": (
        lambda opt: ExponentialLR(opt, gamma=0.93),
        lambda base, e: base * 0.93**e,
    ),
    "cosine": (  # past T_max the cosine rises again, as in PyTorch
        lambda opt: CosineAnnealingLR(opt, T_max=15, eta_min=0.01),
        lambda base, e: 0.01 + (base - 0.01) * (1 + math.cos(math.pi * e / 15)) / 2,
    ),
    "linear": (
        lambda opt: LinearLR(opt, start_factor=0.2, end_factor=0.9, total_iters=10),
        lambda base, e: base * (0.2 + 0.7 * min(e, 10) / 10),
    ),
    "linear-defaults": (
        lambda opt: LinearLR(opt),
        lambda base, e: base * (1 / 3 + (2 / 3) * min(e, 5) / 5),
    ),
    "lambda": (
        lambda opt: LambdaLR(opt, lr_lambda=lambda e: 1 / (1 + 0.1 * e)),
        lambda base, e: base / (1 + 0.1 * e),
    ),
    "chained": (  # PyTorch's ChainedScheduler of these two: the factors multiply
        lambda opt: ChainedScheduler(
            [
                LinearLR(opt, start_factor=0.25, total_iters=4),
                StepLR(opt, step_size=7, gamma=0.3),
                ExponentialLR(opt, gamma=0.97),
            ]
        ),
        lambda base, e: base * (0.25 + 0.75 * min(e, 4) / 4) * 0.3 ** (e // 7) * 0.97**e,
    ),
    "sequential": (  # warm-up 5 epochs, cosine for 20, then exponential
        lambda opt: SequentialLR(
            opt,
            [
                LinearLR(opt, start_factor=0.1, total_iters=5),
                CosineAnnealingLR(opt, T_max=20),
                ExponentialLR(opt, gamma=0.9),
            ],
            milestones=[5, 25],
        ),
        lambda base, e: (
            base * (0.1 + 0.9 * e / 5)
            if e < 5
            else base * (1 + math.cos(math.pi * (e - 5) / 20)) / 2
            if e < 25
            else base * 0.9 ** (e - 25)
        ),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_lr_sequence_follows_the_formula(name):
    make, formula = CASES[name]
    np.testing.assert_allclose(lr_sequence(make(optimizer())), expected(formula), rtol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_construction_is_the_initial_step(name):
    make, formula = CASES[name]
    opt = optimizer()
    scheduler = make(opt)
    assert scheduler.last_epoch == 0
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)
    np.testing.assert_allclose(scheduler.get_last_lr(), expected(formula, 1)[0], rtol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_state_dict_is_json_and_resumes_the_sequence(name):
    make, _ = CASES[name]
    straight = lr_sequence(make(optimizer()))

    opt = optimizer()
    scheduler = make(opt)
    first = lr_sequence(scheduler, 13)
    saved = json.loads(json.dumps(scheduler.state_dict()))
    saved_groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]

    opt2 = optimizer()
    scheduler2 = make(opt2)  # a fresh process: the schedule starts over ...
    for group, saved_group in zip(opt2.param_groups, saved_groups, strict=True):
        group.update(saved_group)  # ... until the optimizer's groups and ...
    scheduler2.load_state_dict(saved)  # ... the scheduler's state are loaded
    rest = lr_sequence(scheduler2, EPOCHS - 13)
    np.testing.assert_array_equal(np.concatenate([first, rest]), straight)


def test_lambda_lr_saves_none_of_its_functions():
    scheduler = LambdaLR(optimizer(), lr_lambda=[lambda e: 1.0, lambda e: 0.5**e])
    state = scheduler.state_dict()
    assert "lr_lambdas" not in state and state["last_epoch"] == 0
    json.dumps(state)
    lr_sequence(scheduler, 3)
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.5, 0.03 * 0.125])


def test_a_second_scheduler_keeps_the_first_initial_lr():
    opt = optimizer()
    StepLR(opt, step_size=1, gamma=0.5).step()
    assert opt.param_groups[0]["lr"] == 0.25
    later = ExponentialLR(opt, gamma=1.0)
    assert later.base_lrs == list(BASE_LRS)


# --- OneCycleLR -----------------------------------------------------------------------
def cos_anneal(start, end, pct):
    return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2


def linear_anneal(start, end, pct):
    return start + (end - start) * pct


def one_cycle_formula(step, total, start, peak, final, pct_start, three_phase, anneal):
    """(lr factor position) for step: the phase ends are pct_start * total - 1, ..."""
    up_end = pct_start * total - 1
    if three_phase:
        ends = [up_end, 2 * pct_start * total - 2, total - 1]
        values = [(start, peak), (peak, start), (start, final)]
    else:
        ends = [up_end, total - 1]
        values = [(start, peak), (peak, final)]
    begin = 0.0
    for i, (end, (a, b)) in enumerate(zip(ends, values, strict=True)):
        if step <= end or i == len(ends) - 1:
            return anneal(a, b, (step - begin) / (end - begin))
        begin = end


@pytest.mark.parametrize(
    "three_phase, strategy, anneal",
    [(False, "cos", cos_anneal), (True, "cos", cos_anneal), (True, "linear", linear_anneal)],
)
def test_one_cycle_lr_and_momentum(three_phase, strategy, anneal):
    total, max_lrs = 40, (1.0, 0.1)
    opt = optimizer(momentum=0.9)
    scheduler = OneCycleLR(
        opt,
        max_lr=list(max_lrs),
        total_steps=total,
        three_phase=three_phase,
        anneal_strategy=strategy,
    )
    momenta = []
    lrs = []
    for _ in range(total):
        lrs.append(scheduler.get_last_lr())
        momenta.append(opt.param_groups[0]["momentum"])
        scheduler.step()
    for step in range(total):
        for group, peak in enumerate(max_lrs):
            start, final = peak / 25, peak / 25 / 1e4
            want = one_cycle_formula(step, total, start, peak, final, 0.3, three_phase, anneal)
            assert lrs[step][group] == pytest.approx(want, rel=1e-12)
        want = one_cycle_formula(step, total, 0.95, 0.85, 0.95, 0.3, three_phase, anneal)
        assert momenta[step] == pytest.approx(want, rel=1e-12)
    assert lrs[-1][0] == pytest.approx(1.0 / 25 / 1e4)  # ends at min_lr
    assert max(lr[0] for lr in lrs) == pytest.approx(1.0)


def test_one_cycle_cycles_adams_beta1_and_keeps_beta2():
    opt = optimizer(Adam, betas=(0.9, 0.99))
    scheduler = OneCycleLR(opt, max_lr=0.01, epochs=4, steps_per_epoch=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    for _ in range(11):  # to the peak at step 0.3 * 40 - 1 = 11
        scheduler.step()
    beta1, beta2 = opt.param_groups[1]["betas"]
    assert beta1 == pytest.approx(0.85) and beta2 == 0.99
    assert scheduler.get_last_lr() == pytest.approx([0.01, 0.01])


def test_one_cycle_refuses_to_step_past_its_cycle():
    scheduler = OneCycleLR(optimizer(momentum=0.9), max_lr=0.1, total_steps=5)
    for _ in range(5):  # up to step total_steps is allowed, as in PyTorch
        scheduler.step()
    with pytest.raises(ValueError, match="stepped 6 times but its cycle has total_steps=5"):
        scheduler.step()


# --- ReduceLROnPlateau ----------------------------------------------------------------
def test_reduce_on_plateau_by_hand():
    # factor 0.5, patience 2, relative threshold 0.1 (an improvement must beat best * 0.9),
    # cooldown 1, min_lr 0.2; lr starts at 1
    opt = SGD([minigrad.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    scheduler = ReduceLROnPlateau(
        opt, factor=0.5, patience=2, threshold=0.1, cooldown=1, min_lr=0.2
    )
    metrics = [10, 9.5, 9.2, 9.1, 8.0] + [8.0] * 27
    lrs = []
    for metric in metrics:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    # 10: best. 9.5, 9.2: not below 9, bad 1, 2. 9.1: bad 3 > 2 -> 0.5, cooldown.
    # 8.0: a new best. then 8.0 x3: bad 1, 2, 3 -> 0.25; the next epoch is cooldown;
    # then bad 1, 2, 3 -> max(0.125, 0.2) = 0.2, the floor, where it stays
    want = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25] + [0.2] * 21
    assert lrs == want
    assert scheduler.last_epoch == 32 and scheduler.best == 8.0


def test_reduce_on_plateau_max_mode_absolute_threshold():
    opt = SGD([minigrad.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    scheduler = ReduceLROnPlateau(
        opt, mode="max", factor=0.1, patience=0, threshold=0.5, threshold_mode="abs"
    )
    lrs = []
    for accuracy in [1.0, 1.4, 1.6, 2.2, 2.2]:
        scheduler.step(accuracy)
        lrs.append(scheduler.get_last_lr()[0])
    # 1.0 best; 1.4 is not above 1.5 -> reduce; 1.6 is above 1.5 -> best;
    # 2.2 is above 2.1 -> best; 2.2 again -> reduce
    np.testing.assert_allclose(lrs, [1.0, 0.1, 0.1, 0.1, 0.01], rtol=1e-15)


def test_reduce_on_plateau_state_dict_round_trip():
    opt = SGD([minigrad.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    scheduler = ReduceLROnPlateau(opt, patience=1)
    for metric in [3.0, 3.0]:
        scheduler.step(metric)
    saved = json.loads(json.dumps(scheduler.state_dict()))
    again = ReduceLROnPlateau(SGD([minigrad.tensor(np.zeros(1), requires_grad=True)], lr=1.0))
    again.load_state_dict(saved)
    assert again.num_bad_epochs == 1 and again.best == 3.0 and again.patience == 1


# --- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: StepLR(o, step_size=0), ValueError, "step_size must be a positive int"),
        (lambda o: MultiStepLR(o, milestones=[3, -1]), ValueError, "milestone"),
        (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
        (
            lambda o: LinearLR(o, start_factor=0.0),
            ValueError,
            r"start_factor=0.0 must be in \(0, 1\]",
        ),
        (lambda o: LinearLR(o, end_factor=1.5), ValueError, "end_factor=1.5"),
        (lambda o: LambdaLR(o, [lambda e: 1.0]), ValueError, "1 lr_lambdas for 2 param groups"),
        (lambda o: LambdaLR(o, 0.5), TypeError, "must be a function"),
        (lambda o: OneCycleLR(o, max_lr=0.1), ValueError, "needs total_steps"),
        (lambda o: OneCycleLR(o, max_lr=0.1, total_steps=0), ValueError, "total_steps"),
        (lambda o: OneCycleLR(o, 0.1, total_steps=9, pct_start=1.5), ValueError, "pct_start"),
        (lambda o: OneCycleLR(o, 0.1, 9, anneal_strategy="exp"), ValueError, "'cos' or 'linear'"),
        (lambda o: OneCycleLR(o, [0.1], total_steps=9), ValueError, "max_lr has 1 values"),
        (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor=1.0 must be in \[0, 1\)"),
        (lambda o: ReduceLROnPlateau(o, mode="lowest"), ValueError, "'min' or 'max'"),
        (lambda o: ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "'rel' or 'abs'"),
        (lambda o: ReduceLROnPlateau(o, patience=-1), ValueError, "patience"),
        (
            lambda o: SequentialLR(o, [StepLR(o, 2)], milestones=[3]),
            ValueError,
            "one milestone fewer",
        ),
        (lambda o: SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
        (lambda o: SequentialLR(o, [ReduceLROnPlateau(o)], []), TypeError, "needs a metric"),
        (lambda o: SequentialLR(o, [StepLR(optimizer(), 2)], []), ValueError, "another optimizer"),
        (lambda o: ChainedScheduler([]), ValueError, "at least one scheduler"),
        (lambda o: ChainedScheduler([ReduceLROnPlateau(o)]), TypeError, "needs a metric"),
        (
            lambda o: ChainedScheduler([StepLR(o, 2), StepLR(optimizer(), 2)]),
            ValueError,
            "scheduler 1 \\(StepLR\\) belongs to another optimizer",
        ),
        (lambda o: StepLR("sgd", step_size=2), TypeError, "needs an Optimizer"),
        (lambda o: StepLR(o, step_size=2, last_epoch=4), KeyError, "initial_lr"),
    ],
)
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make(optimizer())


def test_cycle_momentum_needs_an_optimizer_with_momentum():
    class Plain(Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    opt = Plain([minigrad.tensor(np.zeros(1), requires_grad=True)])
    with pytest.raises(ValueError, match="Plain has neither"):
        OneCycleLR(opt, max_lr=0.1, total_steps=10)
    OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_module_exports():
    for name in [
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "LinearLR",
        "LambdaLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
        "SequentialLR",
        "ChainedScheduler",
        "LRScheduler",
    ]:
        assert hasattr(lr_scheduler, name)


def one_group(lr=1.0):
    return SGD([minigrad.tensor(np.zeros(2), requires_grad=True)], lr=lr)


def test_chained_cosine_steps_pytorchs_recursive_form():
    """Was the product of the closed forms: after MultiStepLR's 0.1 at epoch 2, the
    cosine's rise past T_max stayed scaled by 0.1 ([1, 0.5, 0, 0.05, 0.1]). PyTorch's
    cosine step adds its first step up from the base lr (0 + 1 * (1 - cos(pi/2)) / 2 =
    0.5 at epoch 3), then doubles it ((1 + cos 2pi) / (1 + cos 3pi/2) = 2): 1.0."""
    opt = one_group()
    chained = ChainedScheduler([MultiStepLR(opt, [2], 0.1), CosineAnnealingLR(opt, T_max=2)])
    got = [lr[0] for lr in lr_sequence(chained, 5)]
    assert got == pytest.approx([1.0, 0.5, 0.0, 0.5, 1.0], abs=1e-12)


def test_chained_cosine_with_eta_min_moves_the_distance_to_eta_min():
    """PyTorch: eta + (lr - eta) * ratio, not lr * ratio: with ExponentialLR(0.5) first
    and eta_min = 0.2, epoch 1 is 0.2 + (0.5 - 0.2) * (1 + cos(pi/4)) / 2 (was the
    product of closed forms, 0.5 * (0.2 + 0.8 * (1 + cos(pi/4)) / 2))."""
    opt = one_group()
    cosine = CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    chained = ChainedScheduler([ExponentialLR(opt, 0.5), cosine])
    got = lr_sequence(chained, 2)[1][0]
    assert got == pytest.approx(0.2 + 0.3 * (1 + math.cos(math.pi / 4)) / 2, abs=1e-12)


def test_chained_lambda_sets_its_own_lr_as_pytorchs():
    """PyTorch's LambdaLR sets base_lr * lr_lambda(epoch), dropping what the schedules
    before it in the chain did: [1, 1/2, 1/3, 1/4] after ExponentialLR(0.5); was the
    product 0.5^epoch / (epoch + 1) ([1, 1/4, 1/12, 1/32])."""
    opt = one_group()
    lam = LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
    chained = ChainedScheduler([ExponentialLR(opt, 0.5), lam])
    got = [lr[0] for lr in lr_sequence(chained, 4)]
    assert got == pytest.approx([1.0, 1 / 2, 1 / 3, 1 / 4], abs=1e-12)


def test_schedulers_stepped_one_after_the_other_multiply_as_pytorchs_docs_show():
    """PyTorch's documentation chains schedulers by stepping them back to back; each
    steps the lr the other left: 0.9^epoch * 0.1^(milestones passed). Was: each step
    wrote its own closed form, so the last one stepped won ([1, 1, 0.1, 0.1, 0.01])."""
    opt = one_group()
    decay = ExponentialLR(opt, gamma=0.9)
    drops = MultiStepLR(opt, milestones=[3, 5], gamma=0.1)
    lrs = []
    for _ in range(7):
        decay.step()
        drops.step()
        lrs.append(opt.param_groups[0]["lr"])
    want = [0.9**e * 0.1 ** sum(e >= m for m in (3, 5)) for e in range(1, 8)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)


@pytest.mark.parametrize(
    "make, after",
    [
        (lambda opt: StepLR(opt, step_size=3, gamma=0.5), [0.2, 0.1]),
        (lambda opt: ExponentialLR(opt, gamma=0.5), [0.1, 0.05]),
        (
            lambda opt: CosineAnnealingLR(opt, T_max=4),
            [0.2 / (1 + 2**-0.5), 0.2 / (1 + 2**-0.5) * (1 - 2**-0.5)],
        ),
    ],
)
def test_an_lr_changed_by_hand_stays_changed_as_in_pytorch(make, after):
    """PyTorch steps these schedules from the optimizer's lr, so a change by hand (here
    to 0.2 after epoch 1) carries on. Was: the next step wrote the closed form back
    (StepLR: 1.0 at epoch 2, 0.5 at epoch 3)."""
    opt = one_group()
    scheduler = make(opt)
    scheduler.step()
    opt.param_groups[0]["lr"] = 0.2
    lrs = []
    for _ in range(2):
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, after, rtol=1e-12, atol=1e-15)
