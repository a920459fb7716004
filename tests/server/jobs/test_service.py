"""The jobs service runs without HTTP: a script or the CLI submits and cancels through it as the API does."""

from __future__ import annotations

import logging

import anyio
import pytest
from paqshot_server.api.request_bodies import GenerateRequest
from paqshot_server.errors import Forbidden, NotFound
from paqshot_server.jobs.queue import JobQueue
from paqshot_server.jobs.ratelimit import RateLimiter
from paqshot_server.jobs.service import JobService
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage import keys as keys_sql
from paqshot_server.storage.fair import Pending
from paqshot_server.storage.keys import ApiKey
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
