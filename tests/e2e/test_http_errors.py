"""A client's malformed requests against a real ``paqshot serve`` on loopback, sent byte for byte: every answer is
the spec's ``{"error", "message"}`` with a 4xx, and no message carries a control character raw (breaker, session
2: a NUL in the path came back in the message; a 100 KB path got uvicorn's plain-text 400)."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_support import Appliance

pytestmark = pytest.mark.e2e

HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _serve(tmp_path_factory: pytest.TempPathFactory, **settings: str) -> Iterator[tuple[Appliance, str]]:
    home = tmp_path_factory.mktemp("http-errors") / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAQSHOT_")},
        "PAQSHOT_HOME": str(home),
        "PAQSHOT_INSTALL_MODELS_DIR": "",
        "PAQSHOT_LOG_LEVEL": "WARNING",
        **{f"PAQSHOT_{name.upper()}": value for name, value in settings.items()},
    }
    app = Appliance(home=Path(home), env=env)
    app.start("--no-worker")
    try:
        yield app, app.create_key()["key"]
    finally:
        app.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Appliance, str]]:
    yield from _serve(tmp_path_factory)


HEAD_SECONDS = BODY_IDLE_SECONDS = 1.5  # short deadlines, so that the tests pass them in a few seconds
BODY_MIN_RATE = 10  # bytes/s: the slow body below averages ~30 B/s, the trickle ~1.3 B/s


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Appliance, str]]:
    yield from _serve(
        tmp_path_factory,
        head_timeout_seconds=str(HEAD_SECONDS),
        body_idle_seconds=str(BODY_IDLE_SECONDS),
        body_min_rate=str(BODY_MIN_RATE),
    )


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is on a new connection; (status, headers, body) of the answer, read until close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)  # all of it, even when refused early: the server reads and drops the rest
        return parse(read_to_close(sock))


def parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


def read_to_close(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def spec_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, str]:
    assert 400 <= status < 500, (status, body[:300])
    assert headers["content-type"].startswith("application/json"), headers
    answer = json.loads(body)
    assert set(answer) == {"error", "message"} and answer["message"], answer
    hidden = [ch for ch in answer["message"] if unicodedata.category(ch) in HIDDEN]
    assert not hidden, f"raw control characters {hidden!r} in {answer['message']!r}"
    return answer


def request(method: str, target: str, key: str | None = None, body: bytes = b"", extra: bytes = b"") -> bytes:
    auth = f"Authorization: Bearer {key}\r\n".encode() if key else b""
    length = f"Content-Length: {len(body)}\r\n".encode() if body else b""
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
    return head + auth + length + extra + b"\r\n" + body


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        ("GET", "/v1/generate/gen_a%00b", b""),
        ("GET", "/v1/generate/a%1b%5b31mred", b""),
        ("GET", "/v1/generate/%E2%80%AEgpj.exe", b""),  # right-to-left override
        ("GET", "/v1/generate/a%C2%85b%E2%80%A8c", b""),  # NEL, line separator
        ("DELETE", "/v1/generate/a%00b", b""),
        ("POST", "/v1/generate/a%00b/cancel", b"{}"),
        ("POST", "/v1/generate/a%00b/rerun", b"{}"),
        ("POST", "/v1/generate/a%00b/priority", b'{"priority": "high"}'),
        ("GET", "/v1/webhooks/a%00b", b""),
        ("GET", "/v1/backdrops/a%00b", b""),
        ("DELETE", "/v1/backdrops/a%00b", b""),
        ("GET", "/v1/generations?a%00b=1", b""),
        ("GET", "/no/such%00/path", b""),
        ("PUT", "/v1/generate/a%00b", b""),
        ("POST", "/v1/generate", b'{"style": "studio_packshot", "product_image": "x", "filename": "a\\u0000b"}'),
        ("POST", "/v1/generate", b'{"style": "studio\\u0000packshot", "product_image": "x"}'),
    ],
)
def test_no_message_carries_a_control_character_raw(
    served: tuple[Appliance, str], method: str, target: str, body: bytes
) -> None:
    app, key = served
    answer = spec_error(*exchange(app.port, request(method, target, key, body)))
    if "/generate/gen_a%00b" in target:
        assert answer["error"] == "not_found"  # the id not echoed; when records go is said (record_retention_days)
        assert answer["message"].startswith("Generation with that id not found (records are deleted"), answer


def test_a_url_over_the_parsers_limit_gets_a_414_in_the_spec_shape(served: tuple[Appliance, str]) -> None:
    app, key = served
    for size in (70_000, 100_000, 2_000_000):  # in one chunk and in many
        status, headers, body = exchange(app.port, request("GET", "/v1/generate/" + "a" * size, key))
        assert status == 414 and spec_error(status, headers, body)["error"] == "invalid_request"


def test_headers_are_bounded_and_refused_with_a_431(served: tuple[Appliance, str]) -> None:
    app, key = served
    status, headers, body = exchange(
        app.port, request("GET", "/v1/generations", key, extra=b"X-Big: " + b"a" * 5_000_000 + b"\r\n")
    )
    assert status == 431 and "headers" in spec_error(status, headers, body)["message"]
    ok = exchange(app.port, request("GET", "/v1/generations", key, extra=b"X-Fine: " + b"a" * 8000 + b"\r\n"))
    assert ok[0] == 200  # ordinary headers, even long ones, still pass
    image = b"A" * 3_000_000  # base64 of zeros: not an image; the body's reads are never counted as a head's
    big = exchange(
        app.port, request("POST", "/v1/generate", key, b'{"style":"studio_packshot","product_image":"%s"}' % image)
    )
    assert big[0] == 422 and spec_error(*big)["error"] == "unsupported_image"


def test_a_websocket_upgrade_is_answered_as_plain_http(served: tuple[Appliance, str]) -> None:
    """The API has no WebSocket: an Upgrade header is ignored (it got the websockets library's plain-text 400), and
    the log does not tell the operator to install a WebSocket library (uvicorn's warning, on every such request)."""
    app, key = served
    upgrade = b"Connection: Upgrade\r\nUpgrade: websocket\r\n"
    status, headers, body = exchange(app.port, request("GET", "/v1/generations", extra=upgrade))
    assert status == 401 and spec_error(status, headers, body)["error"] == "unauthorized"
    assert exchange(app.port, request("GET", "/v1/generations", key, extra=upgrade))[0] == 200
    assert app.log_path is not None and "WebSocket library" not in app.log_path.read_text()


def test_unknown_paths_and_methods_say_what_to_do(served: tuple[Appliance, str]) -> None:
    app, key = served
    missing = spec_error(*exchange(app.port, request("GET", "/v1/generation", key)))
    assert missing["error"] == "not_found" and "/docs" in missing["message"]
    status, headers, body = exchange(app.port, request("PUT", "/v1/generations", key))
    assert status == 405 and sorted(headers["allow"].split(", ")) == ["GET", "OPTIONS"]
    message = spec_error(status, headers, body)["message"]
    assert message.startswith("PUT is not allowed") and message.endswith(f"it takes {headers['allow']}.")


def test_a_client_gone_before_its_body_ended_is_not_counted_as_a_server_error(served: tuple[Appliance, str]) -> None:
    """Counted and logged as the client's doing (it was a 500 in /metrics and an ERROR in the log)."""
    app, key = served
    counted = re.compile(r'_total\{method="POST",route="/v1/generate",status="(\d+)"\} (\d+)')

    def statuses() -> dict[str, int]:
        return {s: int(n) for s, n in counted.findall(httpx.get(f"{app.url}/metrics", timeout=10).text)}

    before = statuses()
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
            sock.sendall(request("POST", "/v1/generate", key, extra=b"Content-Length: 1000\r\n") + b'{"st')
    deadline = time.monotonic() + 10
    while sum(statuses().values()) < sum(before.values()) + 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # each is recorded once the server has seen its close
    assert statuses() == {**before, "400": before.get("400", 0) + 3}
    assert app.log_path is not None and " ERROR " not in app.log_path.read_text()


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /v1/generations HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n",  # a space in a header name
        b"GET /v1/gen\x00erations HTTP/1.1\r\nHost: x\r\n\r\n",  # a raw NUL in the path
        b"GET /v1/generations HTTP/9.9\r\nHost: x\r\n\r\n",
        b"G\x01T /v1/generations HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n",  # refused in uvicorn's callback, whose error quotes the URL
    ],
)
def test_a_request_the_parser_refuses_gets_a_400_in_the_spec_shape(served: tuple[Appliance, str], raw: bytes) -> None:
    app, _ = served
    status, headers, body = exchange(app.port, raw)
    answer = spec_error(status, headers, body)
    assert status == 400 and answer["error"] == "invalid_request" and "[::1" not in answer["message"]


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One answer (with a Content-Length) from a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or pytest.fail(f"closed after {data!r}")
    status, headers, body = parse(data)
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536) or pytest.fail(f"closed after {data!r}")
    return status, headers, body


