# %% [markdown]
# # Tutorial 7: convolutional networks on the digits
#
# **You will learn** what a convolution computes (checked against a loop written by hand),
# what padding, stride and pooling do to an image's size, how to normalize images and
# augment whole batches, how to pick a learning rate with the range test, and how to read
# a classifier's mistakes with a confusion matrix, precision, recall and F1. The network
# we build reaches at least 97% test accuracy on the 8x8 digits.
#
# **Read first:** Tutorial 2 (splits, augmentation) and Tutorial 3 (the training loop).
#
# **Source:** convolution and pooling are in
# [minigrad/ops/conv.py](../minigrad/ops/conv.py), the layers in
# [minigrad/nn/layers/conv.py](../minigrad/nn/layers/conv.py), the range test in
# [minigrad/train/lr_find.py](../minigrad/train/lr_find.py).
#
# Run it: `python tutorials/07_convolutional_networks.py` (full mode, about a minute), or
# with `MINIGRAD_QUICK=1` for a few-second version with fewer epochs.

# %%
import os

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import (
    Compose,
    DataLoader,
    Normalize,
    RandomCrop,
    TensorDataset,
    load_digits,
    train_test_split,
)
from minigrad.train import confusion_matrix, lr_find, precision_recall_f1

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"  # the test suite's few-second mode
try:
    import matplotlib

    matplotlib.use("Agg")  # draw to files, no window
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
minigrad.manual_seed(0)

# %% [markdown]
# ## 1. What a convolution computes
#
# A convolution slides a small grid of weights, the *kernel* $K$ (here $3 \times 3$), over
# the image $X$; at every position it multiplies the pixels under the kernel by the
# weights and adds them up:
#
# $$Y[i, j] = b + \sum_{u=0}^{2} \sum_{v=0}^{2} K[u, v]\, X[i + u, j + v].$$
#
# The same nine weights are used at every position: a pattern is detected wherever it
# appears, with $9$ weights instead of one weight per pixel pair. (Strictly this is a
# cross-correlation; deep learning calls it convolution, as PyTorch does.)
# `F.conv2d` takes a batch of images $(N, C, H, W)$ and kernels
# $(C_\text{out}, C_\text{in}, k_h, k_w)$. We check it against the formula, written as a loop.

# %%
images, labels = load_digits(return_images=True)  # (1797, 1, 8, 8), pixel values 0..16
image = minigrad.tensor(images[:1] / 16.0)  # one image, a batch of 1, values in [0, 1]
vertical_edge = minigrad.tensor([[[[1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, -1.0]]]])
out = F.conv2d(image, vertical_edge)
print(f"image {image.shape} * kernel {vertical_edge.shape} -> {out.shape}")


def conv2d_by_hand(x, k):
    """The formula above, one output pixel at a time (one image, one channel)."""
    kh, kw = k.shape
    y = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y[i, j] = (k * x[i : i + kh, j : j + kw]).sum()
    return y


by_hand = conv2d_by_hand(image.numpy()[0, 0], vertical_edge.numpy()[0, 0])
print("largest difference from the loop:", np.abs(out.numpy()[0, 0] - by_hand).max())
assert np.allclose(out.numpy()[0, 0], by_hand, atol=1e-6)
# Without padding, a 3x3 kernel fits in 8 - 3 + 1 = 6 positions per row.
assert out.shape == (1, 1, 6, 6)

# %% [markdown]
# ## 2. Padding, stride, pooling
#
# For an input of side $n$, kernel $k$, padding $p$ (zeros added around the image) and
# stride $s$ (the step between positions), the output has side
#
# $$n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1.$$
#
# Padding $p = 1$ with $k = 3$ keeps the size ("same" padding); stride 2 halves it.
# *Max pooling* keeps the largest value of each $2 \times 2$ window: it halves the size too,
# and makes the network care less about exactly where a stroke is.

# %%


def side(n, k, p=0, s=1):
    return (n + 2 * p - k) // s + 1


for padding, stride in [(0, 1), (1, 1), (1, 2)]:
    y = F.conv2d(image, vertical_edge, padding=padding, stride=stride)
    print(f"padding {padding}, stride {stride}: {tuple(y.shape[2:])}")
    assert y.shape[2] == side(8, 3, padding, stride)
pooled = F.max_pool2d(image, 2)
print("max_pool2d(2):", tuple(image.shape[2:]), "->", tuple(pooled.shape[2:]))
# Each pooled pixel is the largest of its 2x2 window.
windows = image.numpy()[0, 0].reshape(4, 2, 4, 2).max(axis=(1, 3))
assert np.array_equal(pooled.numpy()[0, 0], windows)

