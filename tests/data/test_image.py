"""Image transforms on whole batches: hand-computed values on tiny images, and references."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.data import (
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomNoise,
    Resize,
    ToTensor,
    patchify,
)


def batch(n=2, c=3, h=4, w=5, seed=0):
    """A float32 batch as a Tensor on the default device."""
    return minigrad.tensor(np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32))


# --- ToTensor, Normalize, Compose -------------------------------------------------


def test_to_tensor_by_hand():
    image = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # H=1, W=2, C=2
    x = ToTensor()(image)
    assert isinstance(x, minigrad.Tensor) and x.dtype == np.float32
    assert x.shape == (2, 1, 2)  # C, H, W
    np.testing.assert_allclose(x.numpy(), [[[0.0, 0.2]], [[1.0, 0.4]]], rtol=1e-6)
    assert ToTensor()(np.zeros((5, 4, 3, 3), dtype=np.uint8)).shape == (5, 3, 4, 3)
    assert ToTensor()(np.zeros((4, 3), dtype=np.uint8)).shape == (1, 4, 3)  # grayscale
    floats = np.full((2, 2, 1), 0.5, dtype=np.float32)
    assert ToTensor()(floats).tolist() == [[[0.5, 0.5], [0.5, 0.5]]]  # not divided again
    with pytest.raises(ValueError, match="uint8 or floating"):
        ToTensor()(np.zeros((2, 2, 1), dtype=np.int32))


def test_normalize_by_hand():
    x = minigrad.tensor([[[[1.0, 3.0]], [[10.0, 20.0]]]])  # N=1, C=2, H=1, W=2
    out = Normalize(mean=[2.0, 10.0], std=[1.0, 5.0])(x)
    assert isinstance(out, minigrad.Tensor) and out.dtype == np.float32
    assert out.tolist() == [[[[-1.0, 1.0]], [[0.0, 2.0]]]]
    assert Normalize(1.0, 2.0)(x[0]).tolist() == [[[0.0, 1.0]], [[4.5, 9.5]]]  # one image
    with pytest.raises(ValueError, match="mean has 3 values, but the images have 2 channels"):
        Normalize([0, 0, 0], [1, 1, 1])(x)
    with pytest.raises(ValueError, match="std must not contain 0"):
        Normalize(0.0, [1.0, 0.0])


def test_compose_chains():
    images = np.array([[[[0], [255]]]], dtype=np.uint8)  # N=1, H=1, W=2, C=1
    pipeline = Compose([ToTensor(), Normalize(0.5, 0.5), RandomHorizontalFlip(p=1.0)])
    assert pipeline(images).tolist() == [[[[1.0, -1.0]]]]
    assert "Normalize" in repr(pipeline)


# --- random transforms ------------------------------------------------------------


def test_flip_by_hand():
    x = minigrad.tensor([[[[1.0, 2.0, 3.0]]]])
    assert RandomHorizontalFlip(p=1.0)(x).tolist() == [[[[3.0, 2.0, 1.0]]]]
    assert RandomHorizontalFlip(p=0.0)(x).tolist() == x.tolist()


def test_flip_decides_per_image_and_repeats_with_a_seed():
    x = batch(n=64)
    out = RandomHorizontalFlip(seed=3)(x).numpy()
    flipped = [bool((o == i[..., ::-1]).all()) for o, i in zip(out, x.numpy(), strict=True)]
    kept = [bool((o == i).all()) for o, i in zip(out, x.numpy(), strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54  # about half
    np.testing.assert_array_equal(RandomHorizontalFlip(seed=3)(x).numpy(), out)
    # the stream goes on: a second call with the same transform draws new coins
    flip = RandomHorizontalFlip(seed=3)
    assert not (flip(x).numpy() == flip(x).numpy()).all()


def test_random_transforms_follow_manual_seed():
    x = batch(n=8)
    for transform in (RandomHorizontalFlip(), RandomCrop(3, padding=1), RandomNoise(0.1)):
        minigrad.manual_seed(5)
        first = transform(x).numpy()
        minigrad.manual_seed(5)
        np.testing.assert_array_equal(transform(x).numpy(), first)


def reference_crop(image, top, left, size, padding, fill):
    """One image, the obvious way: pad it, then slice the window."""
    p = padding
    padded = np.pad(image, ((0, 0), (p, p), (p, p)), constant_values=fill)
    return padded[:, top : top + size[0], left : left + size[1]]


@given(
    n=st.integers(1, 4),
    h=st.integers(2, 6),
    w=st.integers(2, 6),
    padding=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_crop_matches_a_slice_of_the_padded_image(n, h, w, padding, seed):
    x = np.random.default_rng(seed).random((n, 2, h, w)).astype(np.float32)
    size = (h - 1, w)
    crop = RandomCrop(size, padding=padding, fill=-1.0, seed=seed)
    out = crop(minigrad.tensor(x)).numpy()
    assert out.shape == (n, 2, *size)
    # replay the offsets from a generator with the same seed
    rng = np.random.default_rng(seed)
    tops = rng.integers(0, h + 2 * padding - size[0] + 1, size=n)
    lefts = rng.integers(0, w + 2 * padding - size[1] + 1, size=n)
    for i in range(n):
        expected = reference_crop(x[i], tops[i], lefts[i], size, padding, -1.0)
        np.testing.assert_array_equal(out[i], expected)


def test_crop_by_hand_and_errors():
    x = minigrad.tensor(np.arange(4.0, dtype=np.float32).reshape(1, 2, 2))  # one image
    assert RandomCrop(2)(x).tolist() == x.tolist()  # nothing to move
    window = RandomCrop(1, padding=0, seed=0)(x).tolist()
    assert window in ([[[0.0]]], [[[1.0]]], [[[2.0]]], [[[3.0]]])
    with pytest.raises(ValueError, match="a 5x5 crop does not fit in 4x4"):
        RandomCrop(5, padding=1)(x)


def test_noise_statistics_and_reproducibility():
    x = minigrad.zeros(16, 3, 32, 32)
    out = RandomNoise(std=0.5, mean=1.0, seed=0)(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    values = out.numpy()
    assert abs(values.mean() - 1.0) < 0.01 and abs(values.std() - 0.5) < 0.01
    np.testing.assert_array_equal(RandomNoise(std=0.5, mean=1.0, seed=0)(x).numpy(), values)
    assert RandomNoise(std=0.0)(x).tolist() == x.tolist()


# --- Resize -----------------------------------------------------------------------


def test_resize_by_hand():
    x = minigrad.tensor([[[[0.0, 4.0]]]])  # 1x2
    assert Resize((1, 4))(x).tolist() == [[[[0.0, 1.0, 3.0, 4.0]]]]
    assert Resize((1, 4), mode="nearest")(x).tolist() == [[[[0.0, 0.0, 4.0, 4.0]]]]
    square = minigrad.tensor([[[[0.0, 2.0], [4.0, 6.0]]]])
    # downsizing 2x2 to 1x1: the centre (0.5, 0.5) of the input, the mean of the four
    assert Resize(1)(square).tolist() == [[[[3.0]]]]
    assert Resize(1, mode="nearest")(square).tolist() == [[[[0.0]]]]
    assert Resize(2)(square).tolist() == square.tolist()  # same size: unchanged


def reference_bilinear(image, out_h, out_w):
    """Pixel by pixel, as torch.nn.functional.interpolate(align_corners=False) defines it."""
    channels, in_h, in_w = image.shape
    out = np.zeros((channels, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            y = max((i + 0.5) * in_h / out_h - 0.5, 0.0)
            x = max((j + 0.5) * in_w / out_w - 0.5, 0.0)
            y0, x0 = min(int(y), in_h - 1), min(int(x), in_w - 1)
            y1, x1 = min(y0 + 1, in_h - 1), min(x0 + 1, in_w - 1)
            dy, dx = y - y0, x - x0
            out[:, i, j] = (
                image[:, y0, x0] * (1 - dy) * (1 - dx)
                + image[:, y0, x1] * (1 - dy) * dx
                + image[:, y1, x0] * dy * (1 - dx)
                + image[:, y1, x1] * dy * dx
            )
    return out


@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    out_h=st.integers(1, 9),
    out_w=st.integers(1, 9),
    seed=st.integers(0, 2**16),
)
def test_resize_matches_the_pixel_by_pixel_reference(h, w, out_h, out_w, seed):
    x = np.random.default_rng(seed).random((2, 3, h, w))
    out = Resize((out_h, out_w))(minigrad.tensor(x)).numpy()
    for i in range(2):
        np.testing.assert_allclose(out[i], reference_bilinear(x[i], out_h, out_w), atol=1e-12)
    nearest = Resize((out_h, out_w), mode="nearest")(x)  # a NumPy array in, one out
    rows = np.minimum(np.floor(np.arange(out_h) * h / out_h).astype(int), h - 1)
    cols = np.minimum(np.floor(np.arange(out_w) * w / out_w).astype(int), w - 1)
    np.testing.assert_array_equal(nearest, x[:, :, rows][:, :, :, cols])


def test_resize_errors_and_dtypes():
    assert Resize(2)(batch()).dtype == np.float32
    ints = np.arange(4, dtype=np.uint8).reshape(1, 2, 2)
    assert Resize(4, mode="nearest")(ints).dtype == np.uint8
    with pytest.raises(ValueError, match="bilinear needs floating"):
        Resize(4)(ints)


# --- patchify ---------------------------------------------------------------------


def test_patchify_by_hand():
    x = np.arange(32).reshape(1, 2, 4, 4)  # two channels
    patches = patchify(x, 2)
    assert patches.shape == (1, 4, 8)
    # the top-left patch: channel 0's 2x2 corner, then channel 1's
    assert patches[0, 0].tolist() == [0, 1, 4, 5, 16, 17, 20, 21]
    assert patches[0, 3].tolist() == [10, 11, 14, 15, 26, 27, 30, 31]
    assert patchify(x[0], (4, 2)).shape == (2, 16)  # one image, tall patches


def test_patchify_tensor_keeps_gradients():
    x = minigrad.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    patches = patchify(x, 2)
    assert isinstance(patches, minigrad.Tensor) and patches.shape == (1, 4, 4)
    (patches * patches).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())


def test_patchify_errors():
    with pytest.raises(ValueError, match="5x4 images do not divide into 2x2 patches"):
        patchify(np.zeros((1, 1, 5, 4)), 2)


# --- shapes accepted by every transform ---------------------------------------------


@pytest.mark.parametrize(
    "transform",
    [
        Normalize(0.5, 0.2),
        RandomHorizontalFlip(seed=0),
        RandomCrop(3, padding=1, seed=0),
        RandomNoise(0.1, seed=0),
        Resize((2, 3)),
    ],
)
def test_single_images_and_arrays(transform):
    x = batch(n=1)
    single = transform(x[0])
    assert isinstance(single, minigrad.Tensor) and single.ndim == 3
    assert str(single.device) == str(x.device)
    array_out = transform(x.numpy())
    assert isinstance(array_out, np.ndarray) and array_out.ndim == 4
