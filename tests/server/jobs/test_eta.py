"""ETAs from measured job times and the job's place in the fair queue: at submission (``estimated_seconds``)
and live (``eta_seconds``)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from types import SimpleNamespace

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from paqshot_server.jobs import eta as eta_mod
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.eta import MAX_AGE, JobTimes, Snapshot, prior_seconds, shape, whole_seconds
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import fair
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage import workers as workers_sql
from paqshot_server.storage.db import connect
from paqshot_server.storage.fair import Pending, Waiting
from paqshot_server.storage.jobs import NewJob
from support import Key, b64, make_key, product_jpeg, queued_job

PHOTO = b64(product_jpeg((96, 72)))


def submit(client: TestClient, key: Key) -> dict:
    body = {"product_image": PHOTO, "style": "studio_packshot"}
    answer = client.post("/v1/generate", json=body, headers=key.headers)
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def record_completed(
    settings: Settings, key: Key, seconds: float, count: int, engine: str = "classical", pixels: int | None = None
) -> None:
    """Completed jobs as the worker leaves them: the engine, ``meta.duration_ms`` and the photo's pixels."""
    db = connect(settings.app_db)
    result = msgspec.json.encode({"images": [], "meta": {"duration_ms": seconds * 1000}}).decode()
    start = db.conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    with db.conn:
        for i in range(start, start + count):
            db.conn.execute(
                "INSERT INTO jobs (id, key_id, state, style, aspect_ratio, options, input_file, created_at, "
                "updated_at, completed_at, estimated_seconds, result, engine, seq, input_pixels) VALUES (?, ?, "
                "'completed', 'studio_packshot', '1:1', '{}', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', "
                "?, 1, ?, ?, ?, ?)",
                (f"gen_done{i}", key.id, f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z", result, engine, -1 - i, pixels),
            )
    db.conn.close()


def worker_alive(settings: Settings, worker_id: str = "wrk_eta") -> None:
    db = connect(settings.app_db)
    workers_sql.record_heartbeat(db, worker_id, time.time(), [])
    db.conn.close()


def test_job_times_are_recent_means_per_engine_without_outliers() -> None:
    samples = [("classical", 1.0, None)] * 5 + [("classical", 30.0, None)]
    samples += [("procedural", 2.0, None), ("procedural", 4.0, None)]
    times = JobTimes(samples)
    assert times.seconds("classical") == pytest.approx(1.0)  # the 30 s stall is left out
    assert times.seconds("procedural") == pytest.approx(3.0)
    assert times.seconds("diffusion:sdxl") == prior_seconds("diffusion:sdxl")  # nothing measured yet


def snapshot(running: list[Pending], queued: list[Pending], slots: int, now: float) -> Snapshot:
    queues: dict[str, list[Pending]] = {}
    for job in queued:
        queues.setdefault(job.key_id, []).append(job)
    keys = {k: Waiting(k, 1.0, 0.0, q[0].seq) for k, q in queues.items()}
    return Snapshot(
        taken=time.monotonic(),
        now=now,
        changes=0,
        queues=queues,
        keys=keys,
        clock=0.0,
        running=running,
        slots=slots,
        times=JobTimes([("classical", 2.0, None)]),
        engine_of_style=lambda style: "classical",
    )


def pending(job_id: str, key_id: str, seq: int, claimed_at: float | None = None) -> Pending:
    return Pending(job_id, key_id, "studio_packshot", None, "normal", seq, claimed_at)


def test_the_plan_is_the_fair_order_on_the_free_slots() -> None:
    now = 1000.0
    running = [pending("r", "A", 0, claimed_at=now - 0.5)]
    queued = [pending("a1", "A", 1), pending("a2", "A", 2), pending("b1", "B", 3)]
    one = snapshot(running, queued, slots=1, now=now).done_at()
    # one slot: r ends at +1.5; then the fair order a1, b1, a2 (B's only job does not wait behind A's)
    assert one == pytest.approx({"r": now + 1.5, "a1": now + 3.5, "b1": now + 5.5, "a2": now + 7.5})
    two = snapshot(running, queued, slots=2, now=now).done_at()
    assert two == pytest.approx({"r": now + 1.5, "a1": now + 2.0, "b1": now + 3.5, "a2": now + 4.0})


def test_a_burst_is_told_measured_times_in_queue_order(client: TestClient, key: Key, settings: Settings) -> None:
    record_completed(settings, key, seconds=3.0, count=10)
    worker_alive(settings)
    estimates = [submit(client, key)["estimated_seconds"] for _ in range(4)]
    assert estimates == [3, 6, 9, 12]
    late = make_key(settings, name="late")
    assert submit(client, late)["estimated_seconds"] == 6  # after the first job, not after the burst


def test_eta_seconds_is_live_and_absent_without_a_worker(client: TestClient, key: Key, settings: Settings) -> None:
    record_completed(settings, key, seconds=3.0, count=10)
    first, second = submit(client, key)["id"], submit(client, key)["id"]
    assert "eta_seconds" not in client.get(f"/v1/generate/{second}", headers=key.headers).json()  # no worker alive
    worker_alive(settings)
    time.sleep(0.15)  # past the refresh a job unknown to the snapshot may trigger
    shown = client.get(f"/v1/generate/{second}", headers=key.headers).json()
    assert 0 < shown["eta_seconds"] <= 6.0 and shown["estimated_seconds"] == 6
    assert client.get(f"/v1/generate/{first}", headers=key.headers).json()["eta_seconds"] <= 3.0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["high", "normal", "low"]), st.integers(0, 50)), max_size=40),
    st.integers(0, 3),
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([0.5, 1.0, 2.0]), st.sampled_from([0.0, 1.0, 3.5])), max_size=4
    ),
)
def test_a_plan_extended_by_each_submission_is_the_plan_made_again(
    submissions: list[tuple[int, str, int]], slots: int, tags: list[tuple[int, float, float]]
) -> None:
    """Submissions served after every planned job extend the plan (``Snapshot.add``); the others plan it again.
    Either way each job's done time is what a plan of the whole queue gives."""
    queued = [pending(f"gen_q{i}", f"key{i % 2}", i) for i in range(6)]
    extended = snapshot([pending("gen_run", "key0", -1, claimed_at=995.0)], queued, slots, now=1_000.0)
    for key, weight, finish in tags:  # keys already waiting, with their own weight and virtual finish tag
        if f"key{key}" in extended.keys:
            extended.keys[f"key{key}"] = Waiting(f"key{key}", weight, finish, extended.keys[f"key{key}"].oldest_seq)
    extended.clock = 1.0
    extended.done_at()
    for i, (key, priority, seq) in enumerate(submissions):
        job = Pending(f"gen_new{i}", f"key{key}", "studio_packshot", None, priority, 2**62 if seq else 100 + i)
        extended.add(job, lambda k=f"key{key}", s=job.seq: Waiting(k, 1.0, 0.0, s))
        again = Snapshot(**{**vars(extended), "_done_at": None})
        again.queues = {k: list(q) for k, q in extended.queues.items()}
        assert extended.done_at() == pytest.approx(again.done_at())


