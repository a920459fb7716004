"""OpenAPI configuration: brand-aware title, bearer security scheme, the error body on every operation."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme, Tag

from ..branding import Brand
from .reference import ERRORS, SPEC_STATUSES, description, webhooks
from .wire import ErrorBody

_RESPONSES = {
    status: ResponseSpec(data_container=ErrorBody, description=f"`{code}`: {meaning}", generate_examples=False)
    for status, code, meaning in ERRORS
}
ERROR_RESPONSES = {status: spec for status, spec in _RESPONSES.items() if status in SPEC_STATUSES}
INPUT_EXPIRED_RESPONSE = _RESPONSES[410]


def openapi_config(brand: Brand, version: str) -> OpenAPIConfig:
    """The served schema at ``/schema/openapi.json``; the docs page is served locally by ``api.docs``."""
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
        ],
        path="/schema",
        render_plugins=[],
    )
