"""Keep the memory NumPy frees, so that the next training step can reuse it.

A training step allocates the same large temporaries every time (activations,
im2col columns, gradients) and frees them again. With its default settings,
glibc's ``malloc`` gives big blocks straight back to the operating system when
they are freed (``munmap``, or trimming the top of the heap), so the next step
asks for fresh pages, and the kernel zero-fills each 4 KiB page on first touch.
On the benchmark machine that page-faulting cost more than a quarter of a CNN
training step (27 ms -> 20 ms at batch 64 with it turned off; see
benchmarks/RESULTS.md).

So, on Linux with glibc, minigrad asks ``malloc`` once, at import, to serve
blocks of up to 32 MiB from its heap and to keep up to 1 GiB of freed heap memory
instead of trimming it. This is what a GPU memory pool (CuPy's, PyTorch's) does
on the GPU; on the CPU PyTorch users get the same effect by preloading jemalloc
or tcmalloc. It changes how quickly memory goes back to the operating system,
never how much a program can use. It is a process-wide setting: set
``MINIGRAD_KEEP_FREED_MEMORY=0`` in the environment to leave ``malloc`` alone.

    >>> keep_freed_memory() in (True, False)
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys

# mallopt parameters, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD_BYTES = 32 * 2**20  # the largest glibc accepts on 64-bit systems
TRIM_THRESHOLD_BYTES = 2**30

kept = False  # whether this process keeps freed memory (``minigrad info`` says it)


def runs_on_glibc() -> bool:
    """True on Linux with the GNU C library: the only place ``mallopt`` is used."""
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def keep_freed_memory() -> bool:
    """Tune glibc's malloc to keep freed blocks; True if it was done.

    Does nothing (and returns False) on other systems or C libraries, or when
    ``MINIGRAD_KEEP_FREED_MEMORY=0``.
    """
    global kept
    if os.environ.get("MINIGRAD_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if not runs_on_glibc():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    kept = kept or bool(done and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return kept


def give_back_freed_memory() -> bool:
    """Hand the freed memory malloc keeps back to the operating system (glibc's
    ``malloc_trim``); True if it was done.

    For a moment when the next steps will need memory laid out differently from the
    last one: ``minigrad.compile`` calls it after a trace, before it allocates the
    replay's memory in one block, which the freed pieces of the traced step could not
    hold. Without it the block would come on top of them.

    >>> give_back_freed_memory() in (True, False)
    True
    """
    if not kept:
        return False
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = (ctypes.c_size_t,)
    return bool(trim(0))
