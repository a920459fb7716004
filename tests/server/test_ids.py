"""Ids sort in the order they were made, even within one millisecond (the ULID spec's monotonicity)."""

from __future__ import annotations

import threading
import time
import types

import pytest
from paqshot_server import ids
from paqshot_server.ids import new_id, ulid


def frozen_clock(monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    """Every id made from the clock falls in the same millisecond (only ``ids`` sees the frozen clock)."""
    monkeypatch.setattr(ids, "time", types.SimpleNamespace(time=lambda: now))


def test_ids_made_in_one_millisecond_sort_in_the_order_they_were_made(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen_clock(monkeypatch, time.time())
    made = [new_id("gen") for _ in range(1000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert len({i[4:14] for i in made}) == 1  # one millisecond: the time part is the same


def test_ids_stay_in_order_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    frozen_clock(monkeypatch, now)
    first = new_id("gen")
    frozen_clock(monkeypatch, now - 5)  # e.g. an NTP correction
    assert new_id("gen") > first


def test_ids_from_many_threads_are_unique_and_each_threads_are_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen_clock(monkeypatch, time.time())
    made: dict[int, list[str]] = {n: [] for n in range(8)}

    def make(n: int) -> None:
        made[n] += [new_id("gen") for _ in range(500)]

    threads = [threading.Thread(target=make, args=(n,)) for n in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for batch in made.values() for i in batch]
    assert len(set(every)) == len(every)
    assert all(batch == sorted(batch) for batch in made.values())


def test_an_explicit_time_is_that_time() -> None:
    then = time.time() - 3600
    assert ulid(then)[:10] == ulid(then)[:10] < ulid()[:10]
