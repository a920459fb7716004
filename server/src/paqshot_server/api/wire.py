"""Response bodies of the v1 API (msgspec Structs): they omit what does not apply. New fields always come with
defaults (schema evolution never breaks clients). Request bodies: ``api.request_bodies``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from ..imaging.options import (
    AspectRatio,
    Style,
)
from ..imaging.review import CODES
from ..storage.fair import Priority
from ..storage.jobs import Status
from .request_bodies import GenerateRequest


class ComplianceRule(Struct, kw_only=True):
    """One rule of a preset measured on the delivered file."""

    rule: str
    passed: bool
    measured: Any
    required: str
    message: str


class ComplianceReport(Struct, kw_only=True):
    """Every rule of one preset on the main image (``docs/presets.md`` says how each is measured)."""

    preset: str
    passed: bool
    rules: list[ComplianceRule]


class GenerateAccepted(Struct, kw_only=True):
    """202 answer: exactly the spec's fields."""

    id: str
    status: Status
    style: Style
    aspect_ratio: AspectRatio
    estimated_seconds: int
    created_at: str


class ErrorBody(Struct):
    """Every error: ``{"error": code, "message": text}``."""

    error: str
    message: str


class JobError(Struct):
    code: str
    message: str


class ReviewReason(Struct):
    """Why a result needs review: a stable ``code`` and a ``message`` in plain words."""

    code: Annotated[
        str,
        Meta(
            description="Stable identifier of the reason (the message says it in words; later versions may add codes).",
            # "extra": what Litestar's OpenAPI takes of msgspec's extra_json_schema into the property's schema
            extra_json_schema={"extra": {"enum": list(CODES)}},
        ),
    ]
    message: str


class ImageLinks(Struct, kw_only=True):
    image_url: str
    thumbnail_url: str
    width: int
    height: int


# Response fields, described once for the generation, its list items, the 202 and the webhook body.
GenerationId = Annotated[str, Meta(description="The generation's id.", examples=["gen_01j9xkm3p8fvz4q2n7tbhc6r"])]
CreatedAt = Annotated[
    str, Meta(description="When it was submitted (UTC, ISO 8601).", examples=["2026-06-09T14:00:00Z"])
]
ImageUrl = Annotated[
    str,
    Meta(
        description="Signed URL of the image (no key needed) until expires_at.",
        examples=["http://127.0.0.1:8000/files/…"],
    ),
]
ThumbnailUrl = Annotated[str, Meta(description="Signed URL of a small preview until expires_at.")]
Pixels = Annotated[int, Meta(description="Pixels.", examples=[2048])]
ExpiresAt = Annotated[
    str, Meta(description="When the images (and their URLs) are deleted: retention_days after completion.")
]
EngineName = Annotated[
    str,
    Meta(
        description="Extension: what made the image: `classical`, `procedural`, `onnx:<model>`, `diffusion:<model>`; "
        "on a job the cut-out refused (failed, `unsupported_image`), the cut-out that ran.",
        examples=["classical"],
    ),
]
Confidence = Annotated[
    float,
    Meta(
        description="Extension: how sure the cut-out is, 0–1 (calibrated; low values need review); also on a job "
        "the cut-out refused."
    ),
]
NeedsReview = Annotated[
    bool,
    Meta(
        description="Extension: the result is probably wrong somewhere; review_reasons say where, in words. Also on "
        "a job failed because its result needs review (on_low_confidence: fail)."
    ),
]
ReviewReasons = Annotated[
    list[ReviewReason],
    Meta(
        description="Extension: why it needs review (code + message); also on a job failed because its result "
        "needs review (on_low_confidence: fail)."
    ),
]
Compliance = Annotated[
    list[ComplianceReport], Meta(description="Extension: the preset's and compliance_check's reports.")
]


class ProductBox(Struct, kw_only=True):
    """Where the product is: in the stored photo and in the (first) image, ``[x, y, width, height]`` px."""

    input: list[int]
    output: list[int]


