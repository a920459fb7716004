"""OpenAPI configuration: brand-aware title, bearer security scheme, the error body on every operation."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme

from ..branding import Brand
from .wire import ErrorBody

_ERRORS = {
    400: "invalid_request — missing or malformed parameters",
    401: "unauthorized — missing or invalid API key",
    403: "forbidden — quota exceeded or style not enabled for this API key",
    404: "not_found — generation not found",
    413: "image_too_large — an image exceeds limits.max_image_bytes of GET /v1/capabilities",
    422: "unsupported_image — not JPEG/PNG/WebP or undecodable (also: Idempotency-Key reused with another body)",
    429: "rate_limited — too many requests; see Retry-After",
    500: "server_error — internal error; retry after a few seconds",
    503: "unavailable — the appliance cannot take work now (disk full, queue or database file unusable); "
    "see Retry-After",
}

INPUT_EXPIRED_RESPONSE = ResponseSpec(
    data_container=ErrorBody,
    description="input_expired — the generation's photo is past retention; submit it again (extension)",
    generate_examples=False,
)

ERROR_RESPONSES = {
    status: ResponseSpec(data_container=ErrorBody, description=text, generate_examples=False)
    for status, text in _ERRORS.items()
}


def openapi_config(brand: Brand, version: str) -> OpenAPIConfig:
    """The served schema at ``/schema/openapi.json``; the docs page is served locally by ``api.docs``."""
    return OpenAPIConfig(
        title=f"{brand.product_name} API",
        version=version,
        description=brand.description,
        components=Components(
            security_schemes={"bearerAuth": SecurityScheme(type="http", scheme="bearer", bearer_format="API key")}
        ),
        path="/schema",
        render_plugins=[],
    )
