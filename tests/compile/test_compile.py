"""minigrad.compile: a compiled step computes exactly what the eager step computes."""

import numpy
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.optim import SGD, Adam, AdamW


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.1),
            nn.Linear(4 * 4 * 4, 4),
        )

    def forward(self, x):
        return self.net(x)


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(F.dropout(out[:, -1], 0.2, self.training))


class TransformerBlock(nn.Module):
    def __init__(self, d=8, heads=2):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, dropout=0.1, batch_first=True)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, d))
        self.head = nn.Linear(d, 4)

    def forward(self, x):
        a, _ = self.attn(x, x, x, need_weights=False)
        x = self.norm1(x + a)
        x = self.norm2(x + self.mlp(x))
        return self.head(x.mean(dim=1))


def batches(model_name, steps, batch=6, seed=1):
    rng = numpy.random.default_rng(seed)
    shape = {
        "mlp": (batch, 8),
        "cnn": (batch, 1, 8, 8),
        "lstm": (batch, 5, 4),
        "transformer": (batch, 5, 8),
    }[model_name]
    for _ in range(steps):
        x = rng.standard_normal(shape).astype(numpy.float32)
        y = rng.integers(0, 4, size=batch)
        yield minigrad.tensor(x), minigrad.tensor(y)


MODELS = {"mlp": MLP, "cnn": CNN, "lstm": LSTMClassifier, "transformer": TransformerBlock}
OPTIMIZERS = {
    "sgd-momentum": lambda p: SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: Adam(p, lr=1e-2),
    "adamw": lambda p: AdamW(p, lr=1e-2, weight_decay=0.1),
}


def train(model_name, optimizer_name, steps, compiled):
    """Loss per step, and the final parameters, buffers and optimizer state."""
    minigrad.manual_seed(0)
    model = MODELS[model_name]()
    optimizer = OPTIMIZERS[optimizer_name](model.parameters())

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    if compiled:
        step = minigrad.compile(step)
    losses = [step(x, y).numpy().copy() for x, y in batches(model_name, steps)]
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    moments = optimizer.state_dict()["state"]
    return losses, state, grads, moments


def assert_bitwise_equal(a, b, what):
    a, b = numpy.asarray(a), numpy.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), f"{what}: largest difference {numpy.abs(a - b).max()}"


@pytest.mark.parametrize(
    "model_name, optimizer_name, steps",
    [
        ("mlp", "sgd-momentum", 50),
        ("mlp", "adam", 50),
        ("mlp", "adamw", 50),
        ("cnn", "adam", 12),
        ("lstm", "adamw", 12),
        ("transformer", "sgd-momentum", 12),
        ("transformer", "adamw", 12),
    ],
)
def test_compiled_training_is_eager_bit_for_bit(model_name, optimizer_name, steps):
    eager = train(model_name, optimizer_name, steps, compiled=False)
    compiled = train(model_name, optimizer_name, steps, compiled=True)
    for i, (a, b) in enumerate(zip(eager[0], compiled[0], strict=True)):
        assert_bitwise_equal(a, b, f"loss of step {i}")
    for name in eager[1]:
        assert_bitwise_equal(eager[1][name], compiled[1][name], name)
    for i, (a, b) in enumerate(zip(eager[2], compiled[2], strict=True)):
        assert_bitwise_equal(a, b, f"gradient of parameter {i}")
    for index, values in eager[3].items():
        for key, value in values.items():
            assert_bitwise_equal(value, compiled[3][index][key], f"state {index} {key}")
