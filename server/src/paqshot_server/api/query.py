"""Query strings of list endpoints: a parameter the operation does not declare is refused with 400, so a client
that tries a cursor or filter this API lacks learns it at once instead of silently getting page 1 again."""

from __future__ import annotations

from litestar import Request

from ..errors import InvalidRequest
from .explain import either
from .openapi import operation_of, served_schema


async def strict_query(request: Request) -> None:
    """``before_request`` hook: 400 ``invalid_request`` naming the unknown parameter and the declared ones."""
    operation = operation_of(served_schema(request.app), request.route_handler.operation_id) or {}
    declared = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
    unknown = sorted(set(request.query_params) - set(declared))
    if unknown:
        names = ", ".join(unknown)
        takes = f"it takes {either(declared)}" if declared else "it takes none"
        raise InvalidRequest(f"Unknown query parameter {names} for this list; {takes}.")
