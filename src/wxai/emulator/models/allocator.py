"""Keep freed memory in the process (glibc ``mallopt``) for fast CPU training steps.

glibc returns large freed blocks to the kernel (``munmap`` above the mmap threshold,
heap trimming above the trim threshold); the next step's tensors of the same size
then fault in fresh zeroed pages. A training step of the emulator allocates and
frees megabyte-sized edge tensors by the hundred, so on CPU most of its time in
element-wise ops went to page faults (about 2,000 minor faults per step). Raising
both thresholds keeps the freed blocks for reuse. This is process-wide: call it
once at the start of a training or benchmark process, not from library code.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(threshold_bytes: int = 1 << 30) -> bool:
    """Raise glibc's trim and mmap thresholds to ``threshold_bytes`` (default 1 GiB).

    Returns ``True`` when applied, ``False`` where the C library is not glibc (macOS,
    musl, Windows), where it changes nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return False
    trimmed = libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(threshold_bytes))
    mapped = libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(threshold_bytes))
    return bool(trimmed and mapped)
