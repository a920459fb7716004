"""The C allocator's handling of freed memory in a worker (and in the API process, ``cli.serve``): keep it for
the next allocation instead of returning it to the kernel.

A packshot allocates and frees tens of multi-megabyte numpy arrays (a 2048² canvas is 12 MB, its shadow plane
16 MB). glibc's malloc gives freed memory at the top of its heap back to the kernel once more than
``M_TRIM_THRESHOLD`` (by default twice a dynamic mmap threshold, so ~32 MB at most) is free, and the next
array pays a page fault for every 4 KiB of it again: ~14,000 faults, ~30 ms of kernel time, in a 180 ms
packshot of a 2000² photo (``bench/bench_packshot.py``). With the thresholds set, a worker reuses its freed
memory and the faults are gone; results are unchanged (only where memory comes from changes).

The cost is memory kept, not used: up to :data:`TRIM_BYTES` of freed heap stays with each worker process
between jobs. Arrays over :data:`MMAP_BYTES` (a 40 MP photo's planes) are still mapped and unmapped on their own:
with glibc's ceiling of 32 MB there instead, the heap kept pieces of them and a 40 MP job's peak grew (apples at
40 MP: 431 MB with the defaults, 469 MB with 32 MB, 425 MB with 16 MB; ``bench/bench_memory.py``).
glibc only (``mallopt``); elsewhere nothing is changed. An operator's own ``MALLOC_TRIM_THRESHOLD_`` /
``MALLOC_MMAP_THRESHOLD_`` (glibc's tunables) win.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # glibc's <malloc.h> parameter numbers
M_MMAP_THRESHOLD = -3
TRIM_BYTES = 128 * 1024 * 1024  # freed heap a worker keeps: a 2048² packshot's working set, with room
# A 2048² float32 plane (a canvas's shadow) still comes from the heap: 16 MiB plus glibc's header, so not 16 MiB
MMAP_BYTES = 32 * 1024 * 1024
OPERATOR_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
M_ARENA_MAX = -8
# A worker's malloc arenas: one. A job runs on a queue thread, the warm-up and the model's first arena on the main
# thread; with glibc's default (8 x cores arenas) each thread's arena kept its own freed memory (up to TRIM_BYTES),
# so a 40 MP job's planes did not reuse what the warm-up and earlier jobs freed. A real worker through the API, four
# 7744x5164 photos (`bench/bench_worker_rss.py --size 7744x5164`, session 4): peak 656.5 MB with the default, 454.9
# MB with one arena (MALLOC_ARENA_MAX=1), and no slower. Allocation contention is no concern there: one job at a
# time per thread, and Python allocates under the GIL. An operator's own MALLOC_ARENA_MAX wins.
WORKER_ARENAS = 1
# The API process's malloc arenas. Its full decodes (every photo the JPEG fast path does not take: PNG, WebP, an
# unsure JPEG) run in whichever request thread holds a ``jobs.intake.FULL_DECODES`` slot; with glibc's default each
# of those threads' arenas kept up to TRIM_BYTES of a 40 MP decode's freed blocks (Pillow allocates in 16 MB blocks,
# under MMAP_BYTES): 16 concurrent 40 MP PNGs took the API process from 110 MB to 2.0 GB, 2.3 GB after 32 (breaker6,
# F2). Two arenas: one per decode slot on this 2-core machine's bound; the loop's 1 MB bodies are short allocations.
API_ARENAS = 2
# While a large photo's job runs (:func:`large_job`), allocations from this size are mapped on their own. The model
# run's arena chunks (u2netp at 320²: 320² x 16 float32 activations, 6.5 MB each) are then unmapped when the arena is
# handed back, instead of leaving holes in the heap that the job's next arrays do not fit (session 5, 40 MP
# comp_dark_chair, one process: 541 MB with the heap as it is, 502 with 4 MiB, 469 with 4 MiB after a trim, 523 with
# 8 MiB after a trim; issue-14.md, "Memory at 40 MP, session 5").
LARGE_JOB_MMAP_BYTES = 4 * 1024 * 1024
_kept = False  # keep_freed_memory applied its thresholds in this process


def keep_freed_memory(trim_bytes: int = TRIM_BYTES, mmap_bytes: int = MMAP_BYTES, *, arenas: int | None = None) -> bool:
    """Set glibc's trim and mmap thresholds for this process (see the module docstring).

    Both are set together: setting either one turns glibc's dynamic mmap threshold off, which alone would map
    (and fault in) every allocation over 128 KiB. Returns True when applied; False (and nothing changed) on a
    C library other than glibc, when an operator set either variable, or when ``mallopt`` refuses a value.
    ``arenas``: also cap glibc's malloc arenas at that many (a worker: :data:`WORKER_ARENAS`), unless the operator
    set ``MALLOC_ARENA_MAX``.
    """
    if platform.libc_ver()[0] != "glibc" or any(name in os.environ for name in OPERATOR_VARIABLES):
        return False
    libc = ctypes.CDLL(None)
    applied = libc.mallopt(M_MMAP_THRESHOLD, mmap_bytes) == 1 and libc.mallopt(M_TRIM_THRESHOLD, trim_bytes) == 1
    if applied and arenas is not None and "MALLOC_ARENA_MAX" not in os.environ:
        applied = libc.mallopt(M_ARENA_MAX, arenas) == 1
    if not applied:
        log.warning("mallopt refused the allocator thresholds; freed memory goes back to the kernel as before")
    global _kept
    _kept = applied
    return applied


def hand_back() -> None:
    """Return the freed heap this process keeps to the kernel (glibc's ``malloc_trim(0)``, which also returns whole
    free pages inside the heap, under live objects, where no trim threshold reaches), when :func:`keep_freed_memory`
    applied; else nothing. The next allocations that reuse it fault its pages in again."""
    if _kept:
        ctypes.CDLL(None).malloc_trim(0)


@contextmanager
def large_job(mmap_bytes: int = MMAP_BYTES) -> Iterator[None]:
    """For a job on a large photo, in a process where :func:`keep_freed_memory` applied (else nothing changes):
    the freed heap that earlier jobs kept goes back to the kernel first (:func:`hand_back`), allocations from
    :data:`LARGE_JOB_MMAP_BYTES` are mapped on their own while the block runs, and at its end ``mmap_bytes`` (what
    :func:`keep_freed_memory` set) is restored and the heap handed back again. The cost is page faults, once per
    page the job touches, on a job of seconds. Process-wide: a job on another thread meanwhile gets the same
    placement (only where its memory comes from changes, never its results)."""
    if not _kept:
        yield
        return
    libc = ctypes.CDLL(None)
    hand_back()
    libc.mallopt(M_MMAP_THRESHOLD, LARGE_JOB_MMAP_BYTES)
    try:
        yield
    finally:
        libc.mallopt(M_MMAP_THRESHOLD, mmap_bytes)
        hand_back()
