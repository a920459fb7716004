"""Webhook receivers that misbehave (hang, drip, giant body, reset, 410, 429, redirect, bad URL): every attempt
ends within its deadline, reads a bounded body, is logged with a reason, and follows the schedule."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from paqshot_server.jobs.delivery import RETRY_SCHEDULE, judge
from paqshot_server.jobs.dispatcher import Dispatcher, dispatch_due
from paqshot_server.net.post import MAX_RETRY_AFTER, PostOutcome, parse_retry_after
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from paqshot_server.storage import webhooks as webhooks_sql
from support import Key
from webhook_support import HostileReceiver, ended_job_with_webhook

DEADLINE = 2.0


@pytest.fixture
def hostile() -> Iterator[HostileReceiver]:
    receiver = HostileReceiver(hang=30.0)
    yield receiver
    receiver.close()


def short(settings: Settings, **limits: object) -> Settings:
    """``settings`` with the short deadline of these tests (and any other dispatcher limits given)."""
    return replace(settings, webhook_timeout_seconds=DEADLINE, **limits)


def attempt_once(settings: Settings, event_id: str) -> tuple[dict, float]:
    """Deliver what is due with a short deadline; returns the event (with its log) and the wall time taken."""
    started = time.monotonic()
    dispatch_due(Resources(short(settings)))
    elapsed = time.monotonic() - started
    event = webhooks_sql.get_event(Resources(settings).db.get(), event_id)
    assert event is not None
    return event, elapsed


@pytest.mark.parametrize("path", ["/hang", "/drip-head", "/drip-body/500"])
def test_hanging_and_dripping_receivers_are_cut_at_the_deadline(
    settings: Settings, key: Key, hostile: HostileReceiver, path: str
) -> None:
    event_id = ended_job_with_webhook(settings, key.id, hostile.url + path)
    event, elapsed = attempt_once(settings, event_id)
    assert elapsed < DEADLINE + 1.5, elapsed  # one deadline for connect + send + status + body
    (attempt,) = event["attempt_log"]
    assert event["state"] == "pending" and event["next_attempt_at"] > time.time()  # retried later
    if path == "/drip-body/500":  # the status arrived; the body was cut at the deadline
        assert attempt["status_code"] == 500 and attempt["latency_ms"] < (DEADLINE + 1) * 1000
        assert attempt["response_excerpt"] and set(attempt["response_excerpt"]) == {"x"}
    else:
        assert attempt["status_code"] is None and "deadline" in attempt["error"]


def test_case_webhook_slow_drip_unbounded(settings: Settings, key: Key, hostile: HostileReceiver) -> None:
    """A receiver that drips its answer one byte at a time holds an attempt no longer than the deadline."""
    event_id = ended_job_with_webhook(settings, key.id, hostile.url + "/drip-body/503")
    event, elapsed = attempt_once(settings, event_id)
    assert elapsed < DEADLINE + 1.5, elapsed
    assert event["attempt_log"][0]["latency_ms"] < (DEADLINE + 1) * 1000


def test_a_2xx_that_drips_its_body_is_delivered_without_reading_it(
    settings: Settings, key: Key, hostile: HostileReceiver
) -> None:
    event_id = ended_job_with_webhook(settings, key.id, hostile.url + "/drip-body/200")
    event, elapsed = attempt_once(settings, event_id)
    assert event["state"] == "delivered" and elapsed < 1.5


def test_case_webhook_giant_response_memory(settings: Settings, key: Key, hostile: HostileReceiver) -> None:
    event_id = ended_job_with_webhook(settings, key.id, hostile.url + "/giant/500")
    event, _ = attempt_once(settings, event_id)
    (attempt,) = event["attempt_log"]
    assert attempt["status_code"] == 500 and len(attempt["response_excerpt"]) <= 200
    time.sleep(0.2)
    # The receiver could push a few socket buffers before noticing the hang-up, never the 200 MB.
    assert hostile.giant_sent < 16 * 1024 * 1024, hostile.giant_sent


def test_reset_is_logged_and_retried(settings: Settings, key: Key, hostile: HostileReceiver) -> None:
    event_id = ended_job_with_webhook(settings, key.id, hostile.url + "/reset")
    event, _ = attempt_once(settings, event_id)
    (attempt,) = event["attempt_log"]
    assert attempt["status_code"] is None and attempt["error"]
    assert event["state"] == "pending"


def test_410_stops_with_the_reason(settings: Settings, key: Key, hostile: HostileReceiver) -> None:
    event_id = ended_job_with_webhook(settings, key.id, hostile.url + "/status/410")
    event, _ = attempt_once(settings, event_id)
    assert event["state"] == "stopped" and "410" in event["last_error"]
    assert event["attempt_log"][0]["response_excerpt"] == "receiver says: status"


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("120", 119, 150),  # delay-seconds
        ("999999999999", MAX_RETRY_AFTER - 1, MAX_RETRY_AFTER + 10000),  # capped at a day
        ("inf", 4, 6),  # not a number RFC 9110 allows: the schedule's 5 s stands
        ("1e9", 4, 6),
        ("date+7200", 7100, 7400),  # HTTP-date form
        ("date+864000", MAX_RETRY_AFTER - 100, MAX_RETRY_AFTER + 10000),
    ],
)
def test_429_retry_after_both_forms_capped(
    settings: Settings, key: Key, hostile: HostileReceiver, value: str, low: float, high: float
) -> None:
    if value.startswith("date+"):
        when = datetime.now(UTC) + timedelta(seconds=int(value[5:]))
        value = format_datetime(when, usegmt=True).replace(" ", "%20").replace(",", "%2C")
    event_id = ended_job_with_webhook(settings, key.id, f"{hostile.url}/status/429?retry_after={value}")
    event, _ = attempt_once(settings, event_id)
    assert event["state"] == "pending"
    wait = event["next_attempt_at"] - time.time()
    assert low <= wait <= high, wait


def test_case_webhook_retry_after_unbounded() -> None:
    """The parser itself: both RFC 9110 forms, capped; junk ignored."""
    now = 1_800_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 90, UTC), usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(90)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0  # in the past: now
    for junk in ("inf", "nan", "-5", "1e9", "soon", "", None, "Wed, 21 Oct 2015 07:28:00", "120.5"):
        assert parse_retry_after(junk, now) is None, junk
    # RFC 9110 §5.6.7's obsolete forms are accepted (asctime has no zone: it is GMT); any run of digits is a
    # delay (a huge one is the longest we wait, not junk).
    d = datetime.fromtimestamp(now + 600, UTC)
    asctime = f"{d:%a %b} {d.day:2d} {d:%H:%M:%S %Y}"
    assert parse_retry_after(asctime, now) == pytest.approx(600, abs=1), asctime
    assert parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now) == 0.0  # rfc850, in the past
    assert parse_retry_after("9" * 30, now) == MAX_RETRY_AFTER


def _follow(retry_after: float | None, start: float = 1_800_000_000.0) -> tuple[int, float, str]:
    """Attempts against a receiver that always answers 503 (with ``retry_after``), each made when it is due: how
    many, the time from the first to the last, and the final verdict's error."""
    outcome = PostOutcome(status_code=503, latency_ms=5.0, error=None, retry_after=retry_after)
    now, attempt = start, 1
    while (verdict := judge(outcome, attempt, 1.0, now, start)).state == "pending":
        assert verdict.next_attempt_at is not None and verdict.next_attempt_at > now
        now, attempt = verdict.next_attempt_at, attempt + 1
    return attempt, now - start, verdict.error or ""


