"""One key's hanging receivers never hold back another key's webhooks (case webhook-slow-receiver-blocks-others)."""

from __future__ import annotations

import time
from dataclasses import replace

from paqshot_server.jobs.dispatcher import Dispatcher, DispatcherThread
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from paqshot_server.storage import webhooks as webhooks_sql
from support import Key, make_key
from webhook_support import HostileReceiver, ended_job_with_webhook

HANG_DEADLINE = 6.0


def test_case_webhook_slow_receiver_blocks_others(settings: Settings, key: Key) -> None:
    """Key A has more hanging receivers than the dispatcher has slots; key B's webhooks, due later, all
    arrive while every one of A's attempts is still hanging (ordering, not timing, is asserted)."""
    hostile = HostileReceiver(hang=60.0)
    other = make_key(settings, name="other")
    limits = replace(settings, webhook_concurrency=6, webhook_per_key=3, webhook_timeout_seconds=HANG_DEADLINE)
    dispatcher = Dispatcher(Resources(limits), "wrk_test", poll=0.1)
    thread = DispatcherThread(dispatcher)
    try:
        for _ in range(12):
            ended_job_with_webhook(settings, key.id, hostile.url + "/hang")
        thread.start()
        started = time.time()
        while len(hostile.posts_to("/hang")) < 3:  # A's attempts are in flight, hanging
            assert time.time() - started < HANG_DEADLINE / 2, "the hanging attempts never started"
            time.sleep(0.02)
        healthy = [ended_job_with_webhook(settings, other.id, f"{hostile.url}/ok/{i}") for i in range(6)]
        while len(hostile.posts_to("/ok/")) < len(healthy):
            assert time.time() - started < HANG_DEADLINE, "healthy webhooks waited behind hanging ones"
            time.sleep(0.02)
        db = Resources(settings).db.get()
        hung = [  # an attempt is logged from its start; one that ended has its outcome
            e
            for e in webhooks_sql.list_events(db, key_id=key.id, limit=100)
            if any(a["error"] != webhooks_sql.UNFINISHED for a in webhooks_sql.get_event(db, e["id"])["attempt_log"])  # type: ignore[index]
        ]
        assert not hung, "a hanging attempt ended before the healthy webhooks arrived: not isolated"
        assert len(hostile.posts_to("/hang")) == 3  # per-key cap: A holds 3 of the 6 slots, never more
    finally:
        hostile.close()  # releases the hanging handlers
        thread.stop(timeout=HANG_DEADLINE + 10)
    assert not thread.is_alive()


def test_dispatcher_stops_within_one_deadline(settings: Settings, key: Key) -> None:
    hostile = HostileReceiver(hang=60.0)
    fast = replace(settings, webhook_retry_scale=1.0, webhook_timeout_seconds=2.0)
    thread = DispatcherThread(Dispatcher(Resources(fast), "wrk_test", poll=0.1))
    try:
        ended_job_with_webhook(fast, key.id, hostile.url + "/hang")
        thread.start()
        while not hostile.posts_to("/hang"):
            time.sleep(0.02)
        thread.stop(timeout=10)
        assert not thread.is_alive()
    finally:
        hostile.close()


def test_a_backlog_of_one_key_does_not_hide_another_keys_due_event(settings: Settings, key: Key) -> None:
    """100 due events of one key (a receiver that was down), then one of another key: the next claim takes it."""
    from paqshot_server.storage.webhooks import claim_due

    other = make_key(settings, name="other")
    for i in range(100):
        ended_job_with_webhook(settings, key.id, f"http://127.0.0.1:9/backlog/{i}")
    latest = ended_job_with_webhook(settings, other.id, "http://127.0.0.1:9/fresh")
    claimed = claim_due(
        Resources(settings).db.get(), time.time(), owner="wrk_test", lease_seconds=60, limit=8, per_key=4
    )
    assert latest in [e.id for e in claimed]
    assert sum(e.key_id == key.id for e in claimed) == 4
