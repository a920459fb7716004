"""The head bound of ``api.protocol`` counts heads only: a large body is never taken for a head."""

from __future__ import annotations

import asyncio
from typing import Any

from paqshot_server.api.protocol import MAX_HEAD_BYTES, SpecErrorsProtocol
from protocol_support import Transport, no_content
from uvicorn.config import Config
from uvicorn.server import ServerState


def test_a_body_whose_last_chunk_is_larger_than_a_head_may_be_is_not_refused() -> None:
    # door, session 3: a 1 MB POST whose last read (uvicorn reads up to 256 kB) held the body's end got a 431
    async def post() -> bytes:
        config = Config(app=no_content, http=SpecErrorsProtocol, lifespan="off", log_level="warning")
        config.load()
        protocol = SpecErrorsProtocol(config=config, server_state=ServerState(), app_state={})
        transport = Transport()
        protocol.connection_made(transport)
        body = b"x" * 1_000_000
        request = b"POST /v1/generate HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        last = MAX_HEAD_BYTES + 50_000
        for chunk in (request[:1000], request[1000:-last], request[-last:]):
            protocol.data_received(chunk)
            await asyncio.sleep(0)
        for _ in range(20):
            await asyncio.sleep(0)
        return transport.written

    written = asyncio.run(post())
    assert written.startswith(b"HTTP/1.1 204"), written[:80]
    assert b"431" not in written


async def _feed(reads: list[bytes]) -> tuple[bytes, int]:
    """What the protocol answers to ``reads`` (one ``data_received`` each), and how many requests the app saw."""
    seen = 0

    async def app(scope: dict, receive: Any, send: Any) -> None:
        nonlocal seen
        seen += 1
        await no_content(scope, receive, send)

    config = Config(app=app, http=SpecErrorsProtocol, lifespan="off", log_level="warning")
    config.load()
    protocol = SpecErrorsProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    for data in reads:
        protocol.data_received(data)
        for _ in range(5):
            await asyncio.sleep(0)
    for _ in range(100_000):  # pipelined requests are served one after another, a few loop turns each
        if transport.closed or not (protocol.pipeline or (protocol.cycle and not protocol.cycle.response_complete)):
            break
        await asyncio.sleep(0)
    return transport.written, seen


def test_a_whole_request_in_one_read_is_answered_by_the_app_not_refused() -> None:
    # breaker, session 3: a 150 kB POST that arrived in one read (a warm keep-alive connection) reached the app,
    # then the read was counted as a head and the client got a 431 for a job that had been created
    body = b"x" * 150_000
    request = b"POST /v1/generate HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    written, seen = asyncio.run(_feed([request]))
    assert seen == 1
    assert written.startswith(b"HTTP/1.1 204"), written[:80]
    assert b"431" not in written


def test_pipelined_requests_in_one_read_are_all_answered() -> None:
    poll = b"GET /v1/generate/gen_x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer pk_live_" + b"x" * 24 + b"\r\n\r\n"
    count = MAX_HEAD_BYTES // len(poll) + 100  # more bytes in one read than a head may have
    written, seen = asyncio.run(_feed([poll * count]))
    assert seen == count
    assert written.count(b"HTTP/1.1 204") == count
    assert b"431" not in written


def test_a_head_that_grows_over_several_reads_is_still_refused() -> None:
    head = b"GET /v1/capabilities HTTP/1.1\r\nHost: a\r\nX-Big: "
    filler = b"a" * 32_768
    written, seen = asyncio.run(_feed([head, *[filler] * (MAX_HEAD_BYTES // len(filler) + 2)]))
    assert seen == 0
    assert written.startswith(b"HTTP/1.1 431"), written[:80]
