"""minigrad keeps the memory NumPy frees (glibc only), so a training step reuses it."""

import resource

import numpy

from minigrad.backend.cpu_memory import keep_freed_memory, runs_on_glibc

ON_GLIBC = runs_on_glibc()


def test_it_is_done_on_linux_with_glibc_and_nowhere_else(monkeypatch):
    monkeypatch.delenv("MINIGRAD_KEEP_FREED_MEMORY", raising=False)
    assert keep_freed_memory() is ON_GLIBC


def test_an_environment_variable_turns_it_off(monkeypatch):
    monkeypatch.setenv("MINIGRAD_KEEP_FREED_MEMORY", "0")
    assert keep_freed_memory() is False


def _page_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_a_freed_block_is_reused_without_asking_the_system_for_new_pages(monkeypatch):
    monkeypatch.delenv("MINIGRAD_KEEP_FREED_MEMORY", raising=False)
    if not keep_freed_memory():  # not glibc: nothing to check, the C library decides
        assert not ON_GLIBC
        return
    block = numpy.ones(4_000_000, dtype=numpy.float32)  # 16 MB: 3,900 pages of 4 KiB
    del block
    before = _page_faults()
    block = numpy.ones(4_000_000, dtype=numpy.float32)
    assert _page_faults() - before < 500  # given back to the system, it would be ~3,900
    assert block.sum() == 4_000_000
