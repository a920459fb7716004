"""OpenAPI configuration: brand-aware title, bearer security scheme, the error body on every operation.

The served document states exactly what the validator accepts. Litestar's own schema generation drops zero
bounds (``ge=0`` becomes no ``minimum``) and ``forbid_unknown_fields``, so every request body and parameter
schema is replaced by msgspec's schema of the very annotation msgspec validates with; the few rules that
depend on the appliance's settings (webhook schemes, image size) are written in by :func:`exact_schema`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin  # the one object that serves /schema/*
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.params import BodyKwarg, ParameterKwarg

from ..branding import Brand
from ..jobs.intake import max_base64_chars
from ..net.urls import IMAGE_URL_SCHEMES, MAX_URL, webhook_schemes
from ..settings import Settings
from .docs import schema_router
from .reference import ERRORS, ON_EVERY_OPERATION, description, webhooks
from .request_bodies import (
    IMAGE_DATA_PATTERN,
    IMAGE_FIELDS,
    URL_OR_IMAGE_FIELDS,
    WEBHOOK_URL_PATTERN,
    url_field_pattern,
)
from .wire import ErrorBody

_RESPONSES = {
    status: ResponseSpec(data_container=ErrorBody, description=f"`{code}`: {meaning}", generate_examples=False)
    for status, code, meaning in ERRORS
}
ERROR_RESPONSES = {status: spec for status, spec in _RESPONSES.items() if status in ON_EVERY_OPERATION}
INPUT_EXPIRED_RESPONSE = _RESPONSES[410]

_REF = "#/components/schemas/{name}"


def openapi_config(brand: Brand, version: str) -> OpenAPIConfig:
    """The served schema at ``/schema/openapi.json`` (and ``.yaml``); the docs page is served locally by
    ``api.docs``, and no Litestar UI page is (each loads its scripts from a CDN)."""
    return OpenAPIConfig(
        title=f"{brand.product_name} API",
        version=version,
        description=description(brand),
        components=Components(
            security_schemes={
                "bearerAuth": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="API key",
                    description=f"`Authorization: Bearer {brand.key_prefix}…` (see Authentication).",
                )
            },
        ),
        webhooks=webhooks(brand),  # type: ignore[arg-type]
        tags=[
            Tag(name="generations", description="Submit, poll, list, cancel, re-run and delete generations."),
            Tag(name="meta", description="Health, readiness, what this appliance can do, installed models."),
            Tag(name="backdrops", description="Photographs to stand products on: your plates and the shared ones."),
        ],
        openapi_router=schema_router(),  # /schema: the documents; Litestar's CDN pages lead to the docs page
        render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
    )


def serve_exact_schema(app: Litestar, settings: Settings, preset_ids: Callable[[], list[str]]) -> None:
    """Make ``/schema/*`` (every render plugin) and :func:`served_schema` give the exact document;
    ``preset_ids`` gives the presets in force here (read when the document is first built).

    Litestar offers no hook between building the document and serving it, and its plugin has ``__slots__``;
    so the app's plugin becomes a subclass (same layout) whose document is corrected once, on first use.
    """

    class ExactOpenAPIPlugin(OpenAPIPlugin):
        __slots__ = ()

        def provide_openapi_schema(self) -> dict[str, Any]:
            if not self._openapi_schema:
                generated = super().provide_openapi_schema()
                self._openapi_schema = exact_schema(generated, self.app, settings, preset_ids())
            return self._openapi_schema

    app.plugins.get(OpenAPIPlugin).__class__ = ExactOpenAPIPlugin


def served_schema(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document as ``/schema/openapi.json`` serves it."""
    return app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


def _handlers(app: Litestar) -> Iterator[HTTPRouteHandler]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.operation_id:
                yield handler


def _without_null(annotation: Any) -> Any:
    """``X | None`` → ``X`` for parameters: an absent parameter is the None, a JSON null is not sendable."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def param_name(field: str, kwarg: Any) -> str:
    """The name a client uses (``Idempotency-Key``) for a handler argument (``idempotency_key``)."""
    if isinstance(kwarg, ParameterKwarg):
        return kwarg.header or kwarg.query or kwarg.cookie or kwarg.name or field
    return field


def exact_schema(doc: dict[str, Any], app: Litestar, settings: Settings, presets: list[str]) -> dict[str, Any]:
    """``doc`` with every request body and parameter schema taken from msgspec, each body's ``schema_rules``
    (rules across fields), a file answer's media types (the handler's ``opt["media_types"]``), and what depends on
    this appliance: its settings and its ``presets``."""
    bodies: set[type] = set()
    for handler in _handlers(app):
        operation = operation_of(doc, handler.operation_id)
        if operation is None:
            continue
        annotations = handler.signature_model.__annotations__ if handler.signature_model else {}
        names = {
            param_name(field, definition.kwarg_definition): field
            for field, definition in handler.parsed_fn_signature.parameters.items()
        }
        for param in operation.get("parameters", []):
            field = names.get(param["name"])
            if field in annotations:
                param["schema"] = _declared_order(_schema_of(_without_null(annotations[field])), annotations[field])
        if media_types := handler.opt.get("media_types"):  # a file answer: each type it may have, as bytes
            binary = {"schema": {"type": "string", "format": "binary"}}
            operation["responses"]["200"]["content"] = {media_type: binary for media_type in media_types}
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None and isinstance(data.kwarg_definition, BodyKwarg | type(None)):
            body_type = data.annotation
            if isinstance(body_type, type) and issubclass(body_type, msgspec.Struct):
                bodies.add(body_type)
    if bodies:
        doc.setdefault("components", {}).setdefault("schemas", {}).update(_body_components(bodies))
    _settings_rules(doc, bodies, settings, presets)
    return doc


def request_schema(body: type[msgspec.Struct], settings: Settings, presets: list[str]) -> dict[str, Any]:
    """One request body's schemas alone (``{"components": {"schemas": …}}``), as the served document states
    them: for wording errors outside a request (the CLI's catalogue rows, ``api.explain.conversion_message``)."""
    doc = {"components": {"schemas": _body_components({body})}}
    _settings_rules(doc, {body}, settings, presets)
    return doc


def _body_components(bodies: set[type]) -> dict[str, Any]:
    """msgspec's schemas of the request ``bodies`` (and what they refer to), enums in declared order, each
    optional field's text and examples on the field (:func:`_field_meta_on_top`), each body's ``schema_rules``
    added, and its example made of its ``schema_example_fields``' examples."""
    _, components = msgspec.json.schema_components(sorted(bodies, key=lambda t: t.__name__), ref_template=_REF)
    for body in bodies:
        schema = components[body.__name__]
        props = schema["properties"]
        for member in msgspec.structs.fields(body):
            _field_meta_on_top(_declared_order(props[member.encode_name], member.type))
        schema.update(getattr(body, "schema_rules", {}))
        example_fields = getattr(body, "schema_example_fields", ())
        if example_fields:
            schema["examples"] = [{name: props[name]["examples"][0] for name in example_fields}]
    return components


def _field_meta_on_top(prop: dict[str, Any]) -> dict[str, Any]:
    """Move the ``description`` and ``examples`` of an optional field from its value's variant to the field.

    msgspec writes ``Annotated[X, Meta(...)] | None = None`` as ``{"anyOf": [X + meta, null], "default": null}``:
    the field's own words sit inside a variant, and Redoc's request sample (openapi-sampler reads ``const``,
    ``examples``, ``enum``, then ``default`` of the field before its variants) showed ``null`` for every
    optional field. On the field, the example is what the sample shows and the text what the table shows.
    """
    variants = [v for v in prop.get("anyOf", ()) if v.get("type") != "null"]
    if len(variants) == 1:
        for key in ("description", "examples"):
            if key in variants[0] and key not in prop:
                prop[key] = variants[0].pop(key)
    return prop


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    """The values of the ``Literal`` inside ``annotation`` (through Annotated and unions), in declared order."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return typing.get_args(annotation)
    if origin is typing.Annotated:
        return _literal_values(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return tuple(v for arg in typing.get_args(annotation) for v in _literal_values(arg))
    return ()


def _declared_order(schema: dict[str, Any], annotation: Any) -> dict[str, Any]:
    """Put ``enum`` values in the order the code declares them (msgspec sorts them): 1:1 before 16:9."""
    values = _literal_values(annotation)
    for node in (schema, *schema.get("anyOf", ())):
        if values and "enum" in node and set(node["enum"]) <= set(values) | {None}:
            node["enum"] = [v for v in values if v in node["enum"]] + [v for v in node["enum"] if v is None]
    return schema


def _schema_of(annotation: Any) -> dict[str, Any]:
    schema, components = msgspec.json.schema_components([annotation], ref_template=_REF)
    return schema[0] if not components else {"$ref": _REF.format(name=next(iter(components)))}


def operation_of(doc: dict[str, Any], operation_id: str | Callable | None) -> dict[str, Any] | None:
    """The operation object of ``operation_id`` in ``doc``, or None."""
    for item in doc.get("paths", {}).values():
        for candidate in item.values():
            if isinstance(candidate, dict) and candidate.get("operationId") == operation_id:
                return candidate
    return None


def _settings_rules(doc: dict[str, Any], bodies: set[type], settings: Settings, presets: list[str]) -> None:
    """The rules that depend on this appliance, in every request body that has the field."""
    components = doc.get("components", {}).get("schemas", {})
    webhook = url_field_pattern(webhook_schemes(settings.allow_private_network))
    base64_chars = max_base64_chars(settings.max_image_bytes)
    for body in bodies:
        props = components[body.__name__]["properties"]
        for variant in _strings(props.get("webhook_url")):
            if variant.get("pattern") == WEBHOOK_URL_PATTERN:
                variant["pattern"] = webhook
        for name in ("preset", "compliance_check"):  # a preset id must name a preset in force here
            for variant in _strings(props.get(name)):
                variant["enum"] = presets
        for name in IMAGE_FIELDS:
            for variant in _strings(props.get(name)):
                variant["maxLength"] = base64_chars
        for name in URL_OR_IMAGE_FIELDS:  # an http(s) URL, or base64 image data
            if name in props:
                url_form = {"type": "string", "pattern": url_field_pattern(IMAGE_URL_SCHEMES), "maxLength": MAX_URL}
                data_form = {"type": "string", "pattern": IMAGE_DATA_PATTERN, "minLength": 1, "maxLength": base64_chars}
                words = {k: props[name][k] for k in ("description", "examples") if k in props[name]}
                props[name] = {**words, "anyOf": [url_form, data_form]}


def _strings(schema: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The string schemas of a property: itself, its non-null variants, or its array's items."""
    if schema is None:
        return []
    found = []
    for variant in schema.get("anyOf", [schema]):
        if variant.get("type") == "string":
            found.append(variant)
        elif variant.get("type") == "array" and variant.get("items", {}).get("type") == "string":
            found.append(variant["items"])
    return found
