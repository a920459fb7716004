"""Lists a client can page safely (``shared/cases/api/pagination-offset-duplicates``): cursor paging by id
(``starting_after`` / ``ending_before``, newest first) never repeats or skips a generation while new ones
arrive, ``has_more`` is right, and a query parameter a list does not declare is refused with 400."""

from __future__ import annotations

import time
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from paqshot_server import ids as ids_module
from paqshot_server.ids import new_id
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.db import connect
from support import Key, assert_plain_words, b64, make_key, product_jpeg, queued_job

SMALL = product_jpeg((96, 72))


def insert(settings: Settings, key: Key, job_id: str | None = None) -> str:
    """A queued job straight into storage (paging is about rows, not images)."""
    db = connect(settings.app_db)
    try:
        new = queued_job(key.id, id=job_id or new_id("gen"), input_file="none.png")
        return jobs_sql.create(db, new, quota=None, idempotency=None)[0].id
    finally:
        db.conn.close()


def page(client: TestClient, key: Key, **params: object) -> dict:
    response = client.get("/v1/generations", params=params, headers=key.headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: dict) -> list[str]:
    return [g["id"] for g in body["data"]]


def test_the_cases_steps_with_a_cursor(client: TestClient, key: Key) -> None:
    for _ in range(10):
        client.post("/v1/generate", json={"product_image": b64(SMALL), "style": "studio_packshot"}, headers=key.headers)
    first = page(client, key, limit=5)
    for _ in range(2):
        client.post("/v1/generate", json={"product_image": b64(SMALL), "style": "studio_packshot"}, headers=key.headers)
    second = page(client, key, limit=5, starting_after=ids(first)[-1])
    assert not set(ids(first)) & set(ids(second))
    assert second["has_more"] is False and first["has_more"] is True
    assert len(ids(first) + ids(second)) == 10
    newer = page(client, key, limit=5, ending_before=ids(first)[0])
    assert len(ids(newer)) == 2 and newer["has_more"] is False
    for name in ("before", "after", "cursor", "page"):
        response = client.get("/v1/generations", params={name: ids(first)[-1]}, headers=key.headers)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        message = response.json()["message"]
        assert f"Unknown query parameter {name}" in message and "starting_after" in message
        assert_plain_words(message)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    start=st.integers(0, 12),
    limit=st.integers(1, 6),
    arrivals=st.lists(st.integers(0, 3), min_size=1, max_size=8),
)
def test_walking_down_while_jobs_arrive_sees_each_job_once(
    client: TestClient, settings: Settings, start: int, limit: int, arrivals: list[int]
) -> None:
    key = make_key(settings)  # a fresh list for each example
    existing = [insert(settings, key) for _ in range(start)]
    seen: list[str] = []
    body = page(client, key, limit=limit)
    top = ids(body)[0] if body["data"] else None
    steps = iter(arrivals)
    for _ in range(start + sum(arrivals) + 2):  # enough pages for every job: a list that never ends fails
        seen += ids(body)
        for _ in range(next(steps, 0)):  # new generations arrive between two reads
            insert(settings, key)
        if not body["has_more"]:
            break
        body = page(client, key, limit=limit, starting_after=seen[-1])
    else:
        raise AssertionError(f"the list did not end: {len(seen)} ids read for {start} jobs")
    assert len(seen) == len(set(seen))  # no repeats
    assert set(seen) == set(existing)  # no gaps, and nothing that arrived during the walk
    if top is not None:  # walking up from the top finds exactly what arrived meanwhile, newest first
        up = page(client, key, limit=100, ending_before=top)
        arrived = set(ids(page(client, key, limit=100))) - set(seen)
        assert set(ids(up)) == arrived and up["has_more"] is False


