"""The HTTP client against httpx.MockTransport: auth, wire decoding, retries, plain-words errors."""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from desktop_support import job_json, mock_client
from paqshot_desktop.client import (
    ApiClient,
    ApiError,
    ConnectionFailed,
    NotAnAppliance,
    RetryPolicy,
    TlsFailed,
    parse_retry_after,
)


def error(status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": message}, headers=headers)


def test_requests_carry_the_key_and_decode_every_extension_field() -> None:
    seen: list[httpx.Request] = []
    full = job_json(
        "gen_9",
        "completed",
        image_url="http://a/x.jpg",
        thumbnail_url="http://a/x_t.jpg",
        width=1024,
        height=768,
        progress=1.0,
        engine="classical",
        seed=42,
        options={"shadow": "soft", "num_variants": 2},
        notes=["upscaled"],
        confidence=0.93,
        images=[
            {"image_url": "http://a/1.jpg", "thumbnail_url": "http://a/1t.jpg", "width": 1, "height": 2},
            {"image_url": "http://a/2.png"},
        ],
        completed_at="2026-06-09T14:00:09Z",
        input_url="http://a/in.png",
        some_future_field={"ignored": True},
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=full)

    job = mock_client(handler).job("gen_9")
    assert seen[0].headers["Authorization"] == "Bearer pk_test_key"
    assert seen[0].url.path == "/v1/generate/gen_9"
    assert job.finished and job.engine == "classical" and job.seed == 42
    assert job.options["num_variants"] == 2 and job.notes == ("upscaled",) and job.confidence == 0.93
    assert [i.image_url for i in job.all_images] == ["http://a/1.jpg", "http://a/2.png"]
    assert job.input_url == "http://a/in.png"


def test_generate_posts_json_with_the_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json=job_json(estimated_seconds=12))

    job = mock_client(handler).generate({"product_image": "data:...", "style": "studio_packshot"}, "idem-1")
    assert seen[0].method == "POST" and seen[0].url.path == "/v1/generate"
    assert seen[0].headers["Idempotency-Key"] == "idem-1"
    assert json.loads(seen[0].content) == {"product_image": "data:...", "style": "studio_packshot"}
    assert job.status == "processing" and job.estimated_seconds == 12


def test_list_passes_pagination_and_filter() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {
            "data": [job_json("a"), job_json("b")],
            "total": 45,
            "limit": 20,
            "offset": 20,
            "has_more": True,
        }
        return httpx.Response(200, json=body)

    page = mock_client(handler).list_jobs(limit=20, offset=20, status="failed")
    assert dict(seen[0].url.params) == {"limit": "20", "offset": "20", "status": "failed"}
    assert [j.id for j in page.data] == ["a", "b"] and page.total == 45 and page.has_more


def test_base_url_with_v1_suffix_is_accepted() -> None:
    client = ApiClient("http://host:9/v1/", "k")
    assert client.base_url == "http://host:9"


def test_429_waits_retry_after_then_retries_with_the_same_idempotency_key() -> None:
    keys: list[str] = []
    answers = [
        error(429, "rate_limited", "slow down", {"Retry-After": "7"}),
        httpx.Response(202, json=job_json()),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        return answers.pop(0)

    sleeps: list[float] = []
    waits: list[tuple[str, float]] = []
    job = mock_client(handler, sleeps).generate({"style": "x"}, "idem-7", on_wait=lambda r, s: waits.append((r, s)))
    assert job.id == "gen_1"
    assert sleeps == [7.0]
    assert keys == ["idem-7", "idem-7"]
    assert waits and "rate limited" in waits[0][0] and waits[0][1] == 7.0


def test_retry_after_as_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None and 25 <= seconds <= 31
    assert parse_retry_after("nonsense") is None and parse_retry_after(None) is None


def test_5xx_is_retried_with_exponential_backoff() -> None:
    answers = [error(500, "server_error"), error(503, "server_error"), httpx.Response(200, json=job_json())]
    sleeps: list[float] = []
    job = mock_client(lambda _r: answers.pop(0), sleeps).job("gen_1")
    assert job.id == "gen_1" and sleeps == [1.0, 2.0]


def test_5xx_gives_up_after_the_policy_attempts() -> None:
    calls: list[int] = []

    def handler(_request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return error(502, "server_error", "upstream down")

    with pytest.raises(ApiError) as info:
        mock_client(handler, retry=RetryPolicy(attempts=3, backoff=0.5)).job("gen_1")
    assert len(calls) == 3 and info.value.status == 502
    assert "internal error" in str(info.value)


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, "unauthorized", "API key was not accepted"),
        (413, "image_too_large", "too large"),
        (422, "unsupported_image", "JPEG, PNG or WebP"),
        (400, "invalid_request", "refused the request"),
        (403, "forbidden", "Not allowed"),
    ],
)
def test_client_errors_are_not_retried_and_read_as_plain_words(status: int, code: str, words: str) -> None:
    calls: list[int] = []

    def handler(_request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return error(status, code, "detail from server")

    with pytest.raises(ApiError) as info:
        mock_client(handler).generate({}, "k")
    assert len(calls) == 1
    assert info.value.code == code and words in str(info.value) and "detail from server" in str(info.value)


def test_error_without_the_api_body_still_gets_a_code() -> None:
    with pytest.raises(ApiError) as info:
        mock_client(lambda _r: httpx.Response(404, text="<html>nope</html>")).job("x")
    assert info.value.code == "not_found"


def test_wrong_address_is_a_connection_failure_naming_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = mock_client(handler, retry=RetryPolicy(attempts=2))
    with pytest.raises(ConnectionFailed) as info:
        client.capabilities()
    assert "http://appliance.test" in str(info.value) and "connection was refused" in str(info.value)
    assert not isinstance(info.value, TlsFailed)


def test_certificate_failure_is_reported_as_tls_and_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        try:
            raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate")
        except ssl.SSLError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    with pytest.raises(TlsFailed) as info:
        mock_client(handler).capabilities()
    assert len(calls) == 1 and "certificate" in str(info.value)


def test_a_web_page_is_not_an_appliance() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>router login</html>", headers={"content-type": "text/html"})

    with pytest.raises(NotAnAppliance) as info:
        mock_client(handler).capabilities()
    assert "text/html" in str(info.value)


def test_downloads_of_signed_urls_send_no_authorization() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"\x89PNG...")

    data = mock_client(handler).download("http://cdn.test/files/x.png?expires=1&sig=2")
    assert data == b"\x89PNG..."
    assert "Authorization" not in seen[0].headers
    assert str(seen[0].url) == "http://cdn.test/files/x.png?expires=1&sig=2"


def test_cancel_posts_to_the_cancel_endpoint() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=job_json(status="failed", error={"code": "cancelled", "message": "x"}))

    job = mock_client(handler).cancel("gen_1")
    assert seen[0].method == "POST" and seen[0].url.path == "/v1/generate/gen_1/cancel"
    assert job.error is not None and job.error.code == "cancelled"


def test_close_interrupts_a_long_retry_after_wait() -> None:
    import threading
    import time

    from paqshot_desktop.client import ClientError

    def handler(_request: httpx.Request) -> httpx.Response:
        return error(429, "rate_limited", "later", {"Retry-After": "60"})

    client = ApiClient("http://appliance.test", "k", transport=httpx.MockTransport(handler))
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            client.job("x")
        except ClientError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    time.sleep(0.3)
    client.close()
    worker.join(10)
    assert not worker.is_alive()  # woke up at close instead of sleeping the 60 s the server asked for
    assert len(outcome) == 1 and "closed" in str(outcome[0])
