"""The fair queue: round-robin across keys (weighted), priority within a key, the cap on high, re-prioritising;
claiming chooses and leases in one transaction, and the ETA's replay of the policy matches real claims."""

from __future__ import annotations

import random
import time

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.settings import Settings
from paqshot_server.storage import fair
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.db import connect
from support import Key, b64, make_key, product_jpeg

PHOTO = b64(product_jpeg((96, 72)))


def submit(client: TestClient, key: Key, **fields: object) -> str:
    body = {"product_image": PHOTO, "style": "studio_packshot", **fields}
    answer = client.post("/v1/generate", json=body, headers=key.headers)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def claims(settings: Settings, count: int) -> list[str]:
    db = connect(settings.app_db)
    taken = []
    for _ in range(count):
        job = jobs_sql.claim_next(db, "wrk_test", time.time(), 60)
        assert job is not None
        taken.append(job.id)
    db.conn.close()
    return taken


def test_one_job_of_another_key_is_served_next_not_after_the_burst(
    client: TestClient, key: Key, settings: Settings
) -> None:
    burst = [submit(client, key) for _ in range(6)]
    other = make_key(settings, name="B")
    lone = submit(client, other)
    assert claims(settings, 3) == [burst[0], lone, burst[1]]


def test_a_key_of_weight_two_is_served_twice_as_often(client: TestClient, settings: Settings) -> None:
    heavy, light = make_key(settings, name="A", weight=2.0), make_key(settings, name="B")
    a = [submit(client, heavy) for _ in range(6)]
    b = [submit(client, light) for _ in range(6)]
    taken = claims(settings, 9)
    assert sum(job in a for job in taken) == 6 and sum(job in b for job in taken) == 3
    assert [j for j in taken if j in a] == a and [j for j in taken if j in b] == b[:3]  # each key in its own order


def test_a_key_that_was_idle_saves_no_credit(client: TestClient, key: Key, settings: Settings) -> None:
    other = make_key(settings, name="B")
    first = [submit(client, key) for _ in range(4)]
    assert claims(settings, 4) == first  # alone: back to back
    a = [submit(client, key) for _ in range(3)]
    b = [submit(client, other) for _ in range(3)]
    # B was idle while A ran four jobs: it starts at the queue's clock, so the two alternate (A's oldest first
    # on a tie) instead of B running three in a row to catch up.
    assert claims(settings, 6) == [b[0], a[0], b[1], a[1], b[2], a[2]]


def test_priority_orders_a_keys_own_jobs(client: TestClient, key: Key, settings: Settings) -> None:
    low = submit(client, key, priority="low")
    normal = submit(client, key)
    high = submit(client, key, priority="high")
    assert claims(settings, 3) == [high, normal, low]
    shown = client.get(f"/v1/generate/{low}", headers=key.headers).json()
    assert shown["priority"] == "low"


def test_high_priority_is_capped_per_key(settings: Settings) -> None:
    capped = settings.with_overrides(high_priority_limit=2)
    key, other = make_key(capped), make_key(capped, name="other")
    with TestClient(create_app(capped)) as client:
        submit(client, key, priority="high")
        submit(client, key, priority="high")
        refused = client.post(
            "/v1/generate",
            json={"product_image": PHOTO, "style": "studio_packshot", "priority": "high"},
            headers=key.headers,
        )
        assert refused.status_code == 403
        assert refused.json()["error"] == "forbidden" and "limit is 2" in refused.json()["message"]
        submit(client, other, priority="high")  # the cap is per key
        waiting = submit(client, key)
        moved = client.post(f"/v1/generate/{waiting}/priority", json={"priority": "high"}, headers=key.headers)
        assert moved.status_code == 403 and "limit is 2" in moved.json()["message"]


def test_a_waiting_job_can_be_reprioritised_until_it_starts(client: TestClient, key: Key, settings: Settings) -> None:
    first = submit(client, key)
    late = submit(client, key, priority="low")
    moved = client.post(f"/v1/generate/{late}/priority", json={"priority": "high"}, headers=key.headers)
    assert moved.status_code == 200 and moved.json()["priority"] == "high"
    assert claims(settings, 1) == [late]
    again = client.post(f"/v1/generate/{late}/priority", json={"priority": "low"}, headers=key.headers)
    assert again.status_code == 400 and "has started" in again.json()["message"]
    other = make_key(settings, name="other")
    assert (
        client.post(f"/v1/generate/{first}/priority", json={"priority": "low"}, headers=other.headers).status_code
        == 404
    )
    bad = client.post(f"/v1/generate/{first}/priority", json={"priority": "urgent"}, headers=key.headers)
    assert bad.status_code == 400


def test_nothing_queued_claims_nothing(settings: Settings, key: Key) -> None:
    db = connect(settings.app_db)
    assert jobs_sql.claim_next(db, "wrk_test", time.time(), 60) is None


def test_the_etas_replay_of_the_policy_matches_real_claims(client: TestClient, settings: Settings) -> None:
    rng = random.Random(14)
    keys = [make_key(settings, name=f"k{i}", weight=w) for i, w in enumerate((1.0, 2.0, 0.5))]
    for _ in range(4):  # some history: tags and the clock are not all zero
        submit(client, keys[0])
    claims(settings, 3)
    for _ in range(18):
        submit(client, rng.choice(keys), priority=rng.choice(["low", "normal", "high"]))
    db = connect(settings.app_db)
    queues = fair.queued_in_order(db.conn)
    waiting, clock = fair.waiting(db.conn)
    predicted = [job.id for job in fair.order(queues, waiting, clock)]
    assert len(predicted) == 19
    assert claims(settings, 19) == predicted


@pytest.mark.parametrize("weight", [0.0, -1.0, 1000.0])
def test_a_weight_out_of_bounds_is_refused(settings: Settings, weight: float) -> None:
    from paqshot_server.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="weight must be between"):
        make_key(settings, weight=weight)