# %% [markdown]
# ## 3. Data: split, normalize, augment
#
# We split as in Tutorial 2 (stratified train / validation / test). Images are
# normalized per channel, $x \mapsto (x - \mu) / \sigma$, with $\mu$ and $\sigma$ measured on the
# training images only: `Normalize` does this to a whole batch. (Tutorial 2 divided by 16,
# which puts pixels in $[0, 1]$ but not around 0.) Each training batch is augmented by
# `RandomCrop(8, padding=1)`: every image shifted by up to one pixel, a new draw each time.

# %%
X = images.astype(np.float32)
rest_x, test_x, rest_y, test_y = train_test_split(
    X, labels, test_size=0.2, stratify=labels, random_state=0
)
train_x, val_x, train_y, val_y = train_test_split(
    rest_x, rest_y, test_size=0.15, stratify=rest_y, random_state=0
)
mean, std = float(train_x.mean()), float(train_x.std())  # one channel: one mean, one std
normalize = Normalize(mean=mean, std=std)
train_x, val_x, test_x = normalize(train_x), normalize(val_x), normalize(test_x)
print(f"train {len(train_x)}, val {len(val_x)}, test {len(test_x)} images")
print(f"normalized training pixels: mean {train_x.mean():.2e}, std {train_x.std():.3f}")
assert abs(train_x.mean()) < 1e-4 and abs(train_x.std() - 1) < 1e-4
# Zero padding must mean "background": after normalizing, the background is (0 - mean) / std,
# so we fill with that value.
background = (0.0 - mean) / std
augment = Compose([RandomCrop(8, padding=1, fill=background, seed=0)])
train_loader = DataLoader(TensorDataset(train_x, train_y), batch_size=32, shuffle=True, seed=0)
x_val, y_val = minigrad.tensor(val_x), minigrad.tensor(val_y)
x_test, y_test = minigrad.tensor(test_x), minigrad.tensor(test_y)

# %% [markdown]
# ## 4. The network
#
# Two blocks of convolution, ReLU and pooling turn each $1 \times 8 \times 8$ image into
# $64 \times 2 \times 2$ features; a linear layer maps those $256$ numbers to the 10 class scores.
# A first layer sees $3 \times 3$ pixels; after pooling, a second-layer kernel sees
# $3 \times 3$ pooled pixels, i.e. most of the image: each block looks at larger shapes.
# `Flatten` turns each image's $(64, 2, 2)$ features into one row of 256 numbers, the
# input a `Linear` layer expects.

# %%


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),  # (N, 32, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 4, 4)
        nn.Conv2d(32, 64, 3, padding=1),  # (N, 64, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 64, 2, 2)
        nn.Flatten(),  # (N, 256)
        nn.Dropout(0.3),  # Tutorial 4: zero 30% of the features while training
        nn.Linear(256, 10),
    )


model = make_cnn()
n_params = sum(p.numel() for p in model.parameters())
print(model)
print(f"{n_params} parameters, most of them in the second convolution's 64 x 32 x 3 x 3")
assert n_params == (32 * 9 + 32) + (64 * 32 * 9 + 64) + (256 * 10 + 10)

# %% [markdown]
# ## 5. Choosing the learning rate: the range test
#
# `lr_find` trains for a few dozen batches while raising the learning rate exponentially
# from $10^{-5}$ to $1$, recording a smoothed loss. While the rate is tiny, nothing
# happens; then the loss falls; then the steps are too large and it blows up. It suggests
# a tenth of the rate at the lowest loss, a safe point on the steep part of the descent,
# and leaves the model and optimizer as they were.

# %%
adam = optim.Adam(model.parameters(), lr=1e-3)
lrs, losses, suggested = lr_find(
    model, nn.CrossEntropyLoss(), adam, train_loader, start_lr=1e-5, end_lr=1.0, num_iter=60
)
print(f"range test: {len(lrs)} steps, lowest loss {min(losses):.3f} at lr", end=" ")
print(f"{lrs[int(np.argmin(losses))]:.2e}; suggested lr {suggested:.2e}")
assert min(losses) < losses[0]  # somewhere along the way the loss fell
lr = min(max(suggested, 1e-3), 1e-2)  # keep it in Adam's usual range
if plt is not None:
    plt.figure(figsize=(5, 3))
    plt.semilogx(lrs, losses)
    plt.axvline(suggested, color="gray", linestyle="--")
    plt.xlabel("learning rate")
    plt.ylabel("smoothed loss")
    plt.tight_layout()
    plt.savefig("07_lr_range_test.png")
    plt.close()
    print("saved 07_lr_range_test.png")
else:
    print("(matplotlib is not installed: no plot of the range test)")

# %% [markdown]
# ## 6. Training, with augmentation on the training batches only
#
# The loop of Tutorial 3, plus one line: `xb = augment(xb)`. The learning rate follows
# `CosineAnnealingLR`: it falls from its start to 0 along half a cosine over the epochs,
# $\eta_e = \frac{\eta_0}{2}\left(1 + \cos\frac{\pi e}{E}\right)$, large steps first and
# fine ones at the end. We keep the weights of the epoch with the best validation
# accuracy and measure the test set once, at the end.

