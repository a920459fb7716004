"""The webhook dispatcher's limits an operator tunes are settings (declared once in ``settings.Settings``):
attempts in flight, in flight per key, and the deadline of one attempt (the lease follows from it)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from paqshot_server.jobs.dispatcher import Dispatcher, DispatcherThread, lease_for
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings, load_settings
from paqshot_server.storage import webhooks as webhooks_sql
from support import make_key
from webhook_support import HostileReceiver, ended_job_with_webhook


def test_defaults_are_the_documented_limits() -> None:
    defaults = Settings()
    assert (defaults.webhook_concurrency, defaults.webhook_per_key, defaults.webhook_timeout_seconds) == (32, 4, 15.0)
    assert lease_for(defaults.webhook_timeout_seconds) == 60.0  # outlasts an attempt and its database time


def test_the_dispatcher_takes_its_limits_from_the_settings(tmp_path: Path) -> None:
    env = {
        "PAQSHOT_HOME": str(tmp_path),
        "PAQSHOT_ALLOW_PRIVATE_NETWORK": "true",  # the receiver listens on loopback
        "PAQSHOT_WEBHOOK_CONCURRENCY": "5",
        "PAQSHOT_WEBHOOK_PER_KEY": "2",
        "PAQSHOT_WEBHOOK_TIMEOUT_SECONDS": "1.5",
    }
    settings = load_settings(env)
    hostile = HostileReceiver(hang=30.0)
    key = make_key(settings)
    dispatcher = Dispatcher(Resources(settings), "wrk_test", poll=0.05)
    thread = DispatcherThread(dispatcher)
    try:
        events = [ended_job_with_webhook(settings, key.id, hostile.url + "/hang") for _ in range(4)]
        started = time.monotonic()
        thread.start()
        while len(hostile.posts_to("/hang")) < 2:
            assert time.monotonic() - started < 10, "the attempts never started"
            time.sleep(0.02)
        time.sleep(0.5)  # a third would have started by now if per_key were not 2
        assert len(hostile.posts_to("/hang")) == 2
        with closing(
            sqlite3.connect(settings.app_db)
        ) as conn:  # the lease of an attempt in flight follows the deadline
            leases = [r[0] for r in conn.execute("SELECT lease_until FROM webhook_events WHERE lease_until > 0")]
        assert leases and all(until <= time.time() + lease_for(1.5) for until in leases), leases
        db = Resources(settings).db.get()

        def ended(event_id: str) -> bool:  # an attempt in flight is logged from its start, its outcome at its end
            log = webhooks_sql.get_event(db, event_id)["attempt_log"]  # type: ignore[index]
            return bool(log) and log[-1]["error"] != webhooks_sql.UNFINISHED

        while not all(ended(e) for e in events[:2]):
            assert time.monotonic() - started < 10, "the attempts were not cut at the 1.5 s deadline"
            time.sleep(0.05)
        for event_id in events[:2]:
            event = webhooks_sql.get_event(db, event_id)
            assert event is not None
            (attempt,) = event["attempt_log"]
            assert "deadline" in attempt["error"] and attempt["latency_ms"] < 4000, attempt
    finally:
        hostile.close()
        thread.stop(timeout=15)
    assert dispatcher.concurrency == 5


@pytest.mark.parametrize("name", ["WEBHOOK_CONCURRENCY", "WEBHOOK_PER_KEY", "WEBHOOK_TIMEOUT_SECONDS"])
def test_a_limit_below_its_minimum_is_refused_with_the_setting_named(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=name.lower()):
        load_settings({"PAQSHOT_HOME": str(tmp_path), f"PAQSHOT_{name}": "0"})
