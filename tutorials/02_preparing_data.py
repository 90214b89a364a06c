# %% [markdown]
# # Tutorial 2: getting data ready for a model
#
# **You will learn** to split data into train / validation / test sets, to fit
# preprocessing on the training rows only (and what goes wrong otherwise), to load a CSV
# file and fill its missing values, to encode categories, to serve mini-batches, to
# normalize and augment images, to cut text into tokens, and to set up k-fold
# cross-validation.
#
# **Read first:** Tutorial 1 (tensors).
#
# **Source:** splits in [minigrad/data/split.py](../minigrad/data/split.py), scalers,
# imputers and encoders in [minigrad/data/tabular.py](../minigrad/data/tabular.py), batches
# in [minigrad/data/loader.py](../minigrad/data/loader.py), images in
# [minigrad/data/image.py](../minigrad/data/image.py).
#
# Run it: `python tutorials/02_preparing_data.py`.
#
# A model only sees numbers in batches. Between the raw data and those batches
# sit a few steps, and each one has a way to go quietly wrong:
#
# 1. split the rows into train / validation / test, keeping the classes balanced;
# 2. fit preprocessing (here a scaler) on the training rows only;
# 3. encode categories as numbers, without inventing an order;
# 4. serve the training rows in shuffled mini-batches, reproducibly;
# 5. augment images (random flips and shifts) on the fly, training rows only;
# 6. turn text into token ids and cut it into next-token windows;
# 7. read a CSV file and fill its missing values;
# 8. cross-validate: every row in a validation fold once.
#
# Every claim below is checked with an assert, so if this file runs, it is true.

# %%
import io

import numpy as np

import minigrad
from minigrad.data import (
    BPETokenizer,
    Compose,
    DataLoader,
    KFold,
    LabelEncoder,
    Normalize,
    OneHotEncoder,
    RandomCrop,
    RandomHorizontalFlip,
    SimpleImputer,
    StandardScaler,
    StratifiedKFold,
    TensorDataset,
    language_model_windows,
    load_digits,
    load_text,
    train_test_split,
)

minigrad.manual_seed(0)


# %% [markdown]
# ## 1. Three splits, stratified
#
# train: what the model learns from.  validation: what we watch while training, to pick
# the epoch, the learning rate, the architecture.  test: looked at once, at the very end.
# Because we make choices by looking at the validation set, its score is slightly
# optimistic; the untouched test set gives the honest number.

# %%
X, y = load_digits()  # 1797 images of 8x8 pixels (values 0..16), flattened to 64 columns
rows = np.arange(len(X))  # we split the row numbers along, to check the split afterwards
print(f"digits: X {X.shape} {X.dtype}, y {y.shape}, classes {np.unique(y).tolist()}")

# Two calls: first hold out 20% as the test set, then 25% of the rest as validation
# (0.8 * 0.25 = 20% of all rows). Every array passed in is cut with the same rows.
# stratify=y keeps each digit's share the same in every part.
X_rest, X_test, y_rest, y_test, rows_rest, rows_test = train_test_split(
    X, y, rows, test_size=0.2, stratify=y, random_state=0
)
X_train, X_val, y_train, y_val, rows_train, rows_val = train_test_split(
    X_rest, y_rest, rows_rest, test_size=0.25, stratify=y_rest, random_state=0
)
print(f"train {len(X_train)}  val {len(X_val)}  test {len(X_test)} rows")

# The three parts are a partition: every row lands in exactly one of them.
all_rows = np.concatenate([rows_train, rows_val, rows_test])
assert sorted(all_rows.tolist()) == rows.tolist()


def class_counts(labels):
    return np.bincount(labels, minlength=10)


# Stratified: each class's count in the test set is its exact share, rounded up or down.
exact = class_counts(y) * len(y_test) / len(y)
print("test counts per digit:", class_counts(y_test).tolist())
print("exact shares         :", [round(e, 1) for e in exact.tolist()])
assert np.all(np.abs(class_counts(y_test) - exact) < 1)