def test_retry_after_never_keeps_an_event_past_its_retry_schedule() -> None:
    # The case webhook-retry-after-unbounded: "Retry-After: 86400" on every answer kept an event 9 days (10 waits of
    # a day), past its images' 7-day retention; the schedule itself spans ~3.1 days.
    attempts, span, error = _follow(MAX_RETRY_AFTER)
    assert span <= sum(RETRY_SCHEDULE) and "gave up" in error
    assert attempts >= 4  # the waits it asks for are still honoured while the schedule lasts
    attempts, span, _ = _follow(None)  # the schedule as it is, jitter and all: every attempt is made
    assert attempts == len(RETRY_SCHEDULE) and span <= sum(RETRY_SCHEDULE)


@pytest.mark.parametrize("code", [301, 302, 307])
def test_redirects_are_not_followed(settings: Settings, key: Key, hostile: HostileReceiver, code: int) -> None:
    target = hostile.url + "/ok/redirected"
    event_id = ended_job_with_webhook(settings, key.id, f"{hostile.url}/status/{code}?location={target}")
    event, _ = attempt_once(settings, event_id)
    assert not hostile.posts_to("/ok/redirected")
    assert event["state"] == "pending" and "redirects are not followed" in event["last_error"]
    assert target in event["last_error"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/ok/\u00e9\x00", "http://127.0.0.1:9/a b", "http://[::1/x"])
def test_a_url_that_can_never_be_sent_fails_at_once_with_the_reason(settings: Settings, key: Key, url: str) -> None:
    event_id = ended_job_with_webhook(settings, key.id, url)
    event, _ = attempt_once(settings, event_id)
    assert event["state"] == "failed" and "cannot be sent" in event["last_error"]
    assert len(event["attempt_log"]) == 1  # logged, not retried silently
    event, _ = attempt_once(settings, event_id)
    assert len(event["attempt_log"]) == 1


def test_every_attempt_is_logged_and_the_schedule_ends(settings: Settings, key: Key, hostile: HostileReceiver) -> None:
    fast = Settings(**{**settings.__dict__, "webhook_retry_scale": 0.00001})
    event_id = ended_job_with_webhook(fast, key.id, hostile.url + "/status/500")
    db = Resources(fast).db.get()
    deadline = time.monotonic() + 30  # the whole schedule, scaled down, lasts about 3 s
    while (event := webhooks_sql.get_event(db, event_id)) and event["state"] == "pending":
        assert time.monotonic() < deadline, event
        dispatch_due(Resources(short(fast)))
        time.sleep(0.05)
    # The schedule's end is a wall-clock time (here 2.7 s after it began): on a loaded host the time between attempts
    # (this loop's polls, each attempt's round trip) can bring it before the tenth attempt (a fresh clone, session
    # 16: "gave up after 9"). That the tenth is the last when nothing else takes time: the test below.
    assert event is not None and event["state"] == "failed", event
    attempts = len(hostile.posts_to("/status/500"))
    assert 5 <= attempts <= len(RETRY_SCHEDULE) and len(event["attempt_log"]) == attempts
    assert f"gave up after {attempts} attempts" in event["last_error"]


def test_the_schedule_gives_up_at_its_tenth_attempt() -> None:
    """Each attempt made when the previous one's verdict said (jitter included): nine retried, the tenth the last."""
    start = now = 1_000_000.0
    failing = PostOutcome(500, 1.0, None)
    states = []
    for attempt in range(1, len(RETRY_SCHEDULE) + 1):
        verdict = judge(failing, attempt, 1.0, now, start)
        states.append(verdict.state)
        if verdict.next_attempt_at is not None:
            now = verdict.next_attempt_at
    assert states == ["pending"] * (len(RETRY_SCHEDULE) - 1) + ["failed"]
    assert f"gave up after {len(RETRY_SCHEDULE)} attempts" in (verdict.error or "")


def test_two_dispatchers_never_overlap_on_an_event(settings: Settings, key: Key, hostile: HostileReceiver) -> None:
    """Two workers' dispatchers drain the same outbox at once: each event is POSTed once, and logged once."""
    import asyncio

    ids = [ended_job_with_webhook(settings, key.id, f"{hostile.url}/ok/{i}") for i in range(30)]

    async def both() -> None:
        one = Dispatcher(Resources(replace(settings, webhook_per_key=100)), "wrk_one")
        two = Dispatcher(Resources(replace(settings, webhook_per_key=100)), "wrk_two")
        try:
            await asyncio.gather(one.drain(), two.drain())
        finally:
            one.close()
            two.close()

    asyncio.run(both())
    seen = [p["headers"]["webhook-id"] for p in hostile.posts_to("/ok/")]
    assert sorted(seen) == sorted(ids)
    db = Resources(settings).db.get()
    for event_id in ids:
        event = webhooks_sql.get_event(db, event_id)
        assert event is not None and event["state"] == "delivered" and len(event["attempt_log"]) == 1


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/ok/\u00e9\x00", "http://127.0.0.1:9/a b", "http://127.0.0.1:9/\x7f", "http://[::1/x"]
)
def test_case_webhook_nul_url_poison_event_refused_at_submit(client: object, key: Key, url: str) -> None:
    from support import b64, product_jpeg

    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "webhook_url": url}
    response = client.post("/v1/generate", json=body, headers=key.headers)  # type: ignore[attr-defined]
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request" and "webhook_url" in response.json()["message"]


