"""The prose of the API reference: authentication, every error code, webhooks and both signatures, the extensions.

It goes into the OpenAPI document (``info.description`` in CommonMark, and the 3.1 ``webhooks`` section), so the
docs page (Redoc, ``api.docs``), generated clients and any other renderer show the same text. Built from the brand,
the error table and the request fields' own descriptions: each fact is written once.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.enums import ParamType
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)

from ..branding import Brand
from .wire import WebhookPayload, request_fields

# (HTTP status, error code, what it means and what to do). The spec's eight, then the extensions.
ERRORS: tuple[tuple[int, str, str], ...] = (
    (
        400,
        "invalid_request",
        "Missing or malformed parameters (the message names the field and what is allowed), a key named twice in "
        "one JSON object, or an Idempotency-Key reused with another body or sent twice.",
    ),
    (401, "unauthorized", "Missing, unknown or revoked API key."),
    (
        403,
        "forbidden",
        "Quota or backdrop limit reached, the style is not enabled for this API key, or the backdrop is the "
        "operator's.",
    ),
    (
        404,
        "not_found",
        "No such generation or backdrop for this API key (another key's are not found either).",
    ),
    (413, "image_too_large", "An image is over the size limit (`limits.max_image_bytes` of GET /v1/capabilities)."),
    (
        422,
        "unsupported_image",
        "Not JPEG, PNG or WebP, undecodable, or no product found.",
    ),
    (429, "rate_limited", "Too many requests: wait for `Retry-After` seconds (`X-RateLimit-*` headers say more)."),
    (500, "server_error", "Internal error: retry after a few seconds; the message has an id to give the operator."),
    (410, "input_expired", "Extension: a re-run whose photo is past retention; submit the photo again."),
    (
        503,
        "unavailable",
        "Extension: the appliance cannot take work now (disk full, queue or database file unusable); retry after "
        "`Retry-After` seconds.",
    ),
)
# Statuses any operation may answer (the spec's eight and 503); input_expired only where a re-run is.
ON_EVERY_OPERATION = frozenset({400, 401, 403, 404, 413, 422, 429, 500, 503})


def _table(rows: list[tuple[str, ...]]) -> str:
    header, *body = rows
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def description(brand: Brand) -> str:
    """``info.description``: the sections a first-time user reads before the operations."""
    errors = _table(
        [
            ("status", "error", "meaning"),
            *((str(status), f"`{code}`", meaning) for status, code, meaning in ERRORS),
        ]
    )
    extensions = _table(
        [
            ("field", "what it does"),
            *(
                (f"`{f.name}`", f.description.removeprefix("Extension: ").replace("|", "\\|").replace("\n", " "))
                for f in request_fields()
                if f.extension
            ),
        ]
    )
    secret = brand.webhook_secret_prefix
    return f"""{brand.description}

Send a product photo, get a finished image back, asynchronously: `POST /v1/generate` answers `202` with an `id`;
poll `GET /v1/generate/{{id}}` every 2–5 s (or pass a `webhook_url`) until `status` is `completed` or `failed`.
Image URLs are signed and expire with the result (`expires_at`).

# Authentication

Every `/v1` request carries an API key as a bearer token:

```
Authorization: Bearer {brand.key_prefix}…
```

Keys are made by the operator (`{brand.cli_name} keys create --name NAME`, or the first key that
`{brand.cli_name} serve` writes to `first-api-key.txt` in its data folder). A key can see only its own generations.
The generate and check endpoints are rate-limited per key (one limit for both); polling is not. A request counts
once the appliance starts work on it (fetching or decoding its image), accepted or not, and every answer that
counted carries `X-RateLimit-Limit`, `-Remaining` and `-Reset` (a 422 for an unreadable image too); a request
refused before (a malformed field) does not count. A 429 carries `Retry-After`.

# Quick start

```
{{ printf '{{"style": "studio_packshot", "background": "white", "product_image": "'
  base64 < product.jpg | tr -d '\\n'
  printf '"}}'; }} > body.json
curl -X POST $BASE_URL/v1/generate -H "Authorization: Bearer $KEY" \\
  -H "Content-Type: application/json" --data-binary @body.json
curl -H "Authorization: Bearer $KEY" $BASE_URL/v1/generate/gen_...
```

`product_image` may also be an `https://` URL the appliance can fetch.

# Errors

Every error answers `{{"error": "<code>", "message": "<what went wrong and what to do>"}}`; the message is
meant for people, the code for programs. A generation that fails after it was accepted has `status: failed` and
`error: {{code, message}}` (codes above, plus `cancelled`).

{errors}

# Webhooks

