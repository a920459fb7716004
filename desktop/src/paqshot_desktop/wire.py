"""Typed wire structs of the v1 API as the desktop reads them (no Qt, no HTTP), decoded with ``msgspec.convert``.

Decoding is lenient the way schema evolution requires: unknown fields are ignored, every field the spec marks
optional (and every extension) has a default, and ``null`` means "absent", so an older or newer appliance still
decodes. A value of the wrong type is a :class:`WireError` (the appliance is not speaking the API).
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from msgspec import Struct

TERMINAL_STATUSES = frozenset({"completed", "failed"})

_PLAIN: dict[str, str] = {
    "invalid_request": "The server refused the request",
    "unauthorized": "The API key was not accepted",
    "forbidden": "Not allowed",
    "not_found": "Not found",
    "image_too_large": "The image is too large",
    "unsupported_image": "The file is not a JPEG, PNG or WebP image the server can read",
    "rate_limited": "Too many requests; the server asked to slow down",
    "server_error": "The server had an internal error",
    "cancelled": "Cancelled",
}


def plain_error(code: str, message: str) -> str:
    """A user-facing sentence for an API error code and the server's message."""
    head = _PLAIN.get(code, "The server reported a problem")
    if message and message.rstrip(".").lower() != head.lower():
        return f"{head}: {message}"
    return f"{head}."


class WireError(ValueError):
    """A response body that does not have the shape the API promises."""


class JobError(Struct, frozen=True):
    """Why a job failed (``cancelled`` when the user cancelled it)."""

    code: str = "server_error"
    message: str = ""


class ReviewReason(Struct, frozen=True):
    """Why a result needs a person's look (issue 10's ``review_reasons``): a code and plain words."""

    code: str
    message: str = ""


class ImageRef(Struct, frozen=True):
    """One produced image (the main result or a variant)."""

    image_url: str
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None


class ProductBox(Struct, frozen=True):
    """Where the product is: its box ``(x, y, w, h)`` px in the stored input and in the result."""

    input: tuple[float, float, float, float]
    output: tuple[float, float, float, float]


class ComplianceRule(Struct, frozen=True):
    """One rule of a marketplace preset, measured on the delivered file (``message`` says what was measured)."""

    rule: str
    passed: bool = False
    message: str = ""


class ComplianceReport(Struct, frozen=True):
    """A result checked against one preset (``compliance`` on a completed job, issue 13)."""

    preset: str
    passed: bool = False
    rules: tuple[ComplianceRule, ...] = ()


class PresetInfo(Struct, frozen=True):
    """A marketplace preset as ``GET /v1/presets`` lists it; ``render`` holds the request values it sets."""

    id: str
    title: str = ""
    description: str = ""
    render: dict[str, Any] = {}


class PresetList(Struct, frozen=True):
    """``GET /v1/presets``."""

    data: tuple[PresetInfo, ...] = ()


class Job(Struct, frozen=True, kw_only=True):
    """A generation job as ``POST /v1/generate`` and ``GET /v1/generate/{id}`` return it (extensions last)."""

    id: str
    status: str
    style: str = ""
    aspect_ratio: str = ""
    created_at: str = ""
    estimated_seconds: float | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None
    expires_at: str | None = None
    error: JobError | None = None
    progress: float | None = None
    engine: str | None = None
    seed: int | None = None
    options: dict[str, Any] = {}
    prompts: dict[str, str] = {}
    notes: tuple[str, ...] = ()
    confidence: float | None = None
    needs_review: bool = False
    review_reasons: tuple[ReviewReason, ...] = ()
    images: tuple[ImageRef, ...] = ()
    completed_at: str | None = None
    input_url: str | None = None
    eta_seconds: float | None = None
    filename: str | None = None
    rerun_of: str | None = None
    matte_url: str | None = None
    product_box: ProductBox | None = None
    compliance: tuple[ComplianceReport, ...] = ()
    expired: bool = False  # completed, and its files purged after the appliance's retention: no links

    @property
    def finished(self) -> bool:
        """True once the job can no longer change."""
        return self.status in TERMINAL_STATUSES

    @property
    def refused(self) -> bool:
        """The appliance read the photo, ran its cut-out and refused what it found (no product, only a detail of
        one, a result that needs review under ``on_low_confidence: fail``): the error code is the one an unreadable
        file gets (``unsupported_image``), but a refused job names the engine that ran, or its confidence. The same
        file with the same options is refused the same way again."""
        return (
            self.status == "failed"
            and self.error is not None
            and self.error.code == "unsupported_image"
            and (self.engine is not None or self.confidence is not None)
        )

    @property
    def flagged(self) -> bool:
        """A completed result the appliance says a person should look at."""
        return self.status == "completed" and self.needs_review

    @property
    def all_images(self) -> tuple[ImageRef, ...]:
        """Every result image: the variants when listed, else the single main image."""
        if self.images:
            return self.images
        if self.image_url:
            return (ImageRef(self.image_url, self.thumbnail_url, self.width, self.height),)
        return ()


class JobPage(Struct, kw_only=True):
    """One page of ``GET /v1/generations``; ``total``/``has_more`` are derived when an appliance leaves them out."""

    data: tuple[Job, ...]
    total: int = -1
    limit: int = 0
    offset: int = 0
    has_more: bool = False

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = self.offset + len(self.data)
        self.limit = self.limit or len(self.data)


class EngineInfo(Struct, frozen=True):
    """One engine a style could use on the appliance (plate, diffusion, procedural, a cut-out engine)."""

    name: str
    available: bool = False
    detail: str = ""


class StyleInfo(Struct, frozen=True):
    """A style and whether this appliance can render it now."""

    name: str
    available: bool = True
    engine: str | None = None
    reason: str | None = None
    engines: tuple[EngineInfo, ...] = ()  # older appliances do not list them

    def can(self, engine: str) -> bool:
        """Whether ``engine`` (plate, diffusion, …) is available for this style."""
        return any(e.name == engine and e.available for e in self.engines)


class FieldInfo(Struct, frozen=True):
    """A request field the appliance accepts, with what the form needs to build and validate it."""

    name: str
    type: str = "string"
    enum: tuple[str, ...] = ()
    default: Any = None
    description: str = ""
    extension: bool = False
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    required: bool = False


class Limits(Struct, frozen=True):
    """Server-side limits the form validates against before uploading."""

    max_image_bytes: int = 10 * 1024 * 1024
    max_prompt_chars: int = 500
    max_variants: int = 1


class Capabilities(Struct, frozen=True, kw_only=True):
    """``GET /v1/capabilities``: what this appliance offers."""

    product: str = ""
    version: str = ""
    styles: tuple[StyleInfo, ...] = ()
    fields: tuple[FieldInfo, ...] = ()
    limits: Limits = Limits()

    def field(self, name: str) -> FieldInfo | None:
        """The field called ``name``, if the appliance accepts it."""
        return next((f for f in self.fields if f.name == name), None)


T = TypeVar("T")


def _without_nulls(value: Any) -> Any:
    """``null`` means "absent" on the wire: drop it so the struct's default applies."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def decode(kind: type[T], raw: object) -> T:
    """Convert decoded JSON into ``kind``.

    Raises:
        WireError: the value does not have the promised shape (the message names the path, e.g. ``$.status``).
    """
    try:
        return msgspec.convert(_without_nulls(raw), kind, strict=False)
    except msgspec.ValidationError as exc:
        raise WireError(f"{kind.__name__.lower()}: {exc}") from exc