# Without stratify, the counts wander further from the shares: a small test set could even
# miss a rare class entirely.
_, _, _, y_test_plain = train_test_split(X, y, test_size=0.2, random_state=0)
off_plain = np.abs(class_counts(y_test_plain) - exact).max()
print(f"largest miss of a class count: stratified < 1, plain random split {off_plain:.1f}")


# %% [markdown]
# ## 2. Scaling, fitted on the training rows only
#
# StandardScaler learns each column's mean and std in fit(), then transform() maps
# x -> (x - mean) / std. Networks train better on inputs of similar size around 0.

# %%
scaler = StandardScaler().fit(X_train)
Z_train, Z_val = scaler.transform(X_train), scaler.transform(X_val)
stds = Z_train.std(axis=0)
print(f"train after scaling: column means within {np.abs(Z_train.mean(axis=0)).max():.0e} of 0,")
print(f"  column stds: {np.unique(stds.round(3)).tolist()}")
# Every column of the training rows now has mean 0 and std 1 ... except the pixels that are
# 0 in every training image (the corners): their std is 0, and StandardScaler leaves them
# unscaled (scale 1) instead of dividing by zero.
constant = X_train.max(axis=0) == X_train.min(axis=0)
assert np.allclose(Z_train.mean(axis=0), 0, atol=1e-5)
assert np.allclose(Z_train.std(axis=0)[~constant], 1, atol=1e-4)
assert np.all(scaler.scale_[constant] == 1.0)
print(f"{constant.sum()} pixel(s) never vary in training: they stay 0, not NaN")
# The validation rows get the *training* numbers, so their mean is near 0 but not exactly.
print(f"validation after scaling: mean {Z_val.mean():.3f}")
assert np.allclose(scaler.inverse_transform(Z_val), X_val, atol=1e-4)

# Why fit on the training rows only? A scaler fitted on all rows has the test rows inside
# its numbers: the overall mean is the weighted average of the train and test means.
scaler_all = StandardScaler().fit(X)
n_rest, n_test = len(X_rest), len(X_test)
mean_rest, mean_test = X_rest.mean(axis=0, dtype=np.float64), X_test.mean(axis=0, dtype=np.float64)
mix = (n_rest * mean_rest + n_test * mean_test) / len(X)
assert np.allclose(scaler_all.mean_, mix)
# So the features the model *trains on* depend on the test set. Make the test set different
# (here: every test image twice as bright) and the training inputs change with it, although
# not one training row changed. With the scaler fitted on the training rows, they do not.
X_bright = X.copy()
X_bright[rows_test] *= 2
leaky_before = StandardScaler().fit(X).transform(X_train)
leaky_after = StandardScaler().fit(X_bright).transform(X_train)
clean_before = StandardScaler().fit(X_train).transform(X_train)
clean_after = StandardScaler().fit(X_bright[rows_train]).transform(X_train)
leak = np.abs(leaky_after - leaky_before).max()
no_leak = np.abs(clean_after - clean_before).max()
print(f"brighter test images move the training features by up to {leak:.2f} (fit on all)")
print(f"                                                and by {no_leak:.2f} (fit on train)")
assert leak > 0.1
assert no_leak == 0.0
# A test score computed this way is no longer a fair estimate of the score on new data,
# which has, by definition, not been seen by anything. The rule: split first, then fit.


# %% [markdown]
# ## 3. Categories
#
# LabelEncoder for targets, OneHotEncoder for input columns.

# %%
# Class names to the integers 0..K-1 that cross_entropy expects, in sorted order.
labels = LabelEncoder().fit(["cat", "dog", "cat", "bird", "dog"])
print("LabelEncoder classes:", labels.classes_.tolist())
assert labels.transform(["dog", "bird"]).tolist() == [2, 0]
assert labels.inverse_transform(np.array([1])).tolist() == ["cat"]

