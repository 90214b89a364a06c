"""What a layer accepts: a Tensor of its weights' dtype, as in PyTorch.

A float64 input to a float32 layer would silently run the rest of the model in
float64; a list would fail deep inside with an AttributeError. Both get an error
that says what was wrong and what to do.
"""

import numpy as np
import pytest

import minigrad
from minigrad import nn

# Each layer with weights, and the shape of an input it takes.
LAYERS = {
    "Linear": (lambda: nn.Linear(3, 2), (4, 3)),
    "Conv2d": (lambda: nn.Conv2d(1, 2, 3), (1, 1, 5, 5)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (4, 3)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(1), (2, 1, 3, 3)),
    "LayerNorm": (lambda: nn.LayerNorm(3), (4, 3)),
    "RNN": (lambda: nn.RNN(3, 4), (5, 2, 3)),
    "LSTM": (lambda: nn.LSTM(3, 4), (5, 2, 3)),
    "GRU": (lambda: nn.GRU(3, 4), (5, 2, 3)),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), (2, 3)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2), (3, 2, 4)),
}


def call(layer, x):
    return layer(x, x, x) if isinstance(layer, nn.MultiheadAttention) else layer(x)


@pytest.mark.parametrize("name", LAYERS)
def test_a_float64_input_to_a_float32_layer_names_both_dtypes_and_the_fix(name):
    make, shape = LAYERS[name]
    layer = make()
    x = np.random.default_rng(0).standard_normal(shape)
    with pytest.raises(RuntimeError, match=r"input is float64 but the weight is float32") as info:
        call(layer, minigrad.tensor(x))
    assert "x.float()" in str(info.value) and "model.to(minigrad.float64)" in str(info.value)
    # What the message advises works: the float32 input, or the float64 model.
    out = call(layer, minigrad.tensor(x).float())
    first = out[0] if isinstance(out, tuple) else out
    assert first.dtype == minigrad.float32
    out = call(layer.double(), minigrad.tensor(x))
    first = out[0] if isinstance(out, tuple) else out
    assert first.dtype == minigrad.float64


@pytest.mark.parametrize("name", LAYERS)
def test_a_list_input_is_a_type_error_that_says_to_wrap_it(name):
    make, shape = LAYERS[name]
    data = np.zeros(shape, dtype=np.float32).tolist()
    with pytest.raises(TypeError, match=r"must be a Tensor, got a list.*minigrad\.tensor\(data\)"):
        call(make(), data)


def test_a_model_called_on_a_list_or_an_int_tensor():
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    with pytest.raises(TypeError, match=r"linear: the input must be a Tensor, got a list"):
        model([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match=r"got a ndarray"):
        model(np.ones((1, 3), dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"input is int64 but the weight is float32.*x\.float"):
        model(minigrad.tensor([[1, 2, 3]]))
    with pytest.raises(TypeError, match=r"embedding: the input must be a Tensor, got a list"):
        nn.Embedding(5, 2)([1, 2])
    images = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))  # a common first layer
    with pytest.raises(TypeError, match=r"Flatten: the input must be a Tensor, got a list"):
        images([[[1.0, 2.0], [3.0, 4.0]]])
    assert model(minigrad.tensor([[1.0, 2.0, 3.0]])).shape == (1, 1)


@pytest.mark.parametrize(
    "layer",
    [nn.ReLU(), nn.LeakyReLU(), nn.GELU(), nn.Tanh(), nn.Sigmoid(), nn.Softplus(), nn.SiLU()]
    + [nn.Softmax(dim=1), nn.LogSoftmax(dim=1), nn.Dropout(0.5)],
    ids=lambda layer: type(layer).__name__,
)
def test_a_model_that_starts_without_weights_names_the_list_too(layer):
    # the check used to live only in the weighted layers: a model starting with ReLU
    # failed with "'list' object has no attribute 'relu'"
    model = nn.Sequential(layer, nn.Linear(2, 1))
    with pytest.raises(TypeError, match=r"the input must be a Tensor, got a list.*tensor\(data\)"):
        model([[1.0, 2.0]])


def test_an_rnn_state_of_another_dtype_is_refused_too():
    lstm = nn.LSTM(3, 4)
    x = minigrad.zeros(5, 2, 3)
    h0 = minigrad.zeros(1, 2, 4, dtype=minigrad.float64)
    with pytest.raises(RuntimeError, match=r"LSTM \(hidden state\): the input is float64"):
        lstm(x, (h0, h0.float()))
    out, (h, c) = lstm(x, (h0.float(), h0.float()))
    assert out.dtype == h.dtype == c.dtype == minigrad.float32
