"""Typed wire structs of the v1 API as the desktop reads them (no Qt, no HTTP).

Decoding is lenient the way schema evolution requires: unknown fields are ignored and every field the
spec marks optional (and every extension) has a default, so an older or newer appliance still decodes.
Each struct keeps the raw mapping it came from for the "settings used" view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _opt_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_float(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _require_dict(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise WireError(f"{what}: expected an object, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class JobError:
    """Why a job failed (``cancelled`` when the user cancelled it)."""

    code: str
    message: str


@dataclass(frozen=True)
class ImageRef:
    """One produced image (the main result or a variant)."""

    image_url: str
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Job:
    """A generation job as ``POST /v1/generate`` and ``GET /v1/generate/{id}`` return it."""

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
    options: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    confidence: float | None = None
    images: tuple[ImageRef, ...] = ()
    completed_at: str | None = None
    input_url: str | None = None

    @property
    def finished(self) -> bool:
        """True once the job can no longer change."""
        return self.status in TERMINAL_STATUSES

    @property
    def all_images(self) -> tuple[ImageRef, ...]:
        """Every result image: the variants when listed, else the single main image."""
        if self.images:
            return self.images
        if self.image_url:
            return (ImageRef(self.image_url, self.thumbnail_url, self.width, self.height),)
        return ()

    @classmethod
    def from_json(cls, raw: object) -> Job:
        """Decode a job object; raises :class:`WireError` without ``id`` and ``status``."""
        data = _require_dict(raw, "job")
        job_id, status = data.get("id"), data.get("status")
        if not isinstance(job_id, str) or not isinstance(status, str):
            raise WireError("job: missing id or status")
        err = data.get("error")
        error = None
        if isinstance(err, dict):
            error = JobError(str(err.get("code", "server_error")), str(err.get("message", "")))
        images = tuple(
            ImageRef(
                str(item["image_url"]),
                _opt_str(item, "thumbnail_url"),
                _opt_int(item, "width"),
                _opt_int(item, "height"),
            )
            for item in data.get("images") or ()
            if isinstance(item, dict) and isinstance(item.get("image_url"), str)
        )
        options = data.get("options")
        notes = data.get("notes")
        return cls(
            id=job_id,
            status=status,
            style=_opt_str(data, "style") or "",
            aspect_ratio=_opt_str(data, "aspect_ratio") or "",
            created_at=_opt_str(data, "created_at") or "",
            estimated_seconds=_opt_float(data, "estimated_seconds"),
            image_url=_opt_str(data, "image_url"),
            thumbnail_url=_opt_str(data, "thumbnail_url"),
            width=_opt_int(data, "width"),
            height=_opt_int(data, "height"),
            expires_at=_opt_str(data, "expires_at"),
            error=error,
            progress=_opt_float(data, "progress"),
            engine=_opt_str(data, "engine"),
            seed=_opt_int(data, "seed"),
            options=dict(options) if isinstance(options, dict) else {},
            notes=tuple(str(n) for n in notes) if isinstance(notes, list) else (),
            confidence=_opt_float(data, "confidence"),
            images=images,
            completed_at=_opt_str(data, "completed_at"),
            input_url=_opt_str(data, "input_url"),
        )


@dataclass(frozen=True)
class JobPage:
    """One page of ``GET /v1/generations``."""

    data: tuple[Job, ...]
    total: int
    limit: int
    offset: int
    has_more: bool

    @classmethod
    def from_json(cls, raw: object) -> JobPage:
        """Decode a page; ``total``/``has_more`` are derived when an appliance leaves them out."""
        data = _require_dict(raw, "generations")
        items = data.get("data")
        if not isinstance(items, list):
            raise WireError("generations: missing data list")
        jobs = tuple(Job.from_json(item) for item in items)
        limit = _opt_int(data, "limit") or len(jobs)
        offset = _opt_int(data, "offset") or 0
        total = _opt_int(data, "total")
        has_more = data.get("has_more")
        return cls(
            data=jobs,
            total=total if total is not None else offset + len(jobs),
            limit=limit,
            offset=offset,
            has_more=bool(has_more) if isinstance(has_more, bool) else False,
        )


@dataclass(frozen=True)
class StyleInfo:
    """A style and whether this appliance can render it now."""

    name: str
    available: bool = True
    engine: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FieldInfo:
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

    @classmethod
    def from_json(cls, raw: object) -> FieldInfo:
        """Decode one entry of ``capabilities.fields``."""
        data = _require_dict(raw, "field")
        name = data.get("name")
        if not isinstance(name, str):
            raise WireError("field: missing name")
        enum = data.get("enum")
        return cls(
            name=name,
            type=_opt_str(data, "type") or "string",
            enum=tuple(str(v) for v in enum) if isinstance(enum, list) else (),
            default=data.get("default"),
            description=_opt_str(data, "description") or "",
            extension=bool(data.get("extension", False)),
            max_length=_opt_int(data, "max_length"),
            minimum=_opt_float(data, "minimum"),
            maximum=_opt_float(data, "maximum"),
            pattern=_opt_str(data, "pattern"),
            required=bool(data.get("required", False)),
        )


@dataclass(frozen=True)
class Limits:
    """Server-side limits the form validates against before uploading."""

    max_image_bytes: int = 10 * 1024 * 1024
    max_prompt_chars: int = 500
    max_variants: int = 1


@dataclass(frozen=True)
class Capabilities:
    """``GET /v1/capabilities``: what this appliance offers."""

    product: str = ""
    version: str = ""
    styles: tuple[StyleInfo, ...] = ()
    fields: tuple[FieldInfo, ...] = ()
    limits: Limits = field(default_factory=Limits)

    def field(self, name: str) -> FieldInfo | None:
        """The field called ``name``, if the appliance accepts it."""
        return next((f for f in self.fields if f.name == name), None)

    @classmethod
    def from_json(cls, raw: object) -> Capabilities:
        """Decode the capabilities document."""
        data = _require_dict(raw, "capabilities")
        styles = tuple(
            StyleInfo(
                str(s["name"]),
                bool(s.get("available", True)),
                _opt_str(s, "engine"),
                _opt_str(s, "reason"),
            )
            for s in data.get("styles") or ()
            if isinstance(s, dict) and "name" in s
        )
        fields_ = tuple(FieldInfo.from_json(f) for f in data.get("fields") or ())
        lim = data.get("limits") if isinstance(data.get("limits"), dict) else {}
        assert isinstance(lim, dict)
        base = Limits()
        limits = Limits(
            max_image_bytes=_opt_int(lim, "max_image_bytes") or base.max_image_bytes,
            max_prompt_chars=_opt_int(lim, "max_prompt_chars") or base.max_prompt_chars,
            max_variants=_opt_int(lim, "max_variants") or base.max_variants,
        )
        return cls(
            product=_opt_str(data, "product") or "",
            version=_opt_str(data, "version") or "",
            styles=styles,
            fields=fields_,
            limits=limits,
        )