# An input column of categories must not become 0, 1, 2: that would tell the model that
# "green" lies between "blue" and "red". One 0/1 column per category says only "which one".
table_train = np.array([["red", "S"], ["blue", "M"], ["green", "L"], ["red", "M"]])
table_test = np.array([["blue", "L"], ["purple", "S"]])  # purple was never seen in training
encoder = OneHotEncoder(handle_unknown="ignore").fit(table_train)
print("one-hot columns:", encoder.get_feature_names_out(["color", "size"]).tolist())
encoded = encoder.transform(table_test)
print("test rows encoded:\n", encoded)
assert encoded.shape == (2, 3 + 3)  # 3 colors + 3 sizes
assert encoded[0].tolist() == [1, 0, 0, 1, 0, 0]  # blue, L
assert encoded[1, :3].sum() == 0  # the unknown color: all zeros (handle_unknown="ignore")
assert encoder.inverse_transform(encoded).tolist() == [["blue", "L"], [None, "S"]]


# %% [markdown]
# ## 4. Mini-batches with DataLoader
#
# One pass over the loader is one epoch. Shuffling each epoch keeps the batches from
# always mixing the same examples; seed= makes the order reproducible.

# %%
train_set = TensorDataset(Z_train, y_train)  # float32 features, int64 labels
loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=0)
xb, yb = next(iter(loader))
print(f"{len(loader)} batches per epoch; a batch: x {xb.shape} {xb.dtype}, y {yb.shape} {yb.dtype}")
assert len(loader) == -(-len(train_set) // 64)  # the last, smaller batch is kept
assert xb.shape == (64, 64) and yb.dtype == minigrad.int64

# To watch the order, serve the row numbers themselves.
index_loader = DataLoader(TensorDataset(np.arange(10)), batch_size=4, shuffle=True, seed=0)
epoch0 = [b[0].tolist() for b in index_loader]
epoch1 = [b[0].tolist() for b in index_loader]
print("epoch 0:", epoch0, " epoch 1:", epoch1)
assert sorted(sum(epoch0, [])) == list(range(10))  # every sample exactly once per epoch
assert epoch0 != epoch1  # a new order every epoch
# A new loader with the same seed replays the same sequence of epochs: a run can be repeated.
again = DataLoader(TensorDataset(np.arange(10)), batch_size=4, shuffle=True, seed=0)
assert [b[0].tolist() for b in again] == epoch0
# drop_last=True leaves out the short last batch (useful when every batch must be full).
assert len(DataLoader(train_set, batch_size=64, drop_last=True)) == len(train_set) // 64


# %% [markdown]
# ## 5. Image augmentation
#
# A new random variant of each training image at every step.
# A digit shifted by one pixel, or a mirrored photo of a cat, is still the same class;
# showing the model such variants is like having more data. Only training batches are
# augmented: validation and test images are scored as they are.

# %%
images, image_labels = load_digits(return_images=True)  # (N, C=1, H=8, W=8)
batch = minigrad.tensor(images[:16] / 16.0)  # a batch of 16 images, values in [0, 1]

# A flip with p=1 always mirrors: column j becomes column 7 - j.
flipped = RandomHorizontalFlip(p=1.0)(batch)
assert np.array_equal(flipped.numpy(), batch.numpy()[..., ::-1])

# RandomCrop(8, padding=1): pad each image with a 1-pixel border of zeros (10x10), then cut
# a random 8x8 window out of it. The result is the image shifted by -1, 0 or +1 pixel in
# each direction: the classic augmentation for small images.
crops = RandomCrop(8, padding=1, seed=0)(batch)
assert crops.shape == batch.shape


def shifts_of(image):
    """Every crop RandomCrop(8, padding=1) can make of one (1, 8, 8) image."""
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    return [padded[:, dy : dy + 8, dx : dx + 8] for dy in range(3) for dx in range(3)]


for original, crop in zip(batch.numpy(), crops.numpy()):
    assert any(np.array_equal(crop, s) for s in shifts_of(original))


def show(image):
    """An 8x8 image as text: darker pixels, denser characters."""
    return ["".join(" .:oO@"[int(v * 5.99)] for v in row) for row in image[0]]


print(f"a {image_labels[0]}, and the same image shifted by RandomCrop:")
for left, right in zip(show(batch.numpy()[0]), show(crops.numpy()[0])):
    print(f"  |{left}|   |{right}|")
# Compose chains transforms. Seeded ones repeat themselves: same seeds, same flips and crops.
augment = Compose([RandomHorizontalFlip(p=0.5, seed=1), RandomCrop(8, padding=1, seed=2)])
again = Compose([RandomHorizontalFlip(p=0.5, seed=1), RandomCrop(8, padding=1, seed=2)])
assert np.array_equal(augment(batch).numpy(), again(batch).numpy())
# In a training loop:  for x, y in loader:  x = augment(x)  (a new draw on every call).
# Tutorial 7 trains a convolutional network with exactly this augmentation.

# %% [markdown]
# Dividing by 16 put the pixels in $[0, 1]$, but not around 0. For images the scaler of
# section 2 is `Normalize`: per channel, $x \mapsto (x - \mu_c) / \sigma_c$, with $\mu_c$ and
# $\sigma_c$ measured on the training images only (the same rule as in section 2).

# %%
train_images = images[rows_train].astype(np.float32)  # the training rows of section 1
mean, std = float(train_images.mean()), float(train_images.std())
normalize = Normalize(mean=mean, std=std)  # one channel: one mean and one std
normalized = normalize(train_images)
print(f"Normalize(mean={mean:.2f}, std={std:.2f}): training pixels now have", end=" ")
print(f"mean {normalized.mean():.1e}, std {normalized.std():.3f}")
assert abs(normalized.mean()) < 1e-4 and abs(normalized.std() - 1) < 1e-4


# %% [markdown]
# ## 6. Text
#
# Tokens, then windows for next-token prediction.
# A byte-level BPE tokenizer starts from the 256 bytes (so any string can be encoded)
# and learns merges of frequent neighbours ("t" + "h" -> "th", then "th" + "e" ...).
# Like a scaler, it is fitted ("trained") on the training text only.

# %%
text = load_text()  # ~0.5 MB of English from Python's own documentation; ships with Python
cut = int(0.9 * len(text))
# Text is split into two blocks, not shuffled: windows cut from neighbouring text share most
# of their context, so a random split of windows would put near-copies on both sides.
train_text, val_text = text[:cut], text[cut:]

# 256 byte tokens + 256 merges. (Training on the first 200,000 characters keeps it quick.)
tokenizer = BPETokenizer().train(train_text[:200_000], vocab_size=512)
print(f"BPE: {tokenizer.vocab_size} tokens; the first merges:", end=" ")
print([tokenizer.token_bytes(i) for i in range(256, 264)])
assert tokenizer.vocab_size == 512

sample = 'The "for" statement iterates over a sequence.'
ids = tokenizer.encode(sample)
print(f"{len(sample)} characters -> {len(ids)} tokens:", ids)
print("as pieces:", [tokenizer.token_bytes(i).decode() for i in ids])
assert tokenizer.decode(ids) == sample  # decode undoes encode
assert len(ids) < len(sample)  # merges compress: fewer tokens than characters

# Nothing is ever unknown: text in any script falls back to its bytes.
unusual = "naïve café, 日本語, emoji 🙂"
assert tokenizer.decode(tokenizer.encode(unusual)) == unusual
print(f"{unusual!r}: {len(tokenizer.encode(unusual))} tokens, decoded back exactly")

# How much does the tokenizer compress text it was not trained on?
val_ids = tokenizer.encode(val_text)
ratio = len(val_text.encode()) / len(val_ids)
print(f"validation text: {len(val_text.encode())} bytes -> {len(val_ids)} tokens ({ratio:.2f})")
assert ratio > 1.5

# A language model learns to predict each next token. language_model_windows cuts the
# token stream into rows of context_length tokens; the targets are the same rows shifted by
# one, so targets[i, t] is the token that follows inputs[i, :t+1].
inputs, targets = language_model_windows(val_ids, context_length=16)
print(f"windows: inputs {inputs.shape}, targets {targets.shape}")
print(" input :", tokenizer.decode(inputs[0]))
print(" target:", tokenizer.decode(targets[0]))
# Each window needs 16 tokens plus the one after it; windows start every 16 tokens.
assert inputs.shape == targets.shape == ((len(val_ids) - 17) // 16 + 1, 16)
assert np.array_equal(inputs[:, 1:], targets[:, :-1])  # shifted by one
assert np.array_equal(inputs.reshape(-1)[:32], val_ids[:32])  # windows follow the stream
# These arrays go into a TensorDataset and a DataLoader like any other; Tutorial 8 trains
# a language model on such windows.


# %% [markdown]
# ## 7. A CSV file, with gaps
#
# Tables often come as CSV text, and often with missing values. NumPy reads CSV into an
# array: `np.genfromtxt` turns empty fields into NaN (not a number). A network cannot
# learn from NaN, so `SimpleImputer` fills each column's gaps with a statistic of that
# column (here the median), learned, like a scaler's, from the training rows only.
# `add_indicator=True` also adds a 0/1 column saying where a value was missing, since
# "missing" can itself be informative.

# %%
csv_text = """age,income,visits,bought
34,52000,3,1
51,,7,1
23,31000,,0
45,78000,2,1
,41000,1,0
38,61000,4,1
"""
table = np.genfromtxt(io.StringIO(csv_text), delimiter=",", skip_header=1)
features, target = table[:, :-1].astype(np.float32), table[:, -1].astype(np.int64)
print("read:", features.shape, "missing per column:", np.isnan(features).sum(axis=0).tolist())
imputer = SimpleImputer(strategy="median", add_indicator=True).fit(features[:5])  # training rows
filled = imputer.transform(features)
print("medians of the training rows:", imputer.statistics_.tolist())
print("the 2nd row, filled, with its 'was missing' flags:", filled[1].tolist())
assert not np.isnan(filled).any()
assert filled[1, 1] == np.median([52000, 31000, 78000, 41000])  # the training rows' median
assert filled[1, 3:].tolist() == [0, 1, 0]  # only the income was missing
assert filled.shape == (6, 3 + 3)  # 3 columns, plus a flag for each column that had gaps
# With a real file: np.genfromtxt("data.csv", delimiter=",", skip_header=1), the same way.

# %% [markdown]
# ## 8. Cross-validation: every row validates once
#
# With little data, one validation set is a noisy judge. *K-fold cross-validation* cuts
# the rows into $k$ folds; each fold is the validation set once while the model trains on
# the other $k - 1$, and the $k$ scores are averaged. `StratifiedKFold` keeps each class's
# share in every fold, as `stratify=` did in section 1. Preprocessing is fitted inside
# each fold, on that fold's training rows.

# %%
folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(X_rest, y_rest))
validated = np.concatenate([val for _, val in folds])
print(f"{len(folds)} folds of sizes {[len(val) for _, val in folds]}")
assert sorted(validated.tolist()) == list(range(len(X_rest)))  # each row validates once
for train_rows, val_rows in folds:
    assert not set(train_rows) & set(val_rows)
    shares = class_counts(y_rest[val_rows]) / len(val_rows)
    assert np.abs(shares - class_counts(y_rest) / len(y_rest)).max() < 0.02
# KFold does the same without looking at the labels; without shuffle its folds are
# consecutive blocks of rows.
assert [v.tolist() for _, v in KFold(3).split(np.zeros(7))] == [[0, 1, 2], [3, 4], [5, 6]]
print("data ready: split, scaled on train, imputed, batched, augmented, tokenized, folded")


# %% [markdown]
# ## Exercises
#
# 1. Split the digits 60 / 20 / 20 into train, validation and test sets with two calls of
#    `train_test_split`, stratified, and check that every row is in exactly one part.
# 2. Fill the CSV's gaps with the column *means* instead, without `add_indicator`, and
#    check the filled age against the mean you compute by hand.
# 3. Cross-validate a `StandardScaler`: for each of 5 `KFold` folds of the digits, fit it
#    on the training rows and report the largest |mean| of the scaled validation rows.
#
# Solutions: `tutorials/solutions/02_preparing_data.py`.