def test_a_job_that_commits_late_is_still_found_above_the_cursor(
    client: TestClient, key: Key, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids carry the time they were made, but a slow upload is inserted later: the order is the insertion's.
    Both ids fall in the same millisecond (the case that flaked while ids of one millisecond sorted at random)."""
    with monkeypatch.context() as frozen:
        now = time.time()
        frozen.setattr(ids_module, "time", types.SimpleNamespace(time=lambda: now))  # only ids sees it frozen
        early_id = new_id("gen")  # made first (a slow URL fetch follows) ...
        seen_id = new_id("gen")  # ... another request is made in the same millisecond
    seen = insert(settings, key, seen_id)  # ... and inserted meanwhile, and a client reads it
    late = insert(settings, key, early_id)  # ... then the slow one is inserted
    assert late < seen  # its id sorts before the one the client already saw
    assert ids(page(client, key, ending_before=seen)) == [late]
    assert ids(page(client, key, limit=1)) == [late]


def test_has_more_and_cursor_edges(client: TestClient, key: Key, settings: Settings) -> None:
    made = [insert(settings, key) for _ in range(4)][::-1]  # newest first
    assert ids(page(client, key, limit=4)) == made and page(client, key, limit=4)["has_more"] is False
    assert page(client, key, limit=3)["has_more"] is True
    assert page(client, key, limit=2, offset=2)["has_more"] is False
    assert ids(page(client, key, limit=2, starting_after=made[1])) == made[2:]
    assert ids(page(client, key, limit=2, ending_before=made[3])) == made[1:3]
    assert page(client, key, limit=2, ending_before=made[3])["has_more"] is True
    deleted = made[1]
    assert client.delete(f"/v1/generate/{deleted}", headers=key.headers).status_code == 204
    assert ids(page(client, key, starting_after=deleted)) == made[2:]  # a deleted cursor still marks its place


def test_cursor_combinations_and_mistakes(client: TestClient, key: Key, settings: Settings) -> None:
    made = [insert(settings, key) for _ in range(6)][::-1]  # newest first
    assert ids(page(client, key, starting_after=made[0], ending_before=made[5])) == made[1:5]  # between the two
    assert ids(page(client, key, starting_after=made[0], offset=2, limit=2)) == made[3:5]  # skip 2 past the cursor
    assert ids(page(client, key, ending_before=made[5], offset=1, limit=2)) == made[2:4]
    other = new_id("gen")
    response = client.get("/v1/generations", params={"starting_after": other}, headers=key.headers)
    assert response.status_code == 404 and "not one of your generations" in response.json()["message"]
    for params, says in (
        ({"starting_after": "gen_x"}, "must be a generation id"),
        ({"limit": 5, "offset": [1, 2]}, "offset is given 2 times"),
    ):
        response = client.get("/v1/generations", params=params, headers=key.headers)
        assert response.status_code == 400 and says in response.json()["message"], response.text
        assert_plain_words(response.json()["message"])


def test_two_cursors_with_nothing_between_them_by_construction_are_refused_in_words(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """breaker9 F11: starting_after=X&ending_before=X answered 200, an empty page, with total 32."""
    made = [insert(settings, key) for _ in range(4)][::-1]  # newest first, as listed
    for after, before, says in (
        (made[1], made[1], "name the same generation"),
        (made[2], made[0], "wrong way round"),
        (made[3], made[0], "wrong way round"),
    ):
        response = client.get(
            "/v1/generations", params={"starting_after": after, "ending_before": before}, headers=key.headers
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request" and says in response.json()["message"]
        assert_plain_words(response.json()["message"])
    assert ids(page(client, key, starting_after=made[0], ending_before=made[1])) == []  # adjacent: truly empty
    assert ids(page(client, key, starting_after=made[0], ending_before=made[3])) == made[1:3]


def test_every_list_endpoint_refuses_an_unknown_query_parameter(client: TestClient, key: Key) -> None:
    doc = client.get("/schema/openapi.json").json()
    lists = [(path, op) for path, item in doc["paths"].items() for op in item.values() if isinstance(op, dict)]
    lists = [(path, op) for path, op in lists if op.get("operationId", "").startswith("list")]
    assert {"listGenerations", "listModels"} <= {op["operationId"] for _, op in lists}
    for path, operation in lists:
        response = client.get(path, params={"starting_afterr": "x"}, headers=key.headers)
        assert response.status_code == 400, (path, response.text)
        assert "Unknown query parameter starting_afterr" in response.json()["message"]
        declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        assert all(name in response.json()["message"] for name in declared)
