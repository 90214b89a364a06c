"""End to end: a small MLP learns make-moons-style data to 100% training accuracy.

The data are generated here with seeded NumPy (two interleaving half circles
with a little noise), and the training loop is the plainest one: forward, loss,
backward, and ``p -= lr * p.grad`` under no_grad.
"""

import numpy

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def two_moons(n=200, noise=0.1, seed=0):
    """n points on two interleaving half circles, labels 0 and 1."""
    rng = numpy.random.default_rng(seed)
    angles = rng.uniform(0, numpy.pi, n)
    labels = rng.integers(0, 2, n)
    x = numpy.where(labels == 0, numpy.cos(angles), 1 - numpy.cos(angles))
    y = numpy.where(labels == 0, numpy.sin(angles), 0.5 - numpy.sin(angles))
    points = numpy.stack([x, y], axis=1) + rng.normal(0, noise, (n, 2))
    return points.astype(numpy.float32), labels.astype(numpy.int64)


def sgd_step(model, lr):
    with minigrad.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    model.zero_grad()


def test_mlp_reaches_full_training_accuracy_on_two_moons():
    points, labels = two_moons()
    x, y = minigrad.tensor(points), minigrad.tensor(labels)
    model = nn.Sequential(
        nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2)
    )
    first_loss = None
    for step in range(1500):
        loss = F.cross_entropy(model(x), y)
        first_loss = first_loss or loss.item()
        loss.backward()
        sgd_step(model, lr=0.3)
        if step % 100 == 99:
            with minigrad.no_grad():
                accuracy = float((model(x).argmax(dim=1) == y).numpy().mean())
            if accuracy == 1.0:
                break
    assert loss.item() < first_loss / 5
    assert accuracy == 1.0, f"training accuracy {accuracy} after {step + 1} steps"
