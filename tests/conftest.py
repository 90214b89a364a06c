"""Test settings shared by the whole suite.

hypothesis profiles: "ci" (derandomized, few examples, used when CI=true) and
"dev" (more examples, random) for local runs; pick one with
HYPOTHESIS_PROFILE=dev. MINIGRAD_DEVICE=cuda runs every test on the GPU and
skips them, with the reason, where no GPU is usable. MINIGRAD_DEVICE=strict runs
every test on the strict testing device (CuPy's rules in host memory, see
minigrad/testing/strict.py); a test about the cpu itself is marked
``@pytest.mark.cpu_only(reason)`` and skipped there and on the GPU, with its reason.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

import minigrad

settings.register_profile(
    "ci",
    max_examples=12,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

DEVICE = os.environ.get("MINIGRAD_DEVICE", "cpu")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cpu_only(reason): a test about the cpu device itself, skipped on others"
    )


def pytest_collection_modifyitems(config, items):
    if DEVICE.startswith("cuda") and not minigrad.cuda.is_available():
        reason = f"MINIGRAD_DEVICE={DEVICE} but no usable GPU (CuPy missing or no device)"
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))
    if DEVICE != "cpu":
        for item in items:
            marker = item.get_closest_marker("cpu_only")
            if marker is not None:
                reason = marker.args[0] if marker.args else marker.kwargs["reason"]
                item.add_marker(pytest.mark.skip(reason=f"about the cpu: {reason}"))


@pytest.fixture(autouse=True)
def _device_and_seed():
    """Every test starts on MINIGRAD_DEVICE with the generators seeded at 0."""
    if DEVICE.startswith("cuda") and not minigrad.cuda.is_available():
        yield
        return
    minigrad.set_default_device(DEVICE)
    minigrad.manual_seed(0)
    yield
    minigrad.set_default_device("cpu")
