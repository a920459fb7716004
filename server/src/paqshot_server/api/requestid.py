"""Every request gets an id (the caller's ``X-Request-ID`` when sane, else a new one): in logs and echoed back."""

from __future__ import annotations

import os
import re

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from .. import logs

_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = given if _SANE.match(given) else "req_" + os.urandom(8).hex()  # cheap: no ULID per request
        token = logs.request_id.set(rid)

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await app(scope, receive, tagged)
        finally:
            logs.request_id.reset(token)

    return wrapped
