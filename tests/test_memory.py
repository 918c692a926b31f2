"""The server's allocator settings (glibc here): arenas capped and the heap trimmed in the background.
Their effect on a serving process is measured by benchmarks/load.py (benchmarks/README.md)."""

from __future__ import annotations

import ctypes
import threading

from assistant.ui import memory


def test_keep_memory_flat_starts_a_trimming_thread_on_glibc(monkeypatch):
    trims = threading.Event()
    real = memory._libc()
    assert real is not None  # this machine's Python runs on glibc

    class Recording:
        def mallopt(self, parameter: int, value: int) -> int:
            assert (parameter, value) == (memory.M_ARENA_MAX, 2)
            return 1

        def malloc_trim(self, pad: int) -> int:
            trims.set()
            return real.malloc_trim(pad)  # the real call, so a wrong signature would fail here

    monkeypatch.setattr(memory, "_libc", Recording)
    stop = memory.keep_memory_flat(trim_every=0.05)
    try:
        assert trims.wait(5)
        assert any(t.name == "malloc-trim" and t.daemon for t in threading.enumerate())
    finally:
        stop.set()


def test_without_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(memory, "_libc", lambda: None)
    assert memory.keep_memory_flat() is None


def test_malloc_trim_is_callable_through_ctypes():
    libc = memory._libc()
    assert isinstance(libc, ctypes.CDLL) and libc.malloc_trim(0) in (0, 1)
