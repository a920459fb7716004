"""No unauthenticated endpoint answers 5xx, whatever the path or query string: bad signatures, malformed
percent-escapes, invalid UTF-8, huge or repeated parameters are 4xx (``/readyz``'s documented 503 aside).

Requests go to the ASGI app as raw bytes (an HTTP client would clean up a malformed URL before sending it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from paqshot_server.app import create_app
from paqshot_server.settings import Settings

FUTURE = b"expires=4102444800&sig="  # a link that has not expired: the signature is checked
PREFIXES = [b"/files/", b"/docs", b"/schema", b"/schema/", b"/metrics", b"/healthz", b"/readyz", b"/", b"/v1/"]
NASTY = [
    b"%",
    b"%ZZ",
    b"%ff%fe",
    b"%00",
    b"%2e%2e%2f",
    b"..",
    b"\xff",
    b"a" * 3000,
    b"=",
    b"&&",
    b"expires=-1",
    b"expires=1e999",
    b"sig=" + b"f" * 65,
    b"expires=99999999999999999999999999&sig=00",
    FUTURE + b"%C3%A9",  # a signature that is not ASCII: compared as bytes, not a 500
    FUTURE + b"\xc3\xa9",
    FUTURE + b"%ed%a0%80",  # a lone surrogate's UTF-8
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    return create_app(Settings(home=Path(tmp_path_factory.mktemp("unauth")) / "home"))


def call(app: Litestar, method: str, raw_path: bytes, query: bytes) -> tuple[int, bytes]:
    """One request straight into the ASGI app; returns (status, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: dict = {"body": b""}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return sent["status"], sent["body"]


def not_a_server_error(status: int, raw_path: bytes) -> bool:
    return status < 500 or (status == 503 and raw_path.startswith(b"/readyz"))  # readiness: no worker here


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("nasty", NASTY)
def test_known_nasty_paths_and_queries(app: Litestar, prefix: bytes, nasty: bytes) -> None:
    for method in ("GET", "HEAD", "OPTIONS", "POST"):
        for raw_path, query in ((prefix + nasty, b""), (prefix + b"a.jpg", nasty), (prefix, nasty)):
            status, body = call(app, method, raw_path, query)
            assert not_a_server_error(status, raw_path), (method, raw_path, query, status, body[:200])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    prefix=st.sampled_from(PREFIXES),
    tail=st.binary(max_size=40) | st.text(max_size=30).map(str.encode),
    query=st.binary(max_size=60) | st.sampled_from(NASTY) | st.binary(max_size=40).map(FUTURE.__add__),
    method=st.sampled_from(["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE"]),
)
def test_any_path_and_query(app: Litestar, prefix: bytes, tail: bytes, query: bytes, method: str) -> None:
    raw_path = prefix + tail.replace(b"?", b"%3F").replace(b"#", b"%23")
    status, body = call(app, method, raw_path, query)
    assert not_a_server_error(status, raw_path), (method, raw_path, query, status, body[:200])
