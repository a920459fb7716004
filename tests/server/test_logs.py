"""Logs carry request and job ids; the API echoes the request id."""

from __future__ import annotations

import io
import json
import logging

from litestar.testing import TestClient
from paqshot_server import logs
from support import Key


def test_json_lines_carry_job_and_request_ids() -> None:
    stream = io.StringIO()
    logs.setup_logging("INFO", "json")
    root = logging.getLogger()
    handler = root.handlers[0]
    handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        token = logs.job_id.set("gen_abc")
        logging.getLogger("paqshot_server.test").warning("hello %s", "world")
        logs.job_id.reset(token)
        line = json.loads(stream.getvalue().splitlines()[-1])
        assert line["msg"] == "hello world" and line["job_id"] == "gen_abc" and line["level"] == "WARNING"
        assert "request_id" not in line
    finally:
        root.handlers.clear()


def test_request_id_is_echoed_or_made(client: TestClient, key: Key) -> None:
    given = client.get("/v1/generations", headers={**key.headers, "X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"].startswith("req_")