# %%
epochs = 3 if QUICK else 60
optimizer = optim.Adam(model.parameters(), lr=lr)
scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
history = {"loss": [], "val_accuracy": []}
best_accuracy, best_state = -1.0, None
for epoch in range(epochs):
    model.train()
    total = 0.0
    for xb, yb in train_loader:
        xb = augment(xb)  # a new random shift of every image, every time
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    scheduler.step()
    model.eval()
    with minigrad.no_grad():
        val_accuracy = (model(x_val).argmax(dim=1) == y_val).float().mean().item()
    history["loss"].append(total / len(train_x))
    history["val_accuracy"].append(val_accuracy)
    if val_accuracy > best_accuracy:
        best_accuracy = val_accuracy
        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if epoch % 5 == 4 or epoch == epochs - 1:
        print(f"epoch {epoch + 1:3d}  loss {total / len(train_x):.4f}  val acc {val_accuracy:.3f}")
model.load_state_dict(best_state)
model.eval()
with minigrad.no_grad():
    predicted = model(x_test).argmax(dim=1).numpy()
test_accuracy = float((predicted == test_y).mean())
print(f"test accuracy: {test_accuracy:.4f} ({int((predicted != test_y).sum())} mistakes)")
assert test_accuracy > (0.5 if QUICK else 0.97)
if plt is not None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    left.plot(history["loss"])
    left.set(xlabel="epoch", ylabel="training loss")
    right.plot(history["val_accuracy"])
    right.set(xlabel="epoch", ylabel="validation accuracy")
    fig.tight_layout()
    fig.savefig("07_learning_curves.png")
    plt.close(fig)
    print("saved 07_learning_curves.png")
else:
    print("(matplotlib is not installed: no learning curves)")

# %% [markdown]
# ## 7. Which digits does it confuse? Confusion matrix, precision, recall, F1
#
# $C[i, j]$ counts the test images of true digit $i$ predicted as $j$: the diagonal holds the
# correct answers. For one class $c$, with TP, FP, FN its true positives, false positives
# and false negatives,
#
# $$\text{precision} = \frac{TP}{TP + FP}, \quad \text{recall} = \frac{TP}{TP + FN}, \quad
# F_1 = \frac{2 \cdot \text{precision} \cdot \text{recall}}{\text{precision} + \text{recall}}.$$
#
# Precision: of the images called $c$, how many are $c$. Recall: of the true $c$, how many
# were found. Accuracy hides which class suffers; these do not.

# %%
matrix = confusion_matrix(predicted, test_y, num_classes=10)
print("confusion matrix (rows: true digit, columns: predicted):")
print(matrix)
precision, recall, f1 = precision_recall_f1(predicted, test_y, average=None, num_classes=10)
for digit in range(10):
    p, r, f = precision[digit], recall[digit], f1[digit]
    print(f"  digit {digit}: precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")
assert matrix.sum() == len(test_y) and np.trace(matrix) == (predicted == test_y).sum()
# Recall of digit c is the diagonal entry over its row's sum, by definition.
assert np.allclose(recall, np.diag(matrix) / matrix.sum(axis=1))

# %% [markdown]
# ## 8. What the first layer learned
#
# Each of the 32 first-layer kernels is a $3 \times 3$ picture: light where the kernel
# wants bright pixels, dark where it wants dark ones. Many look like edge and stroke
# detectors.

# %%
filters = model[0].weight.detach().numpy()[:, 0]  # (32, 3, 3)
print(
    "first-layer filters:", filters.shape, f"weights in [{filters.min():.2f}, {filters.max():.2f}]"
)
if plt is not None:
    fig, axes = plt.subplots(4, 8, figsize=(8, 4.2))
    for kernel, ax in zip(filters, axes.flat):
        ax.imshow(kernel, cmap="gray")
        ax.axis("off")
    fig.savefig("07_filters.png")
    plt.close(fig)
    print("saved 07_filters.png")
else:
    print("(matplotlib is not installed: no picture of the filters)")

# %% [markdown]
# ## Exercises
#
# 1. Write `max_pool2d` by hand for one $8 \times 8$ image with NumPy (reshape into
#    $2 \times 2$ windows) and check it against `F.max_pool2d` on a random image.
# 2. Train the same network without augmentation (drop `xb = augment(xb)`) and compare the
#    test accuracy and the gap between training loss and validation accuracy.
# 3. Replace the first `MaxPool2d(2)` by a stride-2 convolution
#    (`Conv2d(32, 32, 3, stride=2, padding=1)`); check the shapes with the size formula.
#
# Solutions: `tutorials/solutions/07_convolutional_networks.py`.
