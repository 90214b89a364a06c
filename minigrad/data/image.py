"""Image transforms that work on a whole batch at once, on any device.

Images are (N, C, H, W) batches, or single (C, H, W) images, given as Tensors
(the result is a Tensor on the same device) or as NumPy/CuPy arrays (the
result is an array of the same kind). The array work goes through the
backend's ``xp`` (``numpy`` or ``cupy``), so a batch on the GPU stays there.

Transforming a batch in one array operation, instead of image by image in a
Python loop, is what makes augmentation cheap enough to do on every step:

    for x, y in loader:
        x = augment(x)          # a new random flip and crop for every image

The random transforms draw from a generator: ``seed=`` an int (their own
stream, so the same seed gives the same sequence of outputs), a
``numpy.random.Generator``, or None for minigrad's global generator
(``minigrad.manual_seed``). The random numbers are drawn on the CPU and only
then moved to the batch's device, so a seed gives the same result on every
device.
"""

from __future__ import annotations

import numbers

from minigrad.backend import backend_of_array
from minigrad.data._random import as_generator
from minigrad.factories import as_tensor
from minigrad.tensor import Tensor


class Compose:
    """Apply transforms one after the other.

    >>> import numpy as np
    >>> pipeline = Compose([ToTensor(), Normalize(0.5, 0.5)])
    >>> pipeline(np.array([[[0], [255]]], dtype=np.uint8)).tolist()  # (H=1, W=2, C=1)
    [[[-1.0, 1.0]]]
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, images):
        for transform in self.transforms:
            images = transform(images)
        return images

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor:
    """uint8 images with channels last (H, W, C) to float32 Tensors (C, H, W) in [0, 1].

    Takes one image (H, W, C), a batch (N, H, W, C), or a grayscale image
    (H, W), which gets one channel. uint8 values are divided by 255; floating
    images are only rearranged. ``device`` places the result (default: where
    the input is, the cpu for NumPy arrays).

    >>> import numpy as np
    >>> image = np.zeros((2, 3, 3), dtype=np.uint8)  # H=2, W=3, RGB
    >>> image[0, 0] = [255, 0, 51]
    >>> x = ToTensor()(image)
    >>> x.shape, x.dtype, x[:, 0, 0].tolist()
    ((3, 2, 3), dtype('float32'), [1.0, 0.0, 0.20000000298023224])
    """

    def __init__(self, device=None):
        self.device = device

    def __call__(self, images):
        array, xp = _array_of(images)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim not in (3, 4):
            raise ValueError(
                f"ToTensor expects (H, W), (H, W, C) or (N, H, W, C) images, "
                f"got shape {array.shape}"
            )
        if array.dtype == xp.uint8:
            array = array.astype(xp.float32) / 255
        elif array.dtype.kind != "f":
            raise ValueError(f"ToTensor expects uint8 or floating images, got {array.dtype}")
        # Channels move from last to third-from-last: (..., H, W, C) -> (..., C, H, W).
        array = xp.ascontiguousarray(xp.moveaxis(array, -1, -3))
        return as_tensor(array, device=self.device)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """Per channel: ``(x - mean[c]) / std[c]``. ``mean``/``std``: one number or one per channel.

    >>> import numpy as np
    >>> x = np.array([[[1.0, 3.0]], [[10.0, 20.0]]], dtype=np.float32)  # C=2, H=1, W=2
    >>> Normalize(mean=[2.0, 10.0], std=[1.0, 5.0])(x).tolist()
    [[[-1.0, 1.0]], [[0.0, 2.0]]]
    """

    def __init__(self, mean, std):
        self.mean = _per_channel(mean)
        self.std = _per_channel(std)
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain 0 (it divides), got {std}")

    def __call__(self, images):
        array, xp = _array_of(images)
        batch, single = _as_batch(array, "Normalize")
        if batch.dtype.kind != "f":
            raise ValueError(
                f"Normalize expects floating images (use ToTensor first), got {batch.dtype}"
            )
        channels = batch.shape[1]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"Normalize: {name} has {len(values)} values, but the images have "
                    f"{channels} channels"
                )
        mean = xp.asarray(self.mean, dtype=batch.dtype).reshape(1, -1, 1, 1)
        std = xp.asarray(self.std, dtype=batch.dtype).reshape(1, -1, 1, 1)
        return _like(images, (batch - mean) / std, single)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    """Mirror each image left-right with probability ``p``, each image independently.

    >>> import numpy as np
    >>> x = np.arange(3.0).reshape(1, 1, 1, 3)
    >>> RandomHorizontalFlip(p=1.0)(x).tolist()
    [[[[2.0, 1.0, 0.0]]]]
    """

    def __init__(self, p=0.5, seed=None):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p is a probability in [0, 1], got {p}")
        self.p = p
        self._rng = None if seed is None else as_generator(seed)

    def __call__(self, images):
        array, xp = _array_of(images)
        batch, single = _as_batch(array, "RandomHorizontalFlip")
        flip = _rng(self).random(batch.shape[0]) < self.p  # one coin per image, on the CPU
        flip = xp.asarray(flip).reshape(-1, 1, 1, 1)
        return _like(images, xp.where(flip, batch[..., ::-1], batch), single)

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """Cut a random ``size`` window out of each image, after padding its border by ``padding``.

    Padding by a few pixels and cropping back to the original size shifts each
    image by a random offset: the standard augmentation for CIFAR-10.
    ``size`` is an int (square) or (height, width); ``padding`` an int, the
    same on all four sides, filled with ``fill``.

    >>> import numpy as np
    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> RandomCrop(2, padding=1, seed=0)(x).shape
    (1, 1, 2, 2)
    >>> RandomCrop(2)(x).tolist() == x.tolist()  # no padding, same size: nothing to move
    True
    """

    def __init__(self, size, padding=0, fill=0, seed=None):
        self.size = _pair(size, "size")
        if not isinstance(padding, numbers.Integral) or padding < 0:
            raise ValueError(f"RandomCrop: padding must be an int >= 0, got {padding!r}")
        self.padding = int(padding)
        self.fill = fill
        self._rng = None if seed is None else as_generator(seed)

    def __call__(self, images):
        array, xp = _array_of(images)
        batch, single = _as_batch(array, "RandomCrop")
        p = self.padding
        if p:
            batch = xp.pad(batch, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        n, channels, height, width = batch.shape
        crop_h, crop_w = self.size
        if crop_h > height or crop_w > width:
            raise ValueError(
                f"RandomCrop: a {crop_h}x{crop_w} crop does not fit in {height}x{width} images "
                f"(padding {p} included)"
            )
        rng = _rng(self)
        top = xp.asarray(rng.integers(0, height - crop_h + 1, size=n))
        left = xp.asarray(rng.integers(0, width - crop_w + 1, size=n))
        # One fancy index gathers every crop: image i, all channels, rows
        # top[i] .. top[i]+crop_h-1, columns left[i] .. left[i]+crop_w-1.
        rows = top[:, None] + xp.arange(crop_h)
        cols = left[:, None] + xp.arange(crop_w)
        crops = batch[
            xp.arange(n)[:, None, None, None],
            xp.arange(channels)[None, :, None, None],
            rows[:, None, :, None],
            cols[:, None, None, :],
        ]
        return _like(images, crops, single)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomNoise:
    """Add Gaussian noise of standard deviation ``std`` (and mean ``mean``) to every pixel.

    >>> import numpy as np
    >>> x = np.zeros((2, 1, 4, 4), dtype=np.float32)
    >>> RandomNoise(std=0.0)(x).tolist() == x.tolist()
    True
    >>> bool((RandomNoise(0.1, seed=0)(x) == RandomNoise(0.1, seed=0)(x)).all())
    True
    """

    def __init__(self, std=0.1, mean=0.0, seed=None):
        if std < 0:
            raise ValueError(f"RandomNoise: std must be >= 0, got {std}")
        self.std = std
        self.mean = mean
        self._rng = None if seed is None else as_generator(seed)

    def __call__(self, images):
        array, xp = _array_of(images)
        if array.dtype.kind != "f":
            raise ValueError(
                f"RandomNoise expects floating images (use ToTensor first), got {array.dtype}"
            )
        # Drawn in float32 (float64 for float64 images), on the CPU, then moved.
        draw_dtype = array.dtype if array.dtype.itemsize == 8 else xp.float32
        noise = _rng(self).standard_normal(array.shape, dtype=draw_dtype)
        noisy = array + xp.asarray(self.mean + self.std * noise, dtype=array.dtype)
        return _like(images, noisy, single=False)

    def __repr__(self):
        return f"RandomNoise(std={self.std}, mean={self.mean})"


class Resize:
    """Resize images to ``size`` (an int for square, or (height, width)).

    ``mode="bilinear"`` (floating images) or ``"nearest"`` (any dtype). The
    pixel grid follows ``torch.nn.functional.interpolate`` with
    ``align_corners=False`` and no antialiasing: output pixel ``j`` looks at
    input position ``(j + 0.5) * in/out - 0.5`` (bilinear) or
    ``floor(j * in/out)`` (nearest). An int size sets both sides, as in
    ``interpolate`` (torchvision's ``Resize(int)`` sets the shorter side).

    >>> import numpy as np
    >>> x = np.array([[[[0.0, 4.0]]]], dtype=np.float32)  # 1x2
    >>> Resize((1, 4))(x).tolist()  # bilinear
    [[[[0.0, 1.0, 3.0, 4.0]]]]
    >>> Resize((1, 4), mode="nearest")(x).tolist()
    [[[[0.0, 0.0, 4.0, 4.0]]]]
    """

    def __init__(self, size, mode="bilinear"):
        if mode not in ("bilinear", "nearest"):
            raise ValueError(f"Resize: mode must be 'bilinear' or 'nearest', got {mode!r}")
        self.size = _pair(size, "size")
        self.mode = mode

    def __call__(self, images):
        array, xp = _array_of(images)
        batch, single = _as_batch(array, "Resize")
        if self.mode == "bilinear" and batch.dtype.kind != "f":
            raise ValueError(f"Resize: bilinear needs floating images, got {batch.dtype}")
        out_h, out_w = self.size
        # Bilinear interpolation is separable: resize the rows, then the columns.
        batch = _resize_axis(batch, xp, axis=2, out_len=out_h, mode=self.mode)
        batch = _resize_axis(batch, xp, axis=3, out_len=out_w, mode=self.mode)
        return _like(images, batch, single)

    def __repr__(self):
        return f"Resize(size={self.size}, mode={self.mode!r})"


def _resize_axis(batch, xp, axis, out_len, mode):
    in_len = batch.shape[axis]
    scale = in_len / out_len
    target = xp.arange(out_len, dtype=xp.float64)
    if mode == "nearest":
        source = xp.minimum(xp.floor(target * scale).astype(xp.int64), in_len - 1)
        return xp.take(batch, source, axis=axis)
    # Where each output pixel's centre falls on the input grid (clamped at the start).
    source = xp.maximum((target + 0.5) * scale - 0.5, 0.0)
    low = xp.minimum(xp.floor(source).astype(xp.int64), in_len - 1)
    high = xp.minimum(low + 1, in_len - 1)
    shape = [1, 1, 1, 1]
    shape[axis] = out_len
    weight_high = (source - low).astype(batch.dtype).reshape(shape)
    return (
        xp.take(batch, low, axis=axis) * (1 - weight_high)
        + xp.take(batch, high, axis=axis) * weight_high
    )


def patchify(images, patch):
    """Cut images into non-overlapping square patches, each flattened: the input of a ViT.

    (N, C, H, W) becomes (N, (H/p) * (W/p), C * p * p): the patches in reading
    order (row by row), each patch's values ordered by channel, then row, then
    column. A single (C, H, W) image gives (num_patches, C * p * p). For a
    Tensor this is made of reshape and permute, so gradients flow through.
    ``patch`` is an int or (height, width).

    >>> import numpy as np
    >>> x = np.arange(16).reshape(1, 1, 4, 4)
    >>> patchify(x, 2)[0].tolist()  # four 2x2 patches: top-left, top-right, ...
    [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
    """
    patch_h, patch_w = _pair(patch, "patch")
    single = len(images.shape) == 3
    if single:
        images = images.reshape(1, *images.shape)
    if len(images.shape) != 4:
        raise ValueError(
            f"patchify expects (N, C, H, W) or (C, H, W) images, got shape {images.shape}"
        )
    n, channels, height, width = images.shape
    if height % patch_h or width % patch_w:
        raise ValueError(
            f"patchify: {height}x{width} images do not divide into {patch_h}x{patch_w} patches"
        )
    rows, cols = height // patch_h, width // patch_w
    grid = images.reshape(n, channels, rows, patch_h, cols, patch_w)
    # (N, C, rows, ph, cols, pw) -> (N, rows, cols, C, ph, pw): patch position first.
    order = (0, 2, 4, 1, 3, 5)
    grid = grid.permute(*order) if isinstance(grid, Tensor) else grid.transpose(order)
    patches = grid.reshape(n, rows * cols, channels * patch_h * patch_w)
    return patches[0] if single else patches


# --- helpers shared by the transforms ---------------------------------------------


def _array_of(images):
    """The array inside ``images`` (a Tensor or a NumPy/CuPy array) and its array module."""
    if isinstance(images, Tensor):
        return images.data, images.xp
    if not hasattr(images, "shape"):
        raise TypeError(f"expected a Tensor or an array of images, got {type(images).__name__}")
    return images, backend_of_array(images).xp


def _as_batch(array, who):
    """A (N, C, H, W) batch, and whether it was a single (C, H, W) image."""
    if array.ndim == 3:
        return array[None], True
    if array.ndim == 4:
        return array, False
    raise ValueError(f"{who} expects (N, C, H, W) or (C, H, W) images, got shape {array.shape}")


def _like(original, batch, single):
    """The result in the input's form: a Tensor for a Tensor, an array for an array."""
    result = batch[0] if single else batch
    if isinstance(original, Tensor):
        return as_tensor(result, device=original.device)
    return result


def _rng(transform):
    """The transform's own generator if it was seeded, else the global one; its draws
    recorded while ``minigrad.compile`` traces (each replay draws afresh)."""
    from minigrad.jit.tracer import recorded_draws  # (late: the data package loads first)

    return recorded_draws(transform._rng if transform._rng is not None else as_generator(None))


def _per_channel(values):
    if isinstance(values, numbers.Real):
        return [float(values)]
    return [float(v) for v in values]


def _pair(value, name):
    if isinstance(value, numbers.Integral):
        value = (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2 or min(value) < 1:
        raise ValueError(f"{name} must be a positive int or a (height, width) pair, got {value!r}")
    return value
