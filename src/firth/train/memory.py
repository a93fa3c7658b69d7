"""Keeping freed memory in the process, so that a tensor allocated anew each batch is not paged in anew.

glibc's malloc serves an allocation above its mmap threshold (32 MB at most, however it adapts) with a
fresh mmap and unmaps it when freed. Training allocates such tensors every batch: the float rows of a
batch's distinct words under the SGNN's 4,480-wide projection are 70 MB on 20 Newsgroups, and the
kernel then zero-fills them one 4 KB page fault at a time, every batch. benchmarks/memory_reuse.py
measures two epochs of a 20 Newsgroups SGNN (2 cores): the second took 8.4 s with glibc's defaults
and 5.7 s with freed memory kept, the process 5.5 million page faults against 0.3 million, and its
peak resident size grew from 1,197 to 1,319 MiB: the usual price of a memory pool, as PyTorch's CUDA
caching allocator keeps freed memory on the GPU.

`firth`'s commands call `keep_freed_memory()` first; a program using firth as a library may call it
too. It changes the whole process's allocator, which is why the library does not do it by itself.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters, from glibc's malloc.h
KEEP_BYTES = 1 << 30


def keep_freed_memory(threshold: int = KEEP_BYTES) -> bool:
    """Have glibc's malloc serve allocations below `threshold` bytes from its heap, and keep up to that much
    freed memory at the heap's top rather than give it back; False (and nothing changed) where the C
    library is not glibc."""
    if not _glibc():
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_TRIM_THRESHOLD, threshold))


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # no confstr (Windows), or no such name or value: not glibc
        return False
