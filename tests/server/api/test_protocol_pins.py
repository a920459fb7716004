"""What ``api.protocol`` relies on of uvicorn's (and httptools') internals, each pinned by the behaviour built on
it: if an upgrade renames or moves one, a test here fails (the e2e tests in ``tests/e2e/test_http_errors.py`` check
the same behaviours against ``paqshot serve``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from litestar import Request
from litestar.exceptions import InternalServerException
from paqshot_server.api.errors import BODY_TIMED_OUT, http_handler
from paqshot_server.api.protocol import SpecErrorsProtocol
from protocol_support import Transport, no_content
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

SHORT = 0.05  # deadlines of the protocol under test, in seconds
POLL = b"GET /v1/generations HTTP/1.1\r\nHost: a\r\n\r\n"


async def _open(app: Any = no_content) -> tuple[SpecErrorsProtocol, Transport]:
    protocol_class = SpecErrorsProtocol.with_deadlines(SHORT, SHORT)
    config = Config(app=app, http=protocol_class, ws="none", lifespan="off", log_level="warning")
    config.load()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


async def _turns(count: int = 20) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def test_the_internals_relied_on_exist() -> None:
    """The names the subclass overrides, extends or reads (a rename would silently turn an override off)."""
    for method in (
        "connection_made",
        "connection_lost",
        "data_received",
        "send_400_response",  # called in uvicorn's `except httptools.HttpParserError`
        "_unsupported_upgrade_warning",  # called in its `except httptools.HttpParserUpgrade`
        "on_message_begin",
        "on_headers_complete",
        "on_body",  # counts a body's bytes for its minimum rate
        "on_message_complete",
        "on_response_complete",  # the cycle's on_response: a refusal waits for the answers due before it
    ):
        assert callable(getattr(HttpToolsProtocol, method, None)), method
    cycle = RequestResponseCycle.__init__.__code__.co_names
    for name in (
        "disconnected",
        "message_event",
        "waiting_for_100_continue",
        "response_started",
        "response_complete",
        "transport",  # replaced by one that writes a response's head with its body
        "on_response",  # wrapped: a held head is written before the next request's answer
    ):
        assert name in cycle, name
    assert "read_paused" in FlowControl.__init__.__code__.co_names
    assert {"pipeline", "cycle"} <= set(HttpToolsProtocol.__init__.__code__.co_names)
    assert all(code in STATUS_LINE for code in (400, 408, 414, 431))


def test_a_parser_error_is_answered_through_send_400_response() -> None:
    async def run() -> Transport:
        protocol, transport = await _open()
        protocol.data_received(b"G\x01T / HTTP/1.1\r\n\r\n")
        return transport

    transport = asyncio.run(run())
    assert transport.written.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in transport.written


def test_a_refusal_is_written_after_the_answers_due_before_it() -> None:
    async def run() -> bytes:
        protocol, transport = await _open()
        protocol.data_received(POLL + POLL + b"G\x01T / HTTP/1.1\r\n\r\n")
        await _turns(100)
        return transport.written

    written = asyncio.run(run())
    assert [line[:12] for line in written.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")] == [
        b"HTTP/1.1 204",
        b"HTTP/1.1 204",
        b"HTTP/1.1 400",
    ], written


def test_the_upgrade_warning_is_called_with_the_parsers_offset_so_pipelined_requests_are_answered() -> None:
    seen: list[str] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await no_content(scope, receive, send)

    async def run() -> bytes:
        protocol, transport = await _open(app)
        upgrade = b"GET /u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        protocol.data_received(upgrade + upgrade + POLL)
        for _ in range(100):
            if len(seen) == 3 and not protocol.pipeline and protocol.cycle.response_complete:
                break
            await asyncio.sleep(0)
        return transport.written

    assert asyncio.run(run()).count(b"HTTP/1.1 204") == 3
    assert seen == ["/u", "/u", "/v1/generations"]


def test_a_head_past_its_deadline_is_answered_408_and_a_silent_connection_closed() -> None:
    async def run(reads: list[bytes]) -> Transport:
        protocol, transport = await _open()
        for data in reads:
            protocol.data_received(data)
        await asyncio.sleep(SHORT * 4)
        return transport

    dribbled = asyncio.run(run([b"GET /v1/gen"]))
    assert dribbled.written.startswith(b"HTTP/1.1 408 ")
    silent = asyncio.run(run([]))
    assert silent.closed and silent.written == b""


def test_a_body_silent_past_its_deadline_ends_the_apps_wait_with_a_disconnect() -> None:
    received: list[dict] = []
    scopes: list[dict] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        scopes.append(scope)
        while True:
            received.append(await receive())
            if not received[-1].get("more_body"):
                return

    async def run() -> bytes:
        protocol, transport = await _open(app)
        protocol.data_received(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345")
        await asyncio.sleep(SHORT * 4)
        await _turns()
        return transport.written

    assert asyncio.run(run()).startswith(b"HTTP/1.1 408 ")
    assert received[-1] == {"type": "http.disconnect"}
    assert scopes[0][BODY_TIMED_OUT] == f"nothing for {SHORT:g} s"  # the server's doing: logged as such


def test_a_body_trickled_under_the_minimum_rate_is_answered_408_though_never_silent_for_long() -> None:
    """breaker14 B14-1: a byte every half of the silence deadline held a connection for ever (no key needed)."""

    async def run() -> bytes:
        protocol, transport = await _open(consume_body)
        protocol.data_received(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(40):  # 1 s in all: twenty times the grace, and never SHORT without a byte
            if transport.written:
                break
            protocol.data_received(b"1")
            await asyncio.sleep(SHORT / 2)
        return transport.written

    written = asyncio.run(run())
    assert written.startswith(b"HTTP/1.1 408 ") and b"too slowly" in written, written[:300]


def test_a_client_over_its_connection_cap_is_answered_429_with_retry_after_until_one_closes() -> None:
    """breaker14 B14-1: nothing bounded one client's open connections below the process's file limit."""

    async def run() -> tuple[list[Transport], Transport]:
        protocol_class = SpecErrorsProtocol.with_deadlines(SHORT, SHORT, max_connections_per_client=2)
        config = Config(app=no_content, http=protocol_class, ws="none", lifespan="off", log_level="warning")
        config.load()
        opened = []
        for _ in range(3):  # Transport's peer is always 127.0.0.1
            protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
            protocol.connection_made(transport := Transport())
            opened.append((protocol, transport))
        opened[0][0].connection_lost(None)  # one of the two held closes: room for one more
        again = protocol_class(config=config, server_state=ServerState(), app_state={})
        again.connection_made(fourth := Transport())
        again.data_received(POLL)
        await _turns()
        return [t for _, t in opened], fourth

    (first, second, third), fourth = asyncio.run(run())
    assert first.written == second.written == b""  # within the cap: served as usual
    assert third.written.startswith(b"HTTP/1.1 429 ") and b"retry-after: 20\r\n" in third.written
    assert b'"error":"rate_limited"' in third.written
    assert fourth.written.startswith(b"HTTP/1.1 204 ")


async def consume_body(scope: dict, receive: Any, send: Any) -> None:
    """An app that reads the whole body, then answers 204."""
    while (await receive()).get("more_body"):
        pass
    await no_content(scope, receive, send)


def test_a_body_timed_out_is_logged_as_such_not_as_the_client_closing(caplog: pytest.LogCaptureFixture) -> None:
    # breaker, session 4: the 408 was logged as "the client closed the connection before its body was all sent"
    scope = {"type": "http", "method": "POST", "path": "/v1/generate", "headers": []}
    gone = InternalServerException(detail="client disconnected prematurely")  # what Litestar raises on the disconnect
    with caplog.at_level(logging.INFO, logger="paqshot_server.api.errors"):
        http_handler(Request({**scope, BODY_TIMED_OUT: "nothing for 20 s"}), gone, 10_000_000)  # type: ignore[arg-type]
        http_handler(Request(scope), gone, 10_000_000)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [
        "a POST request's body was cut off (nothing for 20 s): answered 408",
        "a POST request's client closed the connection before its body was all sent",
    ]


def test_a_body_the_app_has_not_asked_for_yet_is_not_timed() -> None:
    """``Expect: 100-continue``: the client waits for uvicorn's `100 Continue`, sent when the app first reads."""

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await asyncio.sleep(SHORT * 4)  # longer than the body's deadline, before reading the body
        await no_content(scope, receive, send)

    async def run() -> bytes:
        protocol, transport = await _open(app)
        head = b"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
        protocol.data_received(head)
        while b"100 Continue" not in transport.written:
            await asyncio.sleep(SHORT / 5)
        protocol.data_received(b"abc")
        await _turns()
        return transport.written

    written = asyncio.run(run())
    assert written.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 "), written


def test_between_requests_uvicorns_keep_alive_timer_runs_and_no_head_deadline() -> None:
    async def run() -> tuple[bool, bool]:
        protocol, _ = await _open()
        protocol.data_received(POLL)
        await _turns()
        return protocol.timeout_keep_alive_task is not None, protocol._deadline is None

    assert asyncio.run(run()) == (True, True)