class Generation(Struct, kw_only=True, omit_defaults=True):
    """A generation as ``GET /v1/generate/{id}`` shows it (spec fields, then extensions; absent when not known)."""

    id: GenerationId
    status: Annotated[Status, Meta(description="processing until it ends completed or failed.")]
    style: Style
    aspect_ratio: AspectRatio
    created_at: CreatedAt
    image_url: ImageUrl | None = None
    thumbnail_url: ThumbnailUrl | None = None
    width: Pixels | None = None
    height: Pixels | None = None
    expires_at: ExpiresAt | None = None
    expired: (
        Annotated[
            bool,
            Meta(
                description="Extension: true once the images were deleted after the retention period (expires_at): "
                "the generation keeps its facts, without image_url, thumbnail_url or images."
            ),
        ]
        | None
    ) = None
    error: Annotated[JobError, Meta(description="Why it failed (failed only).")] | None = None
    progress: Annotated[float, Meta(description="Extension: 0–1 while processing.")] | None = None
    estimated_seconds: Annotated[int, Meta(description="Seconds until it should be done (processing).")] | None = None
    eta_seconds: (
        Annotated[
            float,
            Meta(
                ge=0,
                description="Extension: seconds until it should be done, now (processing): recent job times on this "
                "appliance and its place in the fair queue; absent while no worker is running.",
            ),
        ]
        | None
    ) = None
    priority: Annotated[Priority, Meta(description="Extension: its priority among its key's generations.")] | None = (
        None
    )
    engine: EngineName | None = None
    seed: Annotated[int, Meta(description="Extension: the seed used; send it back to reproduce a scene.")] | None = None
    confidence: Confidence | None = None
    needs_review: NeedsReview | None = None
    review_reasons: ReviewReasons | None = None
    cutout_engine: (
        Annotated[str, Meta(description="Extension: the cut-out that ran (classical or a model).")] | None
    ) = None
    notes: Annotated[list[str], Meta(description="Extension: remarks in words (upscaled, low contrast…).")] | None = (
        None
    )
    images: Annotated[list[ImageLinks], Meta(description="Extension: every image of the job (variants).")] | None = None
    options: Annotated[dict[str, Any], Meta(description="Extension: the request's options as stored.")] | None = None
    prompts: Annotated[dict[str, str], Meta(description="Extension: the final prompts of a scene.")] | None = None
    scene: Annotated[dict[str, Any], Meta(description="Extension: the scene that was chosen.")] | None = None
    input_url: Annotated[str, Meta(description="Extension: signed URL of the stored photo.")] | None = None
    completed_at: Annotated[str, Meta(description="Extension: when it ended (UTC, ISO 8601).")] | None = None
    compliance: Compliance | None = None
    filename: Annotated[str, Meta(description="Extension: the file name given at submission.")] | None = None
    rerun_of: Annotated[str, Meta(description="Extension: the generation this one re-ran.")] | None = None
    mask_hint: Annotated[bool, Meta(description="Extension: true when a mask hint shaped the cut-out.")] | None = None
    matte_url: (
        Annotated[str, Meta(description="Extension: signed URL of the alpha matte (grey PNG, the photo's size).")]
        | None
    ) = None
    product_box: (
        Annotated[ProductBox, Meta(description="Extension: the product's box in the photo and in the image.")] | None
    ) = None
    backdrop: (
        Annotated[
            dict[str, Any],
            Meta(
                description="Extension: the plate the product stands on (id null for your own background_image), "
                "its floor line and light, and harmonize: the gains applied to the product (docs/plates.md)."
            ),
        ]
        | None
    ) = None


# Documents the body (OpenAPI ``webhooks``); a test decodes real deliveries with it, so it cannot drift.
class WebhookPayload(Struct, kw_only=True, forbid_unknown_fields=True):
    """What a webhook_url receives when a generation ends: the spec's fields, then extensions."""

    event: Annotated[Literal["generation.completed", "generation.failed"], Meta(description="What happened.")]
    id: GenerationId
    status: Literal["completed", "failed"]
    style: Style
    created_at: CreatedAt
    image_url: ImageUrl | None = None
    thumbnail_url: ThumbnailUrl | None = None
    width: Pixels | None = None
    height: Pixels | None = None
    expires_at: ExpiresAt | None = None
    images: list[ImageLinks] | None = None
    engine: EngineName | None = None
    confidence: Confidence | None = None
    needs_review: NeedsReview | None = None
    review_reasons: ReviewReasons | None = None
    compliance: Compliance | None = None
    error: JobError | None = None


class GenerationList(Struct, kw_only=True):
    data: list[Generation]
    total: int
    limit: int
    offset: int
    has_more: bool


class EngineInfo(Struct, kw_only=True):
    """One engine of a style: plate (a backdrop photograph), diffusion (an inpainting model), procedural (drawn
    sets), or the studio's cut-out engine."""

    name: str
    available: bool
    detail: str


class StyleInfo(Struct, kw_only=True):
    name: str
    available: bool
    engine: Annotated[str | None, Meta(description="The engine a plain request gets (no plate named).")]
    reason: str | None
    engines: Annotated[
        list[EngineInfo], Meta(description="Extension: every engine of the style and whether it is available here.")
    ] = []


class FieldInfo(Struct, kw_only=True, omit_defaults=True):
    name: str
    type: str
    description: str
    extension: bool
    required: bool = False
    enum: list[str] | None = None
    default: Any = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


class Capabilities(Struct, kw_only=True):
    product: str
    version: str
    styles: list[StyleInfo]
    fields: list[FieldInfo]
    limits: dict[str, int]


class ModelList(Struct, kw_only=True):
    """``GET /v1/models``: installed models and the execution providers they run on."""

    data: list[dict[str, Any]]
    providers: list[str]


class Health(Struct):
    status: str
    checks: dict[str, str]


SPEC_FIELDS = (
    "product_image",
    "style",
    "scene_type",
    "background",
    "aspect_ratio",
    "people",
    "location",
    "prompt",
    "webhook_url",
)


def request_fields() -> list[FieldInfo]:
    """Describe GenerateRequest's fields from its JSON schema (so clients need not hard-code them)."""
    schema = msgspec.json.schema(GenerateRequest)
    props = schema["$defs"]["GenerateRequest"]["properties"]
    required = set(schema["$defs"]["GenerateRequest"].get("required", []))
    out = []
    for name, prop in props.items():
        variants = prop.get("anyOf", [prop])
        main = next((v for v in variants if v.get("type") != "null"), prop)
        out.append(
            FieldInfo(
                name=name,
                type=main.get("type", "object" if "$ref" in main else "string"),
                description=main.get("description", prop.get("description", "")),
                extension=name not in SPEC_FIELDS,
                required=name in required,
                enum=main.get("enum"),
                default=prop.get("default"),
                max_length=main.get("maxLength"),
                minimum=main.get("minimum"),
                maximum=main.get("maximum"),
                pattern=main.get("pattern"),
            )
        )
    return out
