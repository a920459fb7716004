"""The jobs service runs without HTTP: a script or the CLI submits and cancels through it as the API does."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
import numpy as np
import pytest
from paqshot_server.api.request_bodies import GenerateRequest
from paqshot_server.errors import Forbidden, NotFound, UnsupportedImage
from paqshot_server.jobs import intake, trip
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.ratelimit import RateLimiter
from paqshot_server.jobs.service import JobService
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage import keys as keys_sql
from paqshot_server.storage.fair import Pending
from paqshot_server.storage.keys import ApiKey
from PIL import Image
from support import b64, make_key, product_jpeg


def service_for(settings: Settings, queue: JobQueue | None = None) -> tuple[JobService, Resources]:
    settings.home.mkdir(parents=True, exist_ok=True)
    res = Resources(settings)
    return JobService(res, queue or JobQueue(str(settings.queue_db)), RateLimiter()), res


def stored_key(res: Resources, key_id: str) -> ApiKey:
    key = keys_sql.get(res.db.get(), key_id)
    assert key is not None
    return key


def request(**fields: object) -> GenerateRequest:
    return GenerateRequest(product_image=b64(product_jpeg()), style="studio_packshot", **fields)  # type: ignore[arg-type]


def test_submit_and_cancel_without_http(settings: Settings) -> None:
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    submitted = anyio.run(lambda: service.submit(key, request(background="black")))
    job = submitted.job
    assert not submitted.replayed and submitted.rate is not None and submitted.rate.remaining == 59
    assert job.state == "queued" and job.options["background"] == "black" and res.files.exists(job.input_file)
    assert service.queue.queued_ids() == {job.id}
    cancelled = service.cancel(key, job.id)
    assert cancelled.state == "failed" and cancelled.error_code == "cancelled"


def test_an_idempotent_replay_returns_the_first_job(settings: Settings) -> None:
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    first = anyio.run(lambda: service.submit(key, request(), idempotency_key="k1"))
    again = anyio.run(lambda: service.submit(key, request(), idempotency_key="k1"))
    assert again.replayed and again.job.id == first.job.id and again.rate is None
    assert len(list(settings.files_dir.rglob("*_input.*"))) == 1


def test_refusals_are_domain_errors(settings: Settings) -> None:
    service, res = service_for(settings)
    scenes_only = stored_key(res, make_key(settings, name="scenes", styles=["lifestyle"]).id)
    with pytest.raises(Forbidden, match="not enabled"):
        anyio.run(lambda: service.submit(scenes_only, request()))
    other = stored_key(res, make_key(settings, name="other").id)
    mine = stored_key(res, make_key(settings, name="mine").id)
    job = anyio.run(lambda: service.submit(mine, request())).job
    with pytest.raises(NotFound):
        service.cancel(other, job.id)
    assert jobs_sql.get(res.db.get(), job.id).state == "queued"  # type: ignore[union-attr]


def test_an_estimate_that_cannot_be_made_is_logged_not_hidden(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    service, res = service_for(settings)
    res.db.get().conn.execute("DROP TABLE fair_clock")  # the queue's state cannot be read
    job = Pending("gen_x", "key_x", "studio_packshot", None, "normal", 1)
    with caplog.at_level(logging.WARNING, logger="paqshot_server.jobs.service"):
        assert service.estimate(job) == 60
    assert "no estimate for gen_x" in caplog.text and "Traceback" in caplog.text


# A submission's blocking work (photo, mask hint, background image, row, queue) is one trip to a thread: each trip
# and back costs a request its wait for a free thread, the GIL and the event loop, which at 16 concurrent
# submissions set the tail (docs/progress/issue-14.md, "Door tail, session 5"). What the trips did stays.


def hint_png(size: tuple[int, int]) -> str:
    out = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0]), 128, np.uint8)).save(out, "PNG")
    return b64(out.getvalue())


class Trips:
    """Counts trips to a thread (anyio's and the submissions' own, ``jobs.trip``) and hand-offs to the intake's
    writer pool."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.to_thread = 0
        self.writer = 0
        real_run_sync, real_submit = anyio.to_thread.run_sync, intake._WRITER.submit
        real_run_in_thread = trip.run_in_thread

        async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            self.to_thread += 1
            return await real_run_sync(func, *args, **kwargs)

        async def run_in_thread(func: Callable[..., Any], *args: Any) -> Any:
            self.to_thread += 1
            return await real_run_in_thread(func, *args)

        monkeypatch.setattr(trip, "run_in_thread", run_in_thread)

        def submit(fn: Callable[..., Any], *args: Any) -> Any:
            self.writer += 1
            return real_submit(fn, *args)

        monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
        monkeypatch.setattr(intake._WRITER, "submit", submit)


def test_a_submission_with_hint_and_background_makes_one_trip_to_a_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    trips = Trips(monkeypatch)
    both = request(mask_hint=hint_png((640, 480)), background_image=b64(product_jpeg((800, 600))))
    job = anyio.run(lambda: service.submit(key, both)).job
    # before: trips for the photo, the hint, the background and the row, and the photo and background each handed
    # on to a writer thread: (4, 2)
    assert (trips.to_thread, trips.writer) == (1, 0)
    assert job.hint_file and job.background_file
    for name in (job.input_file, job.hint_file, job.background_file):
        assert res.files.exists(name)
    assert service.queue.queued_ids() == {job.id}


def test_a_refused_background_in_the_same_trip_keeps_none_of_the_submissions_files(settings: Settings) -> None:
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    broken = product_jpeg((800, 600))[:-600]  # its headers pass; its data ends early
    refused = request(mask_hint=hint_png((640, 480)), background_image=b64(broken))
    with pytest.raises(UnsupportedImage, match=r"^background_image: "):
        anyio.run(lambda: service.submit(key, refused))
    assert [p for p in settings.files_dir.rglob("*") if p.is_file()] == []  # the photo and hint stored first: gone
    assert service.queue.queued_ids() == set()


def test_a_rerun_stores_its_photo_and_row_in_one_trip_after_reading_the_source(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, res = service_for(settings)
    key = stored_key(res, make_key(settings).id)
    source = anyio.run(lambda: service.submit(key, request())).job
    trips = Trips(monkeypatch)
    rerun = anyio.run(lambda: service.rerun(key, source.id, {"background": "black"})).job
    assert trips.to_thread == 3  # the source's row, its photo, then one trip for the new photo and row (before: 4)
    assert res.files.read(rerun.input_file) == res.files.read(source.input_file)
    assert rerun.options["background"] == "black" and rerun.rerun_of == source.id