def dribble(sock: socket.socket, data: bytes, gap: float, size: int = 4) -> bool:
    """Send ``data`` ``size`` bytes at a time, ``gap`` seconds apart; True when the server answered before the end."""
    for piece in (data[i : i + size] for i in range(0, len(data), size)):
        if select.select([sock], [], [], gap)[0]:
            return True
        sock.sendall(piece)
    return False


def test_a_head_dribbled_past_its_deadline_gets_a_408_and_the_connection_closes(
    impatient: tuple[Appliance, str],
) -> None:
    """Slowloris: uvicorn set no deadline for a head, so a client sending one a byte at a time held a connection
    (and a file descriptor) for ever."""
    app, key = impatient
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        endless = request("GET", "/v1/generations", key, extra=b"X-Slow: " + b"a" * 10_000)
        assert dribble(sock, endless, gap=0.05), "the server never answered a head dribbled for 2 minutes"
        status, headers, body = parse(read_to_close(sock))  # then the server closes
    assert status == 408 and headers["connection"] == "close"
    assert "did not all arrive" in spec_error(status, headers, body)["message"]


def test_a_slow_head_within_its_deadline_is_served(impatient: tuple[Appliance, str]) -> None:
    app, key = impatient
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        whole = request("GET", "/v1/generations", key)
        assert not dribble(sock, whole, gap=HEAD_SECONDS / 16, size=len(whole) // 8 + 1)  # half the deadline
        assert read_answer(sock)[0] == 200


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(impatient: tuple[Appliance, str]) -> None:
    app, _ = impatient
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        assert read_to_close(sock) == b""


def test_a_keep_alive_connection_idle_between_requests_follows_uvicorns_keep_alive_rule(
    impatient: tuple[Appliance, str],
) -> None:
    """The head deadline starts at a head's first byte: a connection idle after an answer longer than it is still
    served, and is closed (without an answer) by uvicorn's keep-alive timeout (5 s) only."""
    app, key = impatient
    poll = request("GET", "/v1/generations", key).replace(b"Connection: close\r\n", b"")
    with socket.create_connection(("127.0.0.1", app.port), timeout=15) as sock:
        sock.sendall(poll)
        assert read_answer(sock)[0] == 200
        time.sleep(HEAD_SECONDS + 1)
        sock.sendall(poll)
        assert read_answer(sock)[0] == 200
        assert read_to_close(sock) == b""


def test_a_body_silent_past_its_deadline_gets_a_408_and_a_slow_one_is_served(
    impatient: tuple[Appliance, str],
) -> None:
    """uvicorn bounds no silence in a body either: a client that stopped mid-body held its connection for ever."""
    app, key = impatient
    body = b'{"style": "studio_packshot", "product_image": "' + b"A" * 40 + b'"}'
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        sock.sendall(request("POST", "/v1/generate", key, body)[:-10])
        status, headers, answer = parse(read_to_close(sock))
    assert status == 408 and "body stopped arriving" in spec_error(status, headers, answer)["message"]
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        # a read every third of the deadline, the body over twice the deadline: its silences count, not its length
        whole = request("POST", "/v1/generate", key, body)
        head_end = whole.index(b"\r\n\r\n") + 4
        sock.sendall(whole[:head_end])
        rest = whole[head_end:]
        assert not dribble(sock, rest, gap=BODY_IDLE_SECONDS / 3, size=len(rest) // 6 + 1)
        status, headers, answer = parse(read_to_close(sock))
    assert status == 422 and spec_error(status, headers, answer)["error"] == "unsupported_image"


@pytest.mark.parametrize("authorised", [True, False], ids=["key", "no-key"])
def test_a_body_trickled_under_the_minimum_rate_gets_a_408_and_the_connection_closes(
    impatient: tuple[Appliance, str], authorised: bool
) -> None:
    """breaker14 B14-1 (R-U-Dead-Yet): a byte every half of the silence deadline was never cut, and 1,100 such
    connections (no key needed: the body is read before the 401) took every file descriptor of the API."""
    app, key = impatient
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        head = request("POST", "/v1/generate", key if authorised else None, extra=b"Content-Length: 1000000\r\n")
        sock.sendall(head)
        # the grace, then 1 s more per BODY_MIN_RATE bytes: a 1.3 B/s trickle is cut within ~2 s; 15 s on main
        assert dribble(sock, b"A" * 20, gap=BODY_IDLE_SECONDS / 2, size=1), "a trickled body was never cut"
        status, headers, answer = parse(read_to_close(sock))  # then the server closes
    assert status == 408 and headers["connection"] == "close"
    assert "normal speed" in spec_error(status, headers, answer)["message"]


def test_a_request_pipelined_behind_an_upgrade_request_is_answered(served: tuple[Appliance, str]) -> None:
    """httptools ends a read's parse at an upgrade request (uvicorn left the rest unread with ws="none")."""
    app, key = served
    upgrade = request("GET", "/v1/generations", key, extra=b"Upgrade: websocket\r\n")
    upgrade = upgrade.replace(b"Connection: close", b"Connection: Upgrade")
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        sock.sendall(upgrade * 3 + request("GET", "/v1/generations", key))  # in one write
        answers = read_to_close(sock)
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 4, answers[:300]


def test_an_upgrade_request_with_a_body_is_refused_not_read_without_it(served: tuple[Appliance, str]) -> None:
    """httptools skips an upgrade request's body (it belongs to the upgraded protocol): the app saw an empty body,
    and the body's bytes were parsed as the next request."""
    app, key = served
    body = b'{"style": "studio_packshot", "product_image": "AAAA"}'
    upgrade = request("POST", "/v1/generate", key, body, extra=b"Upgrade: h2c\r\n")
    status, headers, answer = exchange(app.port, upgrade.replace(b"Connection: close", b"Connection: Upgrade"))
    message = spec_error(status, headers, answer)["message"]
    assert status == 400 and "Upgrade" in message
    assert "--http1.1" in message  # curl sends Upgrade: h2c by itself for --http2 over http://: the user never wrote it


@pytest.mark.parametrize(
    "bad",
    [
        b"G\x01T /v1/generations HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\n{}",
    ],
    ids=["not HTTP", "an upgrade request with a body"],
)
def test_a_refused_request_is_answered_after_the_requests_before_it(served: tuple[Appliance, str], bad: bytes) -> None:
    """A refusal was written at once, ahead of the answers still due to the requests pipelined before it: the client
    read the 400 as the answer to its first request, whose real answer was lost."""
    app, key = served
    poll = request("GET", "/v1/generations", key).replace(b"Connection: close\r\n", b"")
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        sock.sendall(poll + poll + bad)  # in one write
        answers = read_to_close(sock)
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", answers)]
    assert statuses == [200, 200, 400], answers[:600]


@pytest.mark.parametrize(
    "broken",
    [
        b"zz\r\n",  # a chunk size that is not hex
        b'5\r\n{"a":XX',  # a chunk's data not followed by CRLF
        b'5;\x01\r\n{"a":\r\n',  # a control character in a chunk extension
        b'5\r\n{"a":\r\nzz\r\n',  # a good chunk, then a bad size
    ],
    ids=["size", "terminator", "extension", "second-chunk"],
)
@pytest.mark.parametrize("authorised", [True, False], ids=["key", "no-key"])
def test_a_broken_chunked_body_is_answered_at_once(
    served: tuple[Appliance, str], broken: bytes, authorised: bool
) -> None:
    # breaker8 F2: the 400 waited for the answer of the very request whose body was broken, which waited for its
    # body: nothing came back, and the connection (no key needed) was held for good.
    app, key = served
    head = request(
        "POST",
        "/v1/generate",
        key if authorised else None,
        extra=b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        sock.sendall(head + broken)  # and nothing more: the client waits for the answer
        status, headers, body = parse(read_to_close(sock))
    assert time.monotonic() - started < 5
    assert status == 400 and "chunk" in spec_error(status, headers, body)["message"].lower(), body


CONNECTION_CAP = 3


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Appliance, str]]:
    yield from _serve(tmp_path_factory, max_connections_per_client=str(CONNECTION_CAP))


def test_a_client_over_its_connection_cap_gets_a_429_and_is_served_again_once_one_closes(
    capped: tuple[Appliance, str],
) -> None:
    """breaker14 B14-1: one address could open connections until the API ran out of file descriptors; every
    other client was then refused at the socket."""
    app, key = capped
    poll = request("GET", "/v1/generations", key).replace(b"Connection: close\r\n", b"")
    held = [socket.create_connection(("127.0.0.1", app.port), timeout=10) for _ in range(CONNECTION_CAP)]
    try:
        status, headers, body = exchange(app.port, request("GET", "/v1/generations", key))
        assert status == 429 and headers["retry-after"] == "20" and headers["connection"] == "close"
        assert json.loads(body)["error"] == "rate_limited" and "connections open" in json.loads(body)["message"]
        held[0].sendall(poll)  # the connections within the cap are served as usual
        assert read_answer(held[0])[0] == 200
        held.pop().close()
        deadline = time.monotonic() + 5  # the server counts the close when its event loop sees it
        while (status := exchange(app.port, request("GET", "/v1/generations", key))[0]) == 429:
            assert time.monotonic() < deadline, "a closed connection's place was never given back"
            time.sleep(0.05)
        assert status == 200
    finally:
        for sock in held:
            sock.close()
