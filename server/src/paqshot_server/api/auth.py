"""Bearer-key authentication, as a dependency that yields the caller's key."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency

from ..errors import InvalidRequest, Unauthorized
from ..storage import keys as keys_sql
from ..storage.keys import ApiKey
from .state import ApiState


def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer <token>``, or 401; 400 when the header is sent more than once.

    Read from the ASGI scope's raw headers (name in any case, value as latin-1, as Litestar's own mapping reads them):
    the poll's hot path does not need Litestar's header mapping built.

    Raises:
        InvalidRequest: ``Authorization`` appears twice or more (which one a proxy or this server reads is anyone's
            guess: breaker12 B12-8, the first was used silently).
        Unauthorized: no bearer token.
    """
    values = [v for k, v in request.scope["headers"] if k.lower() == b"authorization"]
    if len(values) > 1:
        raise InvalidRequest(
            "The Authorization header is sent more than once; send it once, with the one API key of this request."
        )
    value = values[0].decode("latin-1") if values else ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing API key: send 'Authorization: Bearer <key>'.")
    return token.strip()


def current_key(request: Request, api: NamedDependency[ApiState]) -> ApiKey:
    """The active key of this request, or 401. A revoked or new key takes effect on the next request.

    Runs on the event loop: one indexed read on a WAL database (readers never wait for writers).
    """
    key = keys_sql.find_active(api.db.get(), bearer_token(request))
    if key is None:
        raise Unauthorized("Invalid or revoked API key.")
    return key
