"""A submission's trip to a thread: handed over in the caller's own turn of the event loop, and never left half
done by a cancellation (docs/progress/issue-14.md, "Door tail, session 6")."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
import pytest
from paqshot_server.api.request_bodies import GenerateRequest
from paqshot_server.jobs import trip
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from PIL import Image
from support import b64, make_key
from test_service import request, service_for, stored_key


class LoopTurns:
    """Counts the turns of the running event loop (a callback that schedules itself runs once per turn)."""

    def __init__(self) -> None:
        self.count = 0
        self._loop = asyncio.get_running_loop()
        self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.count += 1
        self._loop.call_soon(self._tick)


def test_a_submission_hands_its_work_to_a_thread_in_the_same_turn_of_the_loop(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """anyio's ``run_sync`` turned the loop twice (two checkpoints) before handing the work over; at 16 concurrent
    1 MB submissions each turn waits behind every other connection's body, which made the hop 13–25 ms."""
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    anyio_trips: list[Callable[..., Any]] = []
    real_run_sync, real_submit, real_estimate = anyio.to_thread.run_sync, trip._POOL.submit, service.estimate

    async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        anyio_trips.append(func)
        return await real_run_sync(func, *args, **kwargs)

    async def main() -> tuple[int, list[int], str]:
        turns, at_estimate, at_handover = LoopTurns(), [], []

        def estimate(job: Any) -> int:  # the last step on the loop before the trip
            at_estimate.append(turns.count)
            return real_estimate(job)

        def submit(fn: Callable[..., Any], *args: Any) -> Any:
            at_handover.append(turns.count)
            return real_submit(fn, *args)

        monkeypatch.setattr(service, "estimate", estimate)
        monkeypatch.setattr(trip._POOL, "submit", submit)
        job = (await service.submit(key, request())).job
        return at_estimate[0], at_handover, job.id

    monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
    at_estimate, at_handover, job_id = asyncio.run(main())
    assert anyio_trips == []  # before: the photo-and-row trip went through anyio
    assert at_handover == [at_estimate]  # handed over once, with no turn of the loop in between
    assert jobs_sql.get(res.db.get(), job_id) is not None and service.queue.queued_ids() == {job_id}


def test_a_submission_cancelled_during_its_trip_returns_once_its_job_is_whole(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancellation reaches the caller only after the thread's work has ended, so the job it made is whole
    (row, photo, queue message) and nothing runs in the thread after the caller's clean-up. anyio's trip was
    shielded from anyio's own cancel scopes only: cancelled by asyncio (``Task.cancel``, as uvicorn cancels the
    requests still running at shutdown), it returned at once while its thread went on (this test failed there)."""
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    in_put, release = threading.Event(), threading.Event()
    real_put = res.files.put

    def slow_put(name: str, data: bytes) -> Any:
        in_put.set()
        assert release.wait(10)
        return real_put(name, data)

    monkeypatch.setattr(res.files, "put", slow_put)

    async def main() -> None:
        task = asyncio.create_task(service.submit(key, request()))
        while not in_put.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        for _ in range(50):
            await asyncio.sleep(0)
        still_waiting = not task.done()
        task.cancel()  # a second cancellation does not cut the wait short either
        for _ in range(50):
            await asyncio.sleep(0)
        assert still_waiting and not task.done()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    (job_id,) = service.queue.queued_ids()
    job = jobs_sql.get(res.db.get(), job_id)
    assert job is not None and job.state == "queued" and res.files.exists(job.input_file)


def test_a_submission_cancelled_before_a_thread_took_its_work_makes_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    pool, busy, release = ThreadPoolExecutor(max_workers=1), threading.Event(), threading.Event()
    monkeypatch.setattr(trip, "_POOL", pool)
    pool.submit(lambda: (busy.set(), release.wait(10)))
    assert busy.wait(10)

    async def main() -> None:
        task = asyncio.create_task(service.submit(key, request()))
        for _ in range(200):  # until the submission waits for the pool's thread
            await asyncio.sleep(0)
            if pool._work_queue.qsize():
                break
        assert pool._work_queue.qsize() == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert service.queue.queued_ids() == set()
    assert jobs_sql.list_for_key(res.db.get(), key.id, status=None, limit=10).jobs == []
    assert [p for p in settings.files_dir.rglob("*") if p.is_file()] == []


def test_at_most_lanes_submissions_trips_run_at_once(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """16 concurrent submissions' threads each took the GIL back from the event loop at every write, fsync and
    commit; LANES of them at once ran more requests a second at a lower tail (issue-14.md, "Door tail, session 10").
    Before: all 8 here were in their photo's write together."""
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings, rate_limit=100).id)
    real_put, inside, most, cond = res.files.put, [0], [0], threading.Condition()

    def put(name: str, data: bytes) -> Any:
        with cond:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            cond.notify_all()
            cond.wait_for(lambda: inside[0] == 8, timeout=0.3)  # all of them, if they may
        try:
            return real_put(name, data)
        finally:
            with cond:
                inside[0] -= 1

    monkeypatch.setattr(res.files, "put", put)

    async def main() -> list[Any]:
        return await asyncio.gather(*(service.submit(key, request()) for _ in range(8)))

    submitted = asyncio.run(main())
    assert most[0] == 4  # before: 8
    assert trip.LANES == 4
    assert service.queue.queued_ids() == {s.job.id for s in submitted} and len(submitted) == 8


