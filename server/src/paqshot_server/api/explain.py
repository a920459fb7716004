"""Validation errors in words: what was wrong and what is allowed, for every field of every operation.

The words come from the served OpenAPI document (``api.openapi.served_schema``), which states exactly what the
validator accepts: enums are listed, ranges and lengths spelled out, patterns replaced by the words registered
beside them (``api.request_bodies.PATTERN_WORDS``). The parser's own text (regexes, type names, ``$.data`` paths) never
reaches a client, nor a user of the CLI's catalogue (:func:`conversion_message`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from ..words import counted
from .openapi import operation_of, param_name, served_schema
from .request_bodies import PATTERN_WORDS

_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_PARAM = re.compile(r"Missing required (\w+) parameter '([^']+)'")
_GOT_NULL = "got `null`"  # msgspec: "Expected `str`, got `null`"
_LOCATIONS = {"query": "query parameter", "header": "header", "path": "path parameter", "cookie": "cookie"}


def either(values: list[str]) -> str:
    """``a, b or c``."""
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else (values[0] if values else "")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _range(schema: dict[str, Any], unit: str = "") -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"from {_number(low)} to {_number(high)}{unit}"
    if low is not None:
        return f"of at least {_number(low)}{unit}"
    if high is not None:
        return f"of at most {_number(high)}{unit}"
    return ""


def _length(schema: dict[str, Any]) -> str:
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low and high is not None:
        return f"{low} to {counted(high, 'character')} long"
    if high is not None:
        return f"at most {counted(high, 'character')} long"
    if low:
        return f"at least {counted(low, 'character')} long"
    return ""


def allowed(schema: dict[str, Any], components: dict[str, Any]) -> str:
    """What a value of ``schema`` may be, as a phrase ("1:1, 4:3 or 16:9", "a whole number from 1 to 100")."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        # The shared bounds of Litestar's style ({"oneOf": [...], "maxLength": 9}) apply to each variant.
        shared = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf", "description", "default", "title")}
        phrases = [allowed({**shared, **v}, components) for v in variants if v.get("type") != "null"]
        return ", or ".join(p for p in phrases if p)
    if "enum" in schema:
        return either([str(v) for v in schema["enum"] if v is not None])
    if "const" in schema:
        return str(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string":
        words = PATTERN_WORDS.get(schema["pattern"], "text in the documented form") if "pattern" in schema else "text"
        length = _length(schema)
        return f"{words}, {length}" if length else words
    if kind == "integer":
        return " ".join(filter(None, ("a whole number", _range(schema))))
    if kind == "number":
        return " ".join(filter(None, ("a number", _range(schema))))
    if kind == "boolean":
        return "true or false"
    if kind == "array":
        items = allowed(schema["items"], components) if schema.get("items") else ""
        low, high = schema.get("minItems"), schema.get("maxItems")
        size = f" of {low} to {counted(high, 'item')}" if low and high else ""
        return f"a list{size}, each {items}" if items else f"a list{size}"
    if kind == "object":
        names = list(schema.get("properties", {}))
        return f"an object with the fields {either(names)}" if names else "an object"
    return "a value of the documented form"


def message(request: Request, exc: ValidationException) -> str:
    """One sentence per problem of ``exc`` (joined), built from the operation's schema."""
    doc = served_schema(request.app)
    components = doc.get("components", {}).get("schemas", {})
    operation = operation_of(doc, request.route_handler.operation_id) or {}
    items = [i for i in (exc.extra or []) if isinstance(i, dict)] if isinstance(exc.extra, list) else []
    if not items:
        missing = _MISSING_PARAM.search(str(exc.detail))
        if missing:
            where, name = missing.groups()
            schema = _parameter(operation, name, where)
            label = _LOCATIONS.get(where, "parameter")
            return f"The {label} {name} is required: it must be {allowed(schema, components)}."
        return "The request is not valid; see the API reference at /docs."
    return " ".join(_one(item, request, operation, components) for item in items)


def _one(item: dict[str, Any], request: Request, operation: dict[str, Any], components: dict[str, Any]) -> str:
    where = item.get("source", "")
    text, key, source = str(item.get("message", "")), str(item.get("key", "")), str(getattr(where, "value", where))
    if source == "body" or key == "data":
        return _body(text, key, _body_schema(operation, components), components)
    name = _alias(request, key)
    schema = _parameter(operation, name, source)
    label = _LOCATIONS.get(source, "parameter")
    return f"The {label} {name} must be {allowed(schema, components)}."


def conversion_message(exc: msgspec.ValidationError, body: type[msgspec.Struct], doc: dict[str, Any]) -> str:
    """The API's sentence for ``exc``, raised by ``msgspec.convert(…, body)`` outside any request (the CLI's
    catalogue rows), from ``doc`` (``api.openapi.request_schema(body, …)``)."""
    components = doc["components"]["schemas"]
    text, _, at = str(exc).partition(" - at `")  # msgspec: "<problem> - at `$.field[0]`"
    return _body(text, at.removesuffix("`").removeprefix("$"), components[body.__name__], components)


def _body(text: str, key: str, body: dict[str, Any], components: dict[str, Any]) -> str:
    props = body.get("properties", {})
    required = [n for n in body.get("required", []) if n in props]
    if (found := _MISSING_FIELD.search(text)) is not None:
        name = found.group(1)
        return f"{name} is required: it must be {allowed(props.get(name, {}), components)}."
    path = [p for p in re.split(r"[.\[\]]+", key) if p and p != "data"]
    schema: dict[str, Any] = body
    for part in path:
        schema = _child(schema, part, components)
    if (found := _UNKNOWN_FIELD.search(text)) is not None:
        if not path:
            return f"{found.group(1)} is not a field of this request; the fields are {either(list(props))}."
        # an unknown field inside an object field (placement): what the object may hold
        return f"{_named(path)} must be {allowed(schema, components)} ({found.group(1)} is not one of them)."
    if not path:
        need = f" with {' and '.join([', '.join(required[:-1]), required[-1]] if len(required) > 1 else required)}"
        need = need if required else ""
        if text == "'data'":  # Litestar found no body at all
            return f"Request body is empty; send a JSON object{need}."
        return f"Request body must be a JSON object{need}."
    field = _named(path)
    if _GOT_NULL in text and len(path) == 1 and field not in required:
        # null is not "no value" here (the field is optional, not nullable): say how to send none.
        return f"{field} must be {allowed(schema, components)}; to send none, leave {field} out (null is not taken)."
    return f"{field} must be {allowed(schema, components)}."


def _named(path: list[str]) -> str:
    """A field's path as a message names it: fields of objects by their names (``placement.x``), items of lists
    counted from 1 in words (``compliance_check item 2``), not the parser's ``compliance_check.1``."""
    named = path[0]
    for part in path[1:]:
        named += f" item {int(part) + 1}" if part.isdigit() else f".{part}"
    return named


def _child(schema: dict[str, Any], part: str, components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    # An object's own properties first: its anyOf may only say which fields are required (CheckRequest).
    if part in schema.get("properties", {}):
        return schema["properties"][part]
    for variant in schema.get("anyOf", []) or schema.get("oneOf", []):
        if variant.get("type") != "null":
            return _child(variant, part, components)
    if part.isdigit():
        return schema.get("items", {})
    return schema.get("properties", {}).get(part, {})


def _body_schema(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    media: dict[str, Any] = next(iter(content.values()), {})
    schema: dict[str, Any] = media.get("schema", {})
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _parameter(operation: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    for param in operation.get("parameters", []):
        if param.get("name", "").lower() == name.lower() and (not where or param.get("in") == where):
            return param.get("schema", {})
    return {}


def _alias(request: Request, field: str) -> str:
    definition = request.route_handler.parsed_fn_signature.parameters.get(field)
    return param_name(field, definition.kwarg_definition if definition is not None else None)
