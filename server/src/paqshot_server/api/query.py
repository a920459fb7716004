"""Query strings of list endpoints: a parameter the operation does not declare is refused with 400, so a client
that tries a cursor or filter this API lacks learns it at once instead of silently getting page 1 again."""

from __future__ import annotations

from litestar import Request

from ..errors import InvalidRequest
from .explain import allowed, either
from .openapi import operation_of, served_schema


async def strict_query(request: Request) -> None:
    """``before_request`` hook: 400 ``invalid_request`` naming an unknown parameter (and the declared ones), or a
    single-valued parameter given more than once."""
    operation = operation_of(served_schema(request.app), request.route_handler.operation_id) or {}
    params = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
    unknown = sorted(set(request.query_params) - set(params))
    if unknown:
        names = ", ".join(unknown)
        takes = f"it takes {either(list(params))}" if params else "it takes none"
        raise InvalidRequest(f"Unknown query parameter {names} for this list; {takes}.")
    components = served_schema(request.app).get("components", {}).get("schemas", {})
    for name, values in request.query_params.dict().items():
        schema = params[name].get("schema", {})
        if len(values) > 1 and schema.get("type") != "array":
            raise InvalidRequest(f"The query parameter {name} is given {len(values)} times; send it once.")
        # Litestar reads "null" as "not given" for an optional parameter; only free text may be that word.
        if "null" in values and ("enum" in schema or schema.get("type") in ("integer", "number", "boolean")):
            raise InvalidRequest(
                f"The query parameter {name} must be {allowed(schema, components)}; leave it out for no filter."
            )
