"""How ``bench/bench_queue.py fair`` turns its bursts into A's drop with B (the issue's A-60/B-1 goal: at most 5 %).
Pure arithmetic on made-up bursts: the bench itself is never a test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from bench_queue import Burst, fair_summary


def burst(with_b: bool, jobs_per_second: float, job_time: float = 0.13, workers: int = 1) -> Burst:
    """60 jobs of A at ``jobs_per_second``; with B, B's one job of the same time takes its share of the span."""
    span = 60 / jobs_per_second
    return Burst(with_b, workers, 60, span, 60 * job_time, job_time, 2 * job_time if with_b else None, 0.9)


def test_a_slower_appliance_is_not_read_as_a_drop() -> None:
    # Session 9's bench compared the median of the runs with B against the median of separate runs alone: one slow
    # appliance on either side read as a drop. Here the second appliance is 30 % slower for both kinds of burst.
    fast = [burst(True, 6.0), burst(False, 6.0), burst(False, 6.0), burst(True, 6.0)]
    slow = [burst(False, 4.2), burst(True, 4.2), burst(True, 4.2), burst(False, 4.2)]
    summary = fair_summary([fast, slow])
    assert summary.drop == pytest.approx(0.0)
    assert summary.pairs == 4
    assert summary.null_range == pytest.approx((0.0, 0.0))


def test_a_real_drop_is_read_from_the_pairs() -> None:
    appliance = [burst(True, 5.4), burst(False, 6.0), burst(False, 6.0), burst(True, 5.4)]
    summary = fair_summary([appliance])
    assert summary.drop == pytest.approx(0.1)
    assert summary.drop_range == pytest.approx((0.1, 0.1))
    assert summary.noise == pytest.approx(0.0)


def test_a_drift_over_an_appliance_weighs_on_both_sides_and_shows_as_noise() -> None:
    # The machine slows by 10 % a burst: A+B, A, A, A+B pairs it once each way, and A against A shows the drift.
    drifting = [burst(True, 10.0), burst(False, 9.0), burst(False, 8.1), burst(True, 7.29)]
    summary = fair_summary([drifting])
    assert summary.drop == pytest.approx(0.0, abs=0.01)
    assert summary.drop_range[0] < -0.1 and summary.drop_range[1] > 0.09
    assert summary.noise == pytest.approx(0.1)


def test_the_share_of_the_workers_time_shows_what_b_costs_a_at_any_speed() -> None:
    # B's one job takes a job time from A's span at both speeds; A's job time scales with the machine's speed.
    fast = [burst(True, 60 / 61 / 0.13, 0.13), burst(False, 1 / 0.13, 0.13)]
    slow = [burst(False, 1 / 0.2, 0.2), burst(True, 60 / 61 / 0.2, 0.2)]
    summary = fair_summary([fast, slow])
    assert summary.share_drop == pytest.approx(1 / 61)
    assert summary.job_time_ratio == pytest.approx(1.0)


def test_bursts_with_nothing_to_pair_are_refused() -> None:
    with pytest.raises(ValueError, match="no burst with B next to a burst of A alone"):
        fair_summary([[burst(True, 6.0)], [burst(False, 6.0)]])
