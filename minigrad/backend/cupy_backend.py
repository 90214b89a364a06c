"""The cuda backend: arrays are CuPy arrays on one GPU. Imported only when asked for."""

from __future__ import annotations

from minigrad.backend.device import Device


def _import_cupy():
    try:
        import cupy
    except ImportError as error:
        raise RuntimeError(
            "device 'cuda' needs CuPy: pip install 'minigrad[cuda12]' (or [cuda13])"
        ) from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # noqa: BLE001 - CuPy raises its own CUDA errors
        raise RuntimeError(f"CuPy is installed but no GPU is usable: {error}") from error
    return cupy, count


class CupyBackend:
    """CuPy on one GPU, with the same names as NumpyBackend."""

    name = "cuda"
    reads_wait = True  # a read to the host waits for the queued kernels (backend/deferred.py)

    def __init__(self, index=0):
        cupy, count = _import_cupy()
        if index >= count:
            raise RuntimeError(
                f"device 'cuda:{index}' does not exist: this machine has {count} GPU(s)"
            )
        self.xp = cupy
        self.index = index
        self.device = Device(f"cuda:{index}")
        self.rng = cupy.random.RandomState(0)

    def __deepcopy__(self, memo):
        return self  # one backend per device: a copied tensor stays on the same device

    __copy__ = __deepcopy__  # (called with no memo: the extra argument is unused)

    def asarray(self, data, dtype=None, copy=False):
        with self.xp.cuda.Device(self.index):
            if copy:
                return self.xp.array(data, dtype=dtype)
            return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        return self.xp.asnumpy(array)

    def synchronize(self):
        self.xp.cuda.Device(self.index).synchronize()

    def seed(self, seed):
        self.rng = self.xp.random.RandomState(seed)

    def rand(self, shape, dtype):
        return self.rng.random_sample(shape, dtype=dtype)

    def randn(self, shape, dtype):
        return self.rng.standard_normal(shape, dtype=dtype)

    def randint(self, low, high, shape, dtype):
        return self.rng.randint(low, high, size=shape, dtype=dtype)

    def get_rng_state(self) -> dict:
        return {"seed_state": None}  # CuPy does not expose its generator state

    def set_rng_state(self, state: dict) -> None:
        return None

    def scatter_add(self, target, index, values):
        import cupyx

        cupyx.scatter_add(target, index, values)

    def argsort_stable(self, x, axis):
        return self.xp.argsort(x, axis=axis)  # CuPy's sort is always stable (and takes no kind)

    def in_blocks(self, kernel, *inputs):
        out = self.xp.empty(inputs[0].shape, dtype=inputs[0].dtype)
        kernel(self.xp, *inputs, out)  # one call: a GPU runs each pass on the whole array
        return out

    def softmax_shift(self, x, axis):
        return self.xp.max(x, axis=axis, keepdims=True)

    def erf(self, x):
        from cupyx.scipy.special import erf

        return erf(x)
