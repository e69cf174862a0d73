"""Keep a long-running daemon's heap from growing: allocator settings and trimming."""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt parameters (glibc malloc.h)
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, kept fixed instead of growing to 32 MB
ARENA_MAX = 2


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only (not musl or macOS)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def tune_allocator() -> bool:
    """Set glibc malloc up for a long-running model server; call before threads start.

    glibc raises its mmap threshold each time a large block is freed, so the tensors of model
    inference end up on the heap, where freed space is kept and fragments; and each thread
    gets its own arena that keeps its own freed space. A fixed threshold sends large tensors
    to mmap (returned on free) and two arenas bound the rest. Measured on a steady push soak:
    resident memory 530-560 MB without spikes, against 560-640 MB with them.
    """
    if _LIBC is None:
        return False
    _LIBC.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    _LIBC.mallopt(_M_ARENA_MAX, ARENA_MAX)
    return True


def trim_heap() -> bool:
    """Return free glibc heap pages to the OS; False where that is not possible.

    Model inference on texts of varying length frees and reallocates tensors of many sizes;
    glibc keeps the freed pages, and a scoring daemon's resident memory climbed from about
    520 MB to over 900 MB in a few minutes. Trimming after a batch holds it flat (about 13 ms
    per call, so callers do it at most about once a second).
    """
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True