With a `webhook_url`, the ended generation is POSTed there once it is `completed` or `failed` (the
`generation.completed` / `generation.failed` event under **Webhooks** below shows the body), at least once:
retried with back-off for about three days with the same `webhook-id` and the same bytes, so de-duplicate by
`webhook-id`. Answer any 2xx within 15 s; `410` stops deliveries of that event.

## Verifying both signatures

Each key has a webhook secret, `{secret}` followed by standard base64 (shown once by `keys create`). Verify the
**raw** request body, before any JSON parsing:

1. `{brand.signature_header}` (the v1 API's signature): lowercase hex HMAC-SHA256 of the raw body, keyed with
   the whole secret string as issued (prefix included). Compare in constant time.
2. Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`): `webhook-signature` is
   `v1,<base64 HMAC-SHA256 of "{{webhook-id}}.{{webhook-timestamp}}.{{raw body}}">`, keyed with the base64-decoded
   part of the secret after its prefix; during a secret rotation it holds two space-separated signatures, and
   either may match. Reject timestamps more than 5 minutes away (replay protection). The official Standard
   Webhooks libraries do all of this: give them the secret spelled with `whsec_` in place of the brand's prefix
   (`keys create` prints that spelling too).

```python
import hashlib, hmac
expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
assert hmac.compare_digest(expected, headers["{brand.signature_header}"])

from standardwebhooks.webhooks import Webhook  # pip install standardwebhooks
payload = Webhook("whsec_" + secret.removeprefix("{secret}")).verify(raw_body, headers)
```

# Extensions

Everything below is optional; a client that sends only the v1 fields gets the v1 behaviour. Request fields of
`POST /v1/generate` beyond the spec:

{extensions}

Extension endpoints are marked *(extension)* in their titles: cancel, re-run, delete, capabilities, models. Every
response carries `X-Request-ID`; `POST /v1/generate` honours an `Idempotency-Key` header (same key and body:
the original `202`; another body: `400` `invalid_request`; an empty key or the header sent twice: `400`, not "no
key" or one of the two).
"""


def webhooks(brand: Brand) -> dict[str, PathItem]:
    """The 3.1 ``webhooks`` section: what the appliance POSTs to a ``webhook_url`` (body: :func:`webhook_schemas`)."""
    headers = {
        brand.signature_header: "Lowercase hex HMAC-SHA256 of the raw body, keyed with the whole webhook secret.",
        "webhook-id": "Event id (the same on every retry of this event).",
        "webhook-timestamp": "Unix seconds when this attempt was signed.",
        "webhook-signature": 'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> (space-separated when two).',
    }
    operation = Operation(
        summary="A generation ended (completed or failed)",
        description="One POST per ended generation, to the request's `webhook_url`; see *Verifying both "
        "signatures* above. A failed generation carries `error: {code, message}` instead of the image fields.",
        parameters=[
            Parameter(
                name=name,
                param_in=ParamType.HEADER,
                required=True,
                description=text,
                schema=Schema(type=OpenAPIType.STRING),
            )
            for name, text in headers.items()
        ],
        request_body=RequestBody(
            required=True,
            content={"application/json": OpenAPIMediaType(schema=webhook_payload_schema())},
        ),
        responses={
            "200": OpenAPIResponse(description="Any 2xx within 15 s: delivered."),
            "410": OpenAPIResponse(description="Gone: no more deliveries of this event."),
        },
    )
    return {"generation.completed / generation.failed": PathItem(post=operation)}


def webhook_payload_schema() -> Schema | Reference:
    """The webhook body's schema, from the wire type; the types it refers to (``ImageLinks``, ``ReviewReason``…) are
    components already, through the operations that return them."""
    _, components = msgspec.json.schema_components([WebhookPayload], ref_template=_REF + "{name}")
    return _schema(components[WebhookPayload.__name__])


_REF = "#/components/schemas/"
_KEYS = {"anyOf": "any_of", "maxLength": "max_length", "minLength": "min_length"}


def _schema(node: dict[str, Any]) -> Schema | Reference:
    """A JSON Schema node from msgspec as Litestar's spec object (the keywords msgspec emits for plain Structs)."""
    if "$ref" in node:
        return Reference(ref=node["$ref"])
    values: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            values["type"] = OpenAPIType(value)
        elif key == "properties":
            values["properties"] = {name: _schema(child) for name, child in value.items()}
        elif key == "items":
            values["items"] = _schema(value)
        elif key == "anyOf":
            values["any_of"] = [_schema(child) for child in value]
        elif key in ("required", "enum", "description", "title", "default", "minimum", "maximum", "examples"):
            values[key] = value
        elif key in _KEYS:
            values[_KEYS[key]] = value
    return Schema(**values)