def test_a_burst_from_one_key_is_planned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    plans = []
    tagged_order = fair.tagged_order
    monkeypatch.setattr(fair, "tagged_order", lambda *args: plans.append(1) or tagged_order(*args))
    burst = snapshot([], [pending("gen_a0", "a", 1), pending("gen_b0", "b", 2)], 1, now=1_000.0)
    for i in range(1, 30):
        burst.add(pending(f"gen_a{i}", "a", 2**62), lambda: Waiting("a", 1.0, 0.0, 1))
        assert burst.done_at()[f"gen_a{i}"] == pytest.approx(1_000.0 + 2.0 * (i + 2))  # after b's one job
    assert len(plans) == 1


def test_a_costly_read_of_the_queue_is_not_repeated_sooner_than_its_cost_allows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed queue is read again at most every (read's CPU time / READ_SHARE) seconds, and at MAX_AGE whatever
    (tail6: with ~3,000 queued jobs the re-reads took 7.4 % of the event loop); a cheap read as before."""
    from paqshot_server.jobs import eta as eta_mod
    from paqshot_server.resources import Resources

    eta = eta_mod.Eta(Resources(settings))
    reads: list[float] = []
    real = eta._read

    def read(cost: float) -> Snapshot:
        reads.append(cost)
        started = time.thread_time()
        while time.thread_time() - started < cost:  # the loop's own work (CPU), as a long queue's read is
            pass
        return real()

    monkeypatch.setattr(eta, "_read", lambda: read(0.012))  # 12 ms of CPU: spaced >= 0.6 s apart at 2 %
    first = eta._current()
    worker_alive(settings)  # another connection writes: the snapshot is out of date
    first.taken -= 0.4  # older than MIN_AGE, younger than the read's spacing
    assert eta._current() is first and len(reads) == 1
    first.taken -= 0.65  # 1.05 s: older than MAX_AGE, which holds whatever the read cost
    assert eta._current() is not first and len(reads) == 2
    monkeypatch.setattr(eta, "_read", lambda: read(0.0))
    eta._snapshot = None
    cheap = eta._current()
    worker_alive(settings, "wrk_eta2")  # a worker comes (a heartbeat alone is not a change to the queue)
    cheap.taken -= max(eta_mod.MIN_AGE, eta._read_seconds / eta_mod.READ_SHARE) + 0.01
    assert eta._current() is not cheap  # a cheap read (a few ms): again after MIN_AGE once the database changed


def reading_at_every_change(settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ETA set to read the queue again at once for any change it did not make (no spacing, no age limit), with
    ten 3 s jobs of ``key`` recorded and a live worker: each estimate is 3 s more than the last."""
    record_completed(settings, key, seconds=3.0, count=10)
    worker_alive(settings)
    monkeypatch.setattr(eta_mod, "MIN_AGE", 0.0)
    monkeypatch.setattr(eta_mod, "READ_SHARE", 1e9)  # no spacing: a change counted reads the queue again at once
    monkeypatch.setattr(eta_mod, "MAX_AGE", 3600.0)


def counting_eta(settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch) -> tuple[eta_mod.Eta, list[int]]:
    """An ``Eta`` of its own (:func:`reading_at_every_change`) and the list its reads of the queue append to."""
    from paqshot_server.resources import Resources

    reading_at_every_change(settings, key, monkeypatch)
    eta = eta_mod.Eta(Resources(settings))
    reads: list[int] = []
    real = eta._read
    monkeypatch.setattr(eta, "_read", lambda: reads.append(1) or real())
    return eta, reads


def submitted(new: NewJob) -> Pending:
    """What the door hands the ETA for ``new`` before its insert (normal priority, no photo size)."""
    return Pending(new.id, new.key_id, new.style, None, "normal", 2**62, None, None)


def test_a_door_reads_the_queue_again_for_others_changes_not_for_its_own_submissions(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """api8: in a busy door this process's own group commits (on other threads' connections: they change the event
    loop connection's ``data_version``) made the ETA read the whole queue again on the loop every MIN_AGE, although
    its own submissions were in the snapshot already. Now only another writer's change does (a worker's claim)."""
    reading_at_every_change(settings, key, monkeypatch)
    reads: list[int] = []
    real = eta_mod.Eta._read
    monkeypatch.setattr(eta_mod.Eta, "_read", lambda self: reads.append(1) or real(self))
    estimates = [submit(client, key)["estimated_seconds"] for _ in range(5)]
    assert estimates == [3, 6, 9, 12, 15]
    assert len(reads) == 1  # the first submission's; before, one more for each of the next four
    other = connect(settings.app_db)  # a worker's connection
    claimed = jobs_sql.claim_next(other, "wrk_eta", time.time(), 60.0)
    other.conn.close()
    assert claimed is not None
    assert submit(client, key)["estimated_seconds"] == 18
    assert len(reads) == 2  # the claim is another writer's change: the queue is read again


def test_submissions_in_flight_when_the_queue_is_read_are_carried_into_the_snapshot(
    settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy door always has submissions estimated but not yet committed when it reads the queue: their commits
    came after the read, counted as changes the snapshot did not have, and the queue was read again at every spacing
    (api9's probe: a read every 0.25 s at 16 clients, as before the change count). They are put into the snapshot
    as they will be queued, and their counts stepped over."""
    eta, reads = counting_eta(settings, key, monkeypatch)
    db = connect(settings.app_db)
    jobs = [queued_job(key.id) for _ in range(4)]

    def commit(new: NewJob) -> None:
        jobs_sql.create(db, new, quota=None, idempotency=None, counting=eta.counting, counted=eta.counted)

    assert eta.admit(submitted(jobs[0])) == 3
    assert eta.admit(submitted(jobs[1])) == 6
    commit(jobs[0])
    assert eta._snapshot is not None
    eta._snapshot.taken -= 7200  # past its age: the next submission reads the queue, jobs[1] not committed yet
    assert eta.admit(submitted(jobs[2])) == 9 and len(reads) == 2  # jobs[1] in the plan though not in the read
    commit(jobs[1])
    commit(jobs[2])
    assert eta.admit(submitted(jobs[3])) == 12
    assert len(reads) == 2  # before: read again, jobs[1]'s commit was a change the snapshot did not have
    eta.forget(jobs[3].id)  # not queued after all: never carried into a later snapshot
    assert eta.admit(submitted(queued_job(key.id))) == 12 and len(reads) == 3
    db.conn.close()


def test_a_door_steps_over_its_own_commit_seen_before_the_committing_thread_reports_it(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """api9's probe, session 9: a busy door still read the whole queue every ~0.3 s, because the event loop saw a
    group's commit (the count past it) before the thread that committed it got the GIL back to report it
    (``Eta.counted``), so the count was not yet its own. Here every report comes late (after the next submission):
    the counts recorded inside the transaction (``Eta.counting``) are enough."""
    reading_at_every_change(settings, key, monkeypatch)
    reads: list[int] = []
    real_read, real_counted = eta_mod.Eta._read, eta_mod.Eta.counted
    monkeypatch.setattr(eta_mod.Eta, "_read", lambda self: reads.append(1) or real_read(self))
    late: list[tuple[eta_mod.Eta, str, int, int]] = []
    monkeypatch.setattr(eta_mod.Eta, "counted", lambda self, *report: late.append((self, *report)))
    assert [submit(client, key)["estimated_seconds"] for _ in range(4)] == [3, 6, 9, 12]
    assert len(late) == 4  # every commit reported only now
    assert len(reads) == 1  # before: 4, one for each commit the loop saw before its report
    for eta, *report in late:
        real_counted(eta, *report)
    other = connect(settings.app_db)  # a worker's claim: another writer's change, read again
    assert jobs_sql.claim_next(other, "wrk_eta", time.time(), 60.0) is not None
    other.conn.close()
    assert submit(client, key)["estimated_seconds"] == 15
    assert len(reads) == 2


def test_a_submission_whose_transaction_did_not_commit_leaves_no_count_to_step_over(
    settings: Settings, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counts are recorded before the commit: a transaction that then fails never made them, and another
    writer's change that brings the count to the same number must still read the queue again."""
    eta, reads = counting_eta(settings, key, monkeypatch)
    db = connect(settings.app_db)
    failed, other = queued_job(key.id), queued_job(key.id)

    def counting_then_failing(job_id: str, before: int, after: int) -> None:
        eta.counting(job_id, before, after)
        raise OSError("the disk went away after the insert")

    assert eta.admit(submitted(failed)) == 3 and len(reads) == 1
    with pytest.raises(OSError):
        jobs_sql.create(db, failed, quota=None, idempotency=None, counting=counting_then_failing, counted=eta.counted)
    eta.forget(failed.id)  # what the service does when the insert fails
    assert eta.admit(submitted(queued_job(key.id))) == 3 and len(reads) == 2  # the count as before the failed insert
    jobs_sql.create(connect(settings.app_db), other, quota=None, idempotency=None)  # another process: the same count
    assert eta.admit(submitted(queued_job(key.id))) == 9 and len(reads) == 3
    db.conn.close()


def test_job_times_grow_with_the_photo_along_the_fitted_line() -> None:
    """breaker6 F6: a 40 MP photo was told the engine's mean (~2 s) and took 6–7 s; small photos were told the same."""
    samples = [("onnx:u2netp", 1.0 + 0.15 * mp, int(mp * 1e6)) for mp in (1, 12, 40, 1, 12, 40, 1, 1)]
    times = JobTimes(samples)
    assert times.line("onnx:u2netp") == pytest.approx((1.0, 0.15))
    assert times.seconds("onnx:u2netp", 40_000_000) == pytest.approx(7.0)
    assert times.seconds("onnx:u2netp", 1_000_000) == pytest.approx(1.15)
    big, small = times.seconds("onnx:u2netp", 24_000_000), times.seconds("onnx:u2netp", 2_000_000)
    assert big - small == pytest.approx(0.15 * 22)  # in proportion to the slope, not the same for every size


def test_a_stall_is_left_out_of_the_fit_but_a_big_photo_is_not() -> None:
    small = [("classical", 0.5, 1_000_000)] * 6
    big = [("classical", 4.0, 40_000_000)] * 2  # 8 times the small jobs' time: its size, not a stall
    stall = [("classical", 30.0, 1_000_000)]
    times = JobTimes(stall + small + big)
    assert times.seconds("classical", 1_000_000) == pytest.approx(0.5, abs=0.01)
    assert times.seconds("classical", 40_000_000) == pytest.approx(4.0, abs=0.01)


@pytest.mark.parametrize("megapixels", [1.0, 12.0])
def test_without_a_slope_to_see_the_prior_shape_is_scaled_to_the_measured_jobs(megapixels: float) -> None:
    pixels = int(megapixels * 1e6)
    times = JobTimes([("classical", 2.0, pixels)] * 3 + [("classical", 2.2, pixels)])  # all one size
    assert times.seconds("classical", pixels) == pytest.approx(2.05)  # the measured mean at their size
    assert times.seconds("classical", 40_000_000) / times.seconds("classical", pixels) == pytest.approx(
        shape(40) / shape(megapixels)
    )
    tiny = JobTimes([("classical", 1.0, 7_000), ("classical", 1.1, 30_000)] * 3)  # 4x apart, 0.02 MP: noise
    assert tiny.seconds("classical", 40_000_000) == pytest.approx(1.05 * shape(40) / shape(0.0185), rel=0.01)


def test_jobs_of_unknown_size_are_the_mean_and_nothing_measured_is_the_prior_along_the_shape() -> None:
    times = JobTimes([("classical", 3.0, None)] * 4)
    assert times.seconds("classical", 40_000_000) == times.seconds("classical", 100_000) == pytest.approx(3.0)
    mixed = JobTimes([("classical", 3.0, None)] * 4 + [("classical", 1.0, 2_000_000)])
    assert mixed.seconds("classical", 2_000_000) == pytest.approx(1.0)  # the job of known size rules
    assert JobTimes([]).seconds("classical", 40_000_000) == pytest.approx(prior_seconds("classical") * shape(40))


def test_a_queue_is_planned_with_each_jobs_own_size() -> None:
    now = 1_000.0
    plan = snapshot([], [], slots=1, now=now)
    plan.times = JobTimes([("classical", 1.0 + 0.1 * mp, int(mp * 1e6)) for mp in (1, 40, 1, 40)])
    jobs = [
        Pending(f"gen_{i}", "A", "studio_packshot", None, "normal", i, None, px)
        for i, px in enumerate([1_000_000, 40_000_000, 1_000_000])
    ]
    plan.queues = {"A": jobs}
    plan.keys = {"A": Waiting("A", 1.0, 0.0, 0)}
    assert plan.done_at() == pytest.approx({"gen_0": now + 1.1, "gen_1": now + 6.1, "gen_2": now + 7.2})


def test_a_big_photo_is_told_more_than_a_small_one_at_the_door(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """Through the API: the door reads the photo's size and the estimate follows the line fitted to the recorded
    jobs, for the job itself and for the jobs ahead of it."""
    record_completed(settings, key, seconds=1.0, count=4, pixels=1_000_000)
    record_completed(settings, key, seconds=9.0, count=4, pixels=41_000_000)  # a line of 0.8 s + 0.2 s per MP
    worker_alive(settings)
    told = {}
    # The small photo first: its request is quick, so the big one's estimate (whole seconds from the same plan) is
    # not shifted by a slow request before it on a loaded machine.
    for photo, pixels in ((PHOTO, 96 * 72), (b64(product_jpeg((4000, 3000))), 12_000_000)):
        answer = client.post(
            "/v1/generate", json={"product_image": photo, "style": "studio_packshot"}, headers=key.headers
        )
        assert answer.status_code == 202, answer.text
        db = connect(settings.app_db)
        job = jobs_sql.get(db, answer.json()["id"])
        db.conn.close()
        assert job is not None and job.input_pixels == pixels
        told[pixels] = answer.json()["estimated_seconds"]
    # 0.8 s for the small photo, then 0.8 + 3.2 s for the 12 MP one behind it; the mean (5 s each) told 5 and 10
    assert told == {96 * 72: 1, 12_000_000: 4}


def test_a_worker_records_the_photos_size_and_the_next_estimate_follows_the_recorded_jobs(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """Through a real runner: each completed job leaves its photo's pixels beside its time, and the door's next
    estimate is the line fitted to them (no assumption about how long a job takes on this machine)."""
    worker_alive(settings)
    ctx = WorkerContext(settings, worker_id="wrk_eta")
    for size in ((96, 72), (1600, 1200)):
        body = {"product_image": b64(product_jpeg(size)), "style": "studio_packshot"}
        job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
        assert process(ctx, job_id) == "completed"
    recorded = jobs_sql.recent_durations(ctx.db.get(), 10)
    assert [pixels for _, _, pixels in recorded] == [1600 * 1200, 96 * 72]
    time.sleep(MAX_AGE + 0.1)  # the ETA's snapshot is read again
    body = {"product_image": b64(product_jpeg((4000, 3000))), "style": "studio_packshot"}
    estimate = client.post("/v1/generate", json=body, headers=key.headers).json()["estimated_seconds"]
    expected = JobTimes(recorded).seconds(recorded[0][0], 12_000_000)
    assert estimate in {max(1, math.floor(expected)), max(1, math.ceil(expected))}


@pytest.mark.parametrize(
    ("planned", "told"), [(0.2, 1), (1.3, 1), (1.4, 2), (1.9, 2), (2.35, 2), (2.45, 3), (10.4, 10), (10.5, 11)]
)
def test_an_estimate_is_the_whole_second_nearest_in_relative_error(planned: float, told: int) -> None:
    assert whole_seconds(planned) == told


@given(st.floats(1.0, 1000.0))
def test_no_other_whole_second_is_relatively_nearer(planned: float) -> None:
    told = whole_seconds(planned)
    assert all(abs(planned / told - 1) <= abs(planned / other - 1) + 1e-12 for other in (told - 1, told + 1) if other)


def test_a_burst_of_short_jobs_is_told_the_relatively_nearest_seconds(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0.7 s jobs, the ETA's clock held still (no time passes between the submissions): planned 0.7, 1.4, 2.1 and
    2.8 s, told 1, 2, 2, 3 (rounding to the nearest told the second 1, and a job done at 1.5-2.1 s was then outside
    ±50 % of its estimate)."""
    record_completed(settings, key, seconds=0.7, count=10)
    worker_alive(settings)
    now = time.time()
    clock = SimpleNamespace(time=lambda: now, monotonic=time.monotonic, thread_time=time.thread_time)
    monkeypatch.setattr(eta_mod, "time", clock)
    assert [submit(client, key)["estimated_seconds"] for _ in range(4)] == [1, 2, 2, 3]


def test_a_job_is_timed_for_the_eta_until_its_files_are_stored(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's slots free when a job's files are stored, not when its render ends: the job time the ETA reads
    holds a slow store (each file's fsyncs)."""
    worker_alive(settings)
    ctx = WorkerContext(settings, worker_id="wrk_eta")
    put = ctx.files.put

    def slow_put(name: str, data: bytes) -> Path:
        time.sleep(0.05)
        return put(name, data)

    monkeypatch.setattr(ctx.files, "put", slow_put)
    job_id = submit(client, key)["id"]
    try:
        assert process(ctx, job_id) == "completed"
        job = jobs_sql.get(ctx.db.get(), job_id)
        assert job is not None and job.result is not None
        render = job.result.meta["duration_ms"] / 1000
        ((_, seconds, _),) = jobs_sql.recent_durations(ctx.db.get(), 10)
    finally:
        ctx.db.close()
    assert seconds >= render + 2 * 0.05  # the image and its thumbnail, each put after the render