def test_case_webhook_lease_expiry_duplicate_delivery(settings: Settings, key: Key, hostile: HostileReceiver) -> None:
    """No event is leased without its attempt running (so no lease can run out on an event still waiting in a
    batch), and every POST a receiver gets is in the log, also when two dispatchers share the outbox."""
    from paqshot_server.jobs.dispatcher import DispatcherThread

    for _ in range(6):
        ended_job_with_webhook(settings, key.id, hostile.url + "/hang")
    limits = short(settings, webhook_concurrency=2, webhook_per_key=10)
    threads = [DispatcherThread(Dispatcher(Resources(limits), owner, poll=0.1)) for owner in ("wrk_one", "wrk_two")]
    threads[0].start()
    started = time.monotonic()
    while len(hostile.posts_to("/hang")) < 2:
        assert time.monotonic() - started < DEADLINE, "attempts did not start"
        time.sleep(0.02)
    db = Resources(settings).db.get()
    leased = db.conn.execute("SELECT count(*) FROM webhook_events WHERE lease_until IS NOT NULL").fetchone()[0]
    assert leased == 2, f"{leased} events leased while 2 attempts run: the others wait out their lease"
    threads[1].start()
    time.sleep(DEADLINE * 2.5)
    for thread in threads:
        thread.stop(timeout=DEADLINE + 10)
    posted = len(hostile.posts_to("/hang"))
    logged = db.conn.execute("SELECT count(*) FROM webhook_attempts").fetchone()[0]
    assert posted == logged, f"receiver got {posted} POSTs, the log shows {logged}"


def test_an_attempt_whose_worker_is_killed_during_its_post_stays_in_the_log(
    settings: Settings, key: Key, hostile: HostileReceiver
) -> None:
    # breaker8 F6: a worker SIGKILLed while its POST waited for the answer left no attempt in the log; the lease
    # then expired and the event was sent again, so the receiver got two POSTs and the log showed one.
    event_id = ended_job_with_webhook(settings, key.id, hostile.url + "/hang")
    env = {**os.environ, "PAQSHOT_HOME": str(settings.home), "PAQSHOT_ALLOW_PRIVATE_NETWORK": "true"}
    code = (
        "from paqshot_server.jobs.dispatcher import dispatch_due; from paqshot_server.resources import Resources; "
        "from paqshot_server.settings import load_settings; dispatch_due(Resources(load_settings()))"
    )
    worker = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 30
        while not hostile.posts_to("/hang") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hostile.posts_to("/hang"), "the POST never arrived"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    event = webhooks_sql.get_event(Resources(settings).db.get(), event_id)
    assert event is not None
    (attempt,) = event["attempt_log"]
    assert attempt["status_code"] is None and attempt["error"] == webhooks_sql.UNFINISHED