def png_request() -> GenerateRequest:
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo, "PNG")  # no JPEG fast path: a full decode
    return GenerateRequest(product_image=b64(photo.getvalue()), style="studio_packshot")


def test_a_full_decode_gives_its_lane_to_the_submissions_behind_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With few lanes, big photos being decoded (seconds at 40 MP) must not hold them all while a JPEG that needs no
    decode waits: a decode gives its lane up meanwhile (``trip.slow``)."""
    from paqshot_server.jobs import intake

    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    monkeypatch.setattr(trip, "_LANES", trip._Lanes(1))
    in_decode, release = threading.Event(), threading.Event()
    real_normalise = intake.normalise

    def held_normalise(*args: Any) -> Any:
        in_decode.set()
        assert release.wait(10)
        return real_normalise(*args)

    monkeypatch.setattr(intake, "normalise", held_normalise)

    async def main() -> tuple[str, str]:
        png = asyncio.create_task(service.submit(key, png_request()))
        while not in_decode.is_set():
            await asyncio.sleep(0.005)
        jpeg = await asyncio.wait_for(service.submit(key, request()), 10)  # before: waited for the PNG's lane
        assert not png.done()
        release.set()
        return jpeg.job.id, (await png).job.id

    try:
        jpeg_id, png_id = asyncio.run(main())
    finally:
        release.set()
    assert service.queue.queued_ids() == {jpeg_id, png_id}
    assert res.files.exists(f"{png_id}_input.png")


def test_a_submission_cancelled_while_waiting_for_a_lane_makes_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    lanes, busy, release = trip._Lanes(1), threading.Event(), threading.Event()
    monkeypatch.setattr(trip, "_LANES", lanes)
    lanes.submit(lambda: (busy.set(), release.wait(10)))  # the one lane taken
    assert busy.wait(10)

    async def main() -> None:
        task = asyncio.create_task(service.submit(key, request()))
        while not lanes._line:  # until its work waits in line
            await asyncio.sleep(0.002)
        task.cancel()
        while not lanes._line[0][0].cancelled():  # the cancellation has reached its trip
            await asyncio.sleep(0.002)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    finally:
        release.set()
    assert service.queue.queued_ids() == set()
    assert jobs_sql.list_for_key(res.db.get(), key.id, status=None, limit=10).jobs == []
    assert [p for p in settings.files_dir.rglob("*") if p.is_file()] == []
    assert lanes._free == 1  # and the lane was given back
