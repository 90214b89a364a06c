"""Tutorial 7, solutions to the exercises.

Run: python tutorials/solutions/07_convolutional_networks.py
"""

import os

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, Normalize, TensorDataset, load_digits, train_test_split

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
minigrad.manual_seed(0)

# 1. max pooling by hand: cut the 8x8 image into a 4x2x4x2 grid; axes 1 and 3 run inside
#    each 2x2 window, so the maximum over them is the window's maximum.
image = minigrad.randn(1, 1, 8, 8)
by_hand = image.numpy()[0, 0].reshape(4, 2, 4, 2).max(axis=(1, 3))
assert np.array_equal(F.max_pool2d(image, 2).numpy()[0, 0], by_hand)
print("1. max_pool2d by hand matches F.max_pool2d")

# 2. Without augmentation: the training loss falls faster, but the test accuracy is no
#    better (usually a little worse): the network memorises exact pixel positions.
images, labels = load_digits(return_images=True)
X = images.astype(np.float32)
train_x, test_x, train_y, test_y = train_test_split(
    X, labels, test_size=0.2, stratify=labels, random_state=0
)
normalize = Normalize(mean=float(train_x.mean()), std=float(train_x.std()))
train_x, test_x = normalize(train_x), normalize(test_x)
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=32, shuffle=True, seed=0)


def make_cnn(first_downsampling):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        first_downsampling,
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 10),
    )


model = make_cnn(nn.MaxPool2d(2))
optimizer = optim.Adam(model.parameters(), lr=3e-3)
for _ in range(2 if QUICK else 20):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
model.eval()
with minigrad.no_grad():
    accuracy = (model(minigrad.tensor(test_x)).argmax(dim=1).numpy() == test_y).mean()
print(f"2. without augmentation: last training batch loss {loss.item():.4f}, test {accuracy:.3f}")
assert accuracy > (0.5 if QUICK else 0.9)

# 3. A stride-2 convolution instead of the first pooling: (8 + 2*1 - 3) // 2 + 1 = 4, the
#    same 4x4 as pooling, so the rest of the network is unchanged; but it learns how to
#    downsample (32 * 32 * 9 + 32 more weights) instead of taking the maximum.
strided = make_cnn(nn.Conv2d(32, 32, 3, stride=2, padding=1))
x = minigrad.zeros(5, 1, 8, 8)
assert strided[:3](x).shape == (5, 32, 4, 4) and strided(x).shape == (5, 10)
print("3. stride-2 convolution: (5, 32, 8, 8) -> (5, 32, 4, 4), as the formula says")
