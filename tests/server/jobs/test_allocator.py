"""A worker keeps the memory it frees (glibc's trim and mmap thresholds): arrays of a packshot's size allocated
again after they were freed cost no page faults; an operator's own setting wins; the worker applies it at start."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from paqshot_server.jobs import allocator, worker
from paqshot_server.settings import Settings

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's thresholds are glibc's")

# Three 2048² float32 planes at once (a 2048² packshot's canvas, shadow plane and layer: 16 MiB each, just over a
# 16 MiB mmap threshold once glibc adds its header), freed, five times over; prints the page faults of the second
# round. Run in a child: the thresholds are process-wide.
CHURN = """
import resource, sys
import numpy as np
from paqshot_server.jobs.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
def churn():
    for _ in range(5):
        arrays = [np.ones(2048 * 2048, np.float32) for _ in range(3)]
        del arrays
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str, **env: str) -> tuple[bool, int]:
    clean = {k: v for k, v in os.environ.items() if k not in allocator.OPERATOR_VARIABLES}
    out = subprocess.run(
        [sys.executable, "-c", CHURN, mode], env={**clean, **env}, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0] == "True", int(out[1])


@glibc
def test_freed_arrays_are_reused_without_page_faults() -> None:
    applied, kept = faults("keep")
    _, default = faults("default")
    assert applied
    # glibc's defaults give the 48 MB back to the kernel each round and fault it in again (thousands of pages
    # per 5 rounds of 3 x 16 MiB; a 16 MiB mmap threshold mapped these planes afresh each time): the thresholds
    # leave it with the process.
    assert default > 3000
    assert kept < default / 20


@glibc
def test_an_operators_own_threshold_wins() -> None:
    applied, _ = faults("keep", MALLOC_TRIM_THRESHOLD_="1")
    assert not applied


def test_the_worker_applies_it_before_anything_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Applied(Exception):
        pass

    def keep() -> bool:
        raise Applied

    monkeypatch.setattr(allocator, "keep_freed_memory", keep)
    with pytest.raises(Applied):
        worker.run_worker(Settings(home=tmp_path))
