"""Keep the server's resident memory from creeping up under load (glibc's allocator; else a no-op).

Measured with benchmarks/load.py: the answer path alone holds flat memory for thousands of
questions, but served from Gradio's worker threads the process grew ~10 MB a minute while Python's
own heap stayed flat (tracemalloc): freed memory kept by glibc's per-thread arenas (malloc_trim
gave back ~200 MB). Fewer arenas and a periodic trim return it to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def keep_memory_flat(arenas: int = 2, trim_every: float = 30.0) -> threading.Event | None:
    """Cap malloc arenas (call before the server's threads start) and trim the heap every
    `trim_every` seconds in a daemon thread; returns the event that stops it (None where the C
    library is not glibc, and nothing was done)."""
    libc = _libc()
    if libc is None:
        return None
    libc.mallopt(M_ARENA_MAX, arenas)

    def trim() -> None:
        while not stop.wait(trim_every):
            libc.malloc_trim(0)

    stop = threading.Event()
    threading.Thread(target=trim, name="malloc-trim", daemon=True).start()
    return stop
