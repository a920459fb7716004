"""POST /v1/generate and GET /v1/generate/{id}: the spec's fields, defaults and error codes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage import keys as keys_sql
from paqshot_server.storage.db import connect
from support import Key, assert_plain_words, b64, make_key, product_jpeg

ACCEPTED_FIELDS = {"id", "status", "style", "aspect_ratio", "estimated_seconds", "created_at"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def submit(client: TestClient, key: Key, **fields: object) -> dict:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", **fields}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    return response.json()


def test_accepted_answer_has_exactly_the_spec_fields(client: TestClient, key: Key, settings: Settings) -> None:
    response = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=key.headers
    )
    assert response.status_code == 202
    body = response.json()
    assert set(body) == ACCEPTED_FIELDS
    assert re.fullmatch(r"gen_[0-9a-hjkmnp-tv-z]{26}", body["id"])
    assert body["status"] == "processing"
    assert body["aspect_ratio"] == "1:1"  # spec default
    assert ISO.match(body["created_at"])
    assert response.headers["location"] == f"{settings.base_url}/v1/generate/{body['id']}"
    status = client.get(f"/v1/generate/{body['id']}", headers=key.headers).json()
    assert status["status"] == "processing"
    assert status["options"]["scene_type"] == "auto" and status["options"]["people"] == "none"
    assert "image_url" not in status


def test_data_uri_input_and_completed_fields(client: TestClient, key: Key, settings: Settings) -> None:
    body = submit(client, key, product_image="data:image/jpeg;base64," + b64(product_jpeg()), aspect_ratio="16:9")
    assert process(WorkerContext(settings), body["id"]) == "completed"
    status = client.get(f"/v1/generate/{body['id']}", headers=key.headers).json()
    assert status["status"] == "completed"
    assert (status["width"], status["height"]) == (1024, 576)
    assert ISO.match(status["expires_at"])
    assert status["engine"] == "classical"
    image = client.get(status["image_url"].removeprefix(settings.base_url))  # no Authorization header
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.content[:3] == b"\xff\xd8\xff"
    thumb = client.get(status["thumbnail_url"].removeprefix(settings.base_url))
    assert thumb.status_code == 200


def test_signed_urls_refuse_tampering(client: TestClient, key: Key, settings: Settings) -> None:
    body = submit(client, key)
    process(WorkerContext(settings), body["id"])
    url = client.get(f"/v1/generate/{body['id']}", headers=key.headers).json()["image_url"]
    path = url.removeprefix(settings.base_url)
    tampered = re.sub(r"sig=([0-9a-f])", lambda m: "sig=" + ("0" if m.group(1) != "0" else "1"), path)
    assert client.get(tampered).status_code == 404
    later = re.sub(r"expires=(\d+)", lambda m: f"expires={int(m.group(1)) + 1}", path)
    assert client.get(later).json()["error"] == "not_found"


def test_head_on_a_signed_url_answers_as_get_without_the_body(client: TestClient, key: Key, settings: Settings) -> None:
    """breaker13 B13-11: HEAD answered 405 (RFC 9110 §9.3.2: HEAD wherever GET; importers and CDNs probe with it)."""
    body = submit(client, key)
    process(WorkerContext(settings), body["id"])
    job = client.get(f"/v1/generate/{body['id']}", headers=key.headers).json()
    for url in (job["image_url"], job["thumbnail_url"], job["input_url"]):
        path = url.removeprefix(settings.base_url)
        got, probed = client.get(path), client.head(path)
        assert probed.status_code == 200 and probed.content == b""
        assert probed.headers["content-length"] == str(len(got.content)) and len(got.content) > 0
        for header in ("content-type", "x-content-type-options", "cache-control"):
            assert probed.headers[header] == got.headers[header]
    tampered = re.sub(r"sig=([0-9a-f])", lambda m: "sig=" + ("0" if m.group(1) != "0" else "1"), path)
    assert client.head(tampered).status_code == 404
    assert client.delete(f"/v1/generate/{body['id']}", headers=key.headers).status_code == 204
    assert client.head(path).status_code == 404  # deleted: as GET answers


BAD_BODIES = [
    ({"style": "studio_packshot"}, "product_image"),
    ({"product_image": "x", "style": "poster"}, "style"),
    ({"product_image": "x", "style": "studio_packshot", "aspect_ratio": "5:4"}, "aspect_ratio"),
    ({"product_image": "x", "style": "studio_packshot", "people": "crowd"}, "people"),
    ({"product_image": "x", "style": "studio_packshot", "scene_type": "space"}, "scene_type"),
    ({"product_image": "x", "style": "studio_packshot", "background": "#12345"}, "background"),
    ({"product_image": "x", "style": "studio_packshot", "background": "red"}, "background"),
    ({"product_image": "x", "style": "studio_packshot", "prompt": "p" * 501}, "prompt"),
    ({"product_image": "x", "style": "studio_packshot", "surprise": True}, "surprise"),
    ({"product_image": "%%%", "style": "studio_packshot"}, "base64"),
]


@pytest.mark.parametrize(("body", "mentions"), BAD_BODIES)
def test_malformed_parameters_are_400_with_the_field_named(
    client: TestClient, key: Key, body: dict, mentions: str
) -> None:
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert mentions in response.json()["message"]


def test_combinations_no_engine_accepts_are_400(client: TestClient, key: Key) -> None:
    for extra in ({"style": "studio_packshot", "num_variants": 2}, {"style": "lifestyle", "shadow": "natural"}):
        body = {"product_image": b64(product_jpeg()), **extra}
        response = client.post("/v1/generate", json=body, headers=key.headers)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request", extra


def test_prompt_of_exactly_500_characters_is_accepted(client: TestClient, key: Key) -> None:
    assert submit(client, key, prompt="p" * 500)["status"] == "processing"


def test_bad_json_and_unknown_route_use_the_error_body(client: TestClient, key: Key) -> None:
    response = client.post(
        "/v1/generate", content=b"{nope", headers={**key.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400 and set(response.json()) == {"error", "message"}
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_auth_errors(client: TestClient, key: Key, settings: Settings) -> None:
    assert client.get("/v1/generations").json()["error"] == "unauthorized"
    assert client.get("/v1/generations", headers={"Authorization": "Bearer pk_live_wrong"}).status_code == 401
    assert client.get("/v1/generations", headers=key.headers).status_code == 200
    assert keys_sql.revoke(connect(settings.app_db), key.id)
    response = client.get("/v1/generations", headers=key.headers)  # revocation takes effect at once
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_forbidden_quota_and_style_not_enabled(client: TestClient, settings: Settings) -> None:
    limited = make_key(settings, name="quota", quota=1)
    submit(client, limited)
    over = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=limited.headers
    )
    assert over.status_code == 403 and "Quota" in over.json()["message"]
    stored = sorted(p.name for p in settings.files_dir.rglob("*_input.*"))
    assert len(stored) == 1  # the refused request left no file behind
    scenes_only = make_key(settings, name="scenes", styles=["lifestyle"])
    denied = client.post(
        "/v1/generate",
        json={"product_image": b64(product_jpeg()), "style": "studio_packshot"},
        headers=scenes_only.headers,
    )
    assert denied.status_code == 403 and "not enabled for this API key" in denied.json()["message"]


def test_another_keys_generation_is_not_found(client: TestClient, key: Key, settings: Settings) -> None:
    job = submit(client, key)
    other = make_key(settings, name="other")
    response = client.get(f"/v1/generate/{job['id']}", headers=other.headers)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert client.get("/v1/generate/gen_nope", headers=key.headers).status_code == 404
    assert client.get(f"/v1/generate/{job['id']}").status_code == 401  # no key
    keys_sql.revoke(connect(settings.app_db), key.id)
    revoked = client.get(f"/v1/generate/{job['id']}", headers=key.headers)
    assert revoked.status_code == 401 and revoked.json()["error"] == "unauthorized"


def test_image_too_large_and_unsupported_formats(client: TestClient, key: Key) -> None:
    big = b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024 + 10)
    response = client.post(
        "/v1/generate", json={"product_image": b64(big), "style": "studio_packshot"}, headers=key.headers
    )
    assert response.status_code == 413 and response.json()["error"] == "image_too_large"
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
    response = client.post(
        "/v1/generate", json={"product_image": b64(gif), "style": "studio_packshot"}, headers=key.headers
    )
    assert response.status_code == 422 and response.json()["error"] == "unsupported_image"
    assert "GIF" in response.json()["message"]
    truncated = product_jpeg()[:400]
    response = client.post(
        "/v1/generate", json={"product_image": b64(truncated), "style": "studio_packshot"}, headers=key.headers
    )
    assert response.status_code == 422


def test_the_body_limit_follows_max_image_bytes(tmp_path: Path) -> None:
    big = b"\xff\xd8\xff" + b"\0" * (12 * 1024 * 1024)  # 16 MB of base64: over the old fixed 15 MB body limit
    roomy = Settings(home=tmp_path / "roomy", max_image_bytes=16 * 1024 * 1024)
    with TestClient(create_app(roomy)) as client:
        response = client.post(
            "/v1/generate",
            json={"product_image": b64(big), "style": "studio_packshot"},
            headers=make_key(roomy).headers,
        )
    assert response.status_code == 422 and response.json()["error"] == "unsupported_image"  # read, then judged
    tight = Settings(home=tmp_path / "tight", max_image_bytes=2_000_000)
    with TestClient(create_app(tight)) as client:
        response = client.post(
            "/v1/generate",
            json={"product_image": b64(big), "style": "studio_packshot"},
            headers=make_key(tight).headers,
        )
    assert response.status_code == 413 and response.json()["error"] == "image_too_large"
    assert "2 MB" in response.json()["message"]  # the configured limit, not a fixed one


def test_rate_limit_counts_generate_only(client: TestClient, settings: Settings) -> None:
    slow = make_key(settings, name="slow", rate_limit=2)
    for _ in range(10):  # polling does not eat the generate budget
        assert client.get("/v1/generations", headers=slow.headers).status_code == 200
    first = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=slow.headers
    )
    assert first.headers["x-ratelimit-limit"] == "2" and first.headers["x-ratelimit-remaining"] == "1"
    submit(client, slow)
    third = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=slow.headers
    )
    assert third.status_code == 429 and third.json()["error"] == "rate_limited"
    assert 1 <= int(third.headers["retry-after"]) <= 60


def test_every_answer_that_counted_against_the_rate_limit_says_so(client: TestClient, settings: Settings) -> None:
    """A refusal after the request counted (its image was looked at) carries the X-RateLimit-* headers; one refused
    before (a malformed field) neither counts nor carries them (breaker, session 2: a 422 counted, without them)."""
    slow = make_key(settings, name="slow", rate_limit=3)
    body = {"product_image": b64(b"\xff\xd8\xff\xe0 not a JPEG at all"), "style": "studio_packshot"}
    broken = client.post("/v1/generate", json=body, headers=slow.headers)
    assert broken.status_code == 422 and broken.json()["error"] == "unsupported_image"
    assert broken.headers["x-ratelimit-limit"] == "3" and broken.headers["x-ratelimit-remaining"] == "2"
    assert 1 <= int(broken.headers["x-ratelimit-reset"]) <= 60
    early = client.post("/v1/generate", json={**body, "aspect_ratio": "5:4"}, headers=slow.headers)
    assert early.status_code == 400 and "x-ratelimit-remaining" not in early.headers
    accepted = client.post("/v1/generate", json={**body, "product_image": b64(product_jpeg())}, headers=slow.headers)
    assert accepted.status_code == 202 and accepted.headers["x-ratelimit-remaining"] == "1"


def test_a_rerun_refused_after_it_counted_carries_the_rate_limit_headers(
    client: TestClient, settings: Settings
) -> None:
    slow = make_key(settings, name="slow", rate_limit=5)
    source = submit(client, slow)
    job = jobs_sql.get(connect(settings.app_db), source["id"])
    assert job is not None
    Resources(settings).files.delete(job.input_file)  # as retention does
    gone = client.post(f"/v1/generate/{source['id']}/rerun", json={}, headers=slow.headers)
    assert gone.status_code == 410 and gone.json()["error"] == "input_expired"
    assert gone.headers["x-ratelimit-limit"] == "5" and gone.headers["x-ratelimit-remaining"] == "3"


def test_unexpected_exception_is_500_without_traceback(
    client: TestClient, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paqshot_server.storage import jobs as jobs_sql

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(jobs_sql, "list_for_key", boom)
    response = client.get("/v1/generations", headers=key.headers)
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "message": "Internal error on our side; retry after a few seconds.",
    }


def test_idempotency_key_replays_and_conflicts(client: TestClient, key: Key) -> None:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    headers = {**key.headers, "Idempotency-Key": "order-42"}
    first = client.post("/v1/generate", json=body, headers=headers)
    again = client.post("/v1/generate", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = client.post("/v1/generate", json={**body, "aspect_ratio": "4:3"}, headers=headers)
    # The spec's table puts invalid_request at 400 (breaker, session 2: it was 422 with invalid_request).
    assert other.status_code == 400 and other.json()["error"] == "invalid_request"
    assert "Idempotency-Key" in other.json()["message"]
    listed = client.get("/v1/generations", headers=key.headers).json()
    assert listed["total"] == 1


def test_an_idempotency_key_is_the_same_key_without_spaces_around_it(client: TestClient, key: Key) -> None:
    # breaker12 B12-12: "order-7 " was stored as another key than "order-7" and the retry made a second job
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    first = client.post("/v1/generate", json=body, headers={**key.headers, "Idempotency-Key": "order-7"})
    again = client.post("/v1/generate", json=body, headers={**key.headers, "Idempotency-Key": "\torder-7 "})
    assert first.status_code == again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    blank = client.post("/v1/generate", json=body, headers={**key.headers, "Idempotency-Key": "  "})
    assert blank.status_code == 400 and "Idempotency-Key" in blank.json()["message"], blank.text
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 1


def test_the_same_request_with_its_keys_reordered_or_respaced_is_a_replay(client: TestClient, key: Key) -> None:
    # breaker12 B12-12: the body's bytes were hashed, so a client re-serialising the same request was refused
    photo = b64(product_jpeg())
    headers = {**key.headers, "Idempotency-Key": "order-8", "content-type": "application/json"}
    sent = f'{{"product_image":"{photo}","style":"studio_packshot","placement":{{"x":0.4,"y":0.5}}}}'
    variants = [
        sent,
        f'{{ "placement": {{"y": 0.5, "x": 0.4}},\n  "style": "studio_packshot", "product_image": "{photo}" }}',
        f'{{"style":"studio_\\u0070ackshot","product_image":"{photo}","placement":{{"x":4e-1,"y":0.50}}}}',
    ]
    answers = [client.post("/v1/generate", content=body.encode(), headers=headers) for body in variants]
    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    other = sent.replace('"x":0.4', '"x":0.41')
    conflict = client.post("/v1/generate", content=other.encode(), headers=headers)
    assert conflict.status_code == 400 and "different request body" in conflict.json()["message"], conflict.text
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 1


def test_a_retry_across_the_upgrade_to_sorted_keys_is_a_replay(
    client: TestClient, key: Key, settings: Settings
) -> None:
    # breaker13 B13-14: rows written before 846ee5e hold the hash of the bytes as sent; the retry after the upgrade
    # (when clients retry most) was refused as "a different request body".
    sent = f'{{"style":"studio_packshot", "product_image":"{b64(product_jpeg())}"}}'.encode()
    headers = {**key.headers, "Idempotency-Key": "before-upgrade", "content-type": "application/json"}
    first = client.post("/v1/generate", content=sent, headers=headers)
    assert first.status_code == 202, first.text
    db = connect(settings.app_db)
    db.conn.execute("UPDATE idempotency SET body_hash = ?", (hashlib.sha256(sent).hexdigest(),))
    db.conn.commit()
    again = client.post("/v1/generate", content=sent, headers=headers)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"], again.text
    other = client.post("/v1/generate", content=sent.replace(b'", "', b'", "shadow":"hard", "'), headers=headers)
    assert other.status_code == 400 and "different request body" in other.json()["message"], other.text


def test_the_same_numbers_written_otherwise_are_a_replay(client: TestClient, key: Key) -> None:
    # breaker13 B13-12: seed 5.0 is taken as the seed 5, but its retry with 5 was "a different request body"
    photo = b64(product_jpeg())
    headers = {**key.headers, "Idempotency-Key": "order-9", "content-type": "application/json"}
    written = ['5, "padding": 1', '5.0, "padding": 1.0', '5e0, "padding": 1E0', '50e-1, "padding": 1.00']
    bodies = [f'{{"product_image":"{photo}","style":"studio_packshot","seed":{n},"num_variants":1}}' for n in written]
    answers = [client.post("/v1/generate", content=body.encode(), headers=headers) for body in bodies]
    assert [a.status_code for a in answers] == [202] * len(bodies), [a.text for a in answers]
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    other = client.post("/v1/generate", content=bodies[1].replace("5.0", "6.0").encode(), headers=headers)
    assert other.status_code == 400 and "different request body" in other.json()["message"], other.text


def test_a_retry_across_the_upgrade_to_whole_numbers_is_a_replay(
    client: TestClient, key: Key, settings: Settings
) -> None:
    # Rows written since 846ee5e and before B13-12's fix hold the sorted-keys form with "seed":5.0 as written.
    sent = {"style": "studio_packshot", "product_image": b64(product_jpeg()), "seed": 5.0, "padding": 0.25}
    headers = {**key.headers, "Idempotency-Key": "before-whole-numbers"}
    first = client.post("/v1/generate", json=sent, headers=headers)
    assert first.status_code == 202, first.text
    db = connect(settings.app_db)
    sorted_form = msgspec.json.encode(sent, order="sorted")
    db.conn.execute("UPDATE idempotency SET body_hash = ?", (hashlib.sha256(sorted_form).hexdigest(),))
    db.conn.commit()
    db.conn.close()
    again = client.post("/v1/generate", content=sorted_form, headers={**headers, "content-type": "application/json"})
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"], again.text


def test_an_empty_idempotency_key_is_refused_not_taken_for_none(client: TestClient, key: Key) -> None:
    # breaker, session 4: an empty header was read as no key at all, so a client whose template lost its value
    # had no protection against duplicates and was not told
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    response = client.post("/v1/generate", json=body, headers={**key.headers, "Idempotency-Key": ""})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request", response.text
    message = response.json()["message"]
    assert message == "The header Idempotency-Key must be text, 1 to 255 characters long.", message
    assert_plain_words(message)
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 0


def test_cancel_a_queued_job(client: TestClient, key: Key, settings: Settings) -> None:
    job = submit(client, key)
    response = client.post(f"/v1/generate/{job['id']}/cancel", headers=key.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "failed" and response.json()["error"]["code"] == "cancelled"
    assert process(WorkerContext(settings), job["id"]) == "not-claimed"  # the queued message is now a no-op


def test_failed_job_reports_error(client: TestClient, key: Key, settings: Settings) -> None:
    import io

    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (300, 300), (255, 255, 255)).save(blank, "PNG")  # nothing but background
    job = submit(client, key, product_image=b64(blank.getvalue()))
    assert process(WorkerContext(settings), job["id"]) == "failed"
    status = client.get(f"/v1/generate/{job['id']}", headers=key.headers).json()
    assert status["status"] == "failed"
    assert status["error"]["code"] == "unsupported_image" and status["error"]["message"]
