"""Bearer-key authentication, as a dependency that yields the caller's key."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency

from ..errors import Unauthorized
from ..storage import keys as keys_sql
from ..storage.keys import ApiKey
from .state import ApiState


def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer <token>`` (the first such header), or 401.

    Read from the ASGI scope's raw headers (name in any case, value as latin-1, as Litestar's own mapping reads them):
    the poll's hot path does not need Litestar's header mapping built."""
    value = next((v for k, v in request.scope["headers"] if k.lower() == b"authorization"), b"").decode("latin-1")
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
