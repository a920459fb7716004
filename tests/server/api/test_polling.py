"""GET /v1/generate/{id}, the poll's hot path: answers kept while nothing changed, exactly the view and headers a
fresh answer has, never stale (another connection's commit, this process's own, the clock's live fields)."""

from __future__ import annotations

import re
import types

import msgspec
import pytest
from litestar import Request
from litestar.testing import TestClient
from paqshot_server.api import present
from paqshot_server.api.auth import bearer_token
from paqshot_server.api.encoded import EncodedJson
from paqshot_server.errors import InvalidRequest, Unauthorized
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.db import connect
from support import Key, b64, make_key, product_jpeg

ROUTE = "/v1/generate/{generation_id}"


def submit(client: TestClient, key: Key) -> str:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_a_poll_answers_the_view_with_the_headers_of_a_fresh_answer(client: TestClient, key: Key) -> None:
    job_id = submit(client, key)
    api = client.app.state["api"]
    first = client.get(f"/v1/generate/{job_id}", headers=key.headers)
    again = client.get(f"/v1/generate/{job_id}", headers=key.headers)
    job = jobs_sql.get(api.db.get(), job_id)
    assert job is not None
    expected = msgspec.json.encode(present.generation(job, api))
    for answer in (first, again):
        assert answer.status_code == 200
        assert answer.content == expected
        assert sorted(answer.headers) == ["content-length", "content-type", "x-request-id"]
        assert answer.headers["content-type"] == "application/json"
        assert int(answer.headers["content-length"]) == len(expected)
    assert first.headers["x-request-id"] != again.headers["x-request-id"]  # a kept answer still gets its own id
    tagged = client.get(f"/v1/generate/{job_id}", headers={**key.headers, "X-Request-ID": "poll-7"})
    assert tagged.headers["x-request-id"] == "poll-7"


def test_a_poll_sees_another_connections_commit_and_its_own_at_once(
    client: TestClient, key: Key, settings: Settings
) -> None:
    job_id = submit(client, key)
    url = f"/v1/generate/{job_id}"
    assert client.get(url, headers=key.headers).json()["progress"] == 0.0
    other = connect(settings.app_db)  # as a worker's progress beat is: another connection, another process
    with other.conn:
        other.conn.execute("UPDATE jobs SET progress = 0.5 WHERE id = ?", (job_id,))
    assert client.get(url, headers=key.headers).json()["progress"] == 0.5
    assert client.post(f"{url}/cancel", headers=key.headers).status_code == 200  # this process's own commit
    assert client.get(url, headers=key.headers).json()["status"] == "failed"


def test_a_kept_answer_follows_the_live_eta_and_the_photo_links_expiry(
    client: TestClient, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(client, key)
    api = client.app.state["api"]
    etas = iter([3.0, 3.0, 2.5, 2.5])
    monkeypatch.setattr(api.jobs.eta, "seconds", lambda job: next(etas))
    clock = [1_800_000_000.0]
    monkeypatch.setattr(present, "time", types.SimpleNamespace(time=lambda: clock[0]))

    def poll() -> dict:
        return client.get(f"/v1/generate/{job_id}", headers=key.headers).json()

    def expires(answer: dict) -> int:
        return int(re.search(r"expires=(\d+)", answer["input_url"]).group(1))  # type: ignore[union-attr]

    first, second, third = poll(), poll(), poll()
    assert [first["eta_seconds"], second["eta_seconds"], third["eta_seconds"]] == [3.0, 3.0, 2.5]
    assert expires(first) == expires(third) == present.input_link_expiry(clock[0])
    clock[0] += present.LINK_GRID_SECONDS
    fourth = poll()
    assert fourth["eta_seconds"] == 2.5
    assert expires(fourth) == expires(first) + present.LINK_GRID_SECONDS


def test_polls_are_counted_by_route_and_status(client: TestClient, key: Key, settings: Settings) -> None:
    job_id = submit(client, key)
    other = make_key(settings, name="other")
    for _ in range(3):
        assert client.get(f"/v1/generate/{job_id}", headers=key.headers).status_code == 200
    assert client.get(f"/v1/generate/{job_id}", headers=other.headers).status_code == 404
    assert client.get(f"/v1/generate/{job_id}").status_code == 401
    text = client.get("/metrics").text

    def count(status: int) -> float:
        labels = f'method="GET",route="{ROUTE}",status="{status}"'
        match = re.search(rf"^paqshot_http_requests_total\{{{re.escape(labels)}\}} ([0-9.e+]+)$", text, re.M)
        assert match, labels
        return float(match.group(1))

    assert (count(200), count(404), count(401)) == (3, 1, 1)
    timer = f'paqshot_http_request_duration_seconds_count{{route="{ROUTE}"}}'
    timed = re.search(rf"^{re.escape(timer)} (\S+)$", text, re.M)
    assert timed and float(timed.group(1)) == 5


def request_with(headers: list[tuple[bytes, bytes]]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})  # type: ignore[arg-type]


def test_the_bearer_token_is_read_from_the_raw_headers_in_any_case() -> None:
    assert bearer_token(request_with([(b"Authorization", b"Bearer pk_live_a ")])) == "pk_live_a"
    assert bearer_token(request_with([(b"authORIZATION", b"bearer pk_live_b")])) == "pk_live_b"
    with pytest.raises(InvalidRequest, match="more than once"):  # breaker12 B12-8: the first was taken silently
        bearer_token(request_with([(b"authorization", b"bearer pk_live_b"), (b"Authorization", b"x")]))
    for bad in ([], [(b"authorization", b"Basic abc")], [(b"authorization", b"Bearer  ")]):
        with pytest.raises(Unauthorized):
            bearer_token(request_with(bad))


def test_an_encoded_answer_is_sent_as_built_unless_a_layer_adds_to_it() -> None:
    answer = EncodedJson(b'{"a":1}')
    request = request_with([])
    kept = answer.to_asgi_response(None, request, headers={}, cookies=[])
    assert kept is answer.to_asgi_response(None, request)
    assert dict(kept.encode_headers()) == {b"content-type": b"application/json", b"content-length": b"7"}
    added = answer.to_asgi_response(None, request, headers={"X-Extra": "1"})
    assert added is not kept and (b"x-extra", b"1") in added.encode_headers() and added.body == b'{"a":1}'
