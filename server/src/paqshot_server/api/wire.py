"""Wire types of the v1 API (msgspec Structs), split by intent: requests forbid unknown fields; responses
omit what does not apply. New fields always come with defaults (schema evolution never breaks clients)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_type_hints

import msgspec
from msgspec import Meta, Struct

from ..ids import id_pattern
from ..imaging.options import (
    LOCATIONS,
    MAX_LOCATION_CHARS,
    MAX_PROMPT_CHARS,
    MAX_SEED,
    MAX_VARIANTS,
    NAMED_BACKGROUNDS,
    STYLES,
    AspectRatio,
    OnLowConfidence,
    OutputFormat,
    People,
    SceneType,
    Shadow,
    Style,
)
from ..imaging.presets import PRESET_ID_PATTERN, PresetIds
from ..imaging.scenes.kinds import scene_type_doc
from ..imaging.styles import family, style_doc
from ..net.urls import MAX_URL, url_pattern, url_words
from ..patterns import END
from ..storage.fair import Priority
from ..storage.jobs import Status

# Request fields that carry an image (URL or base64): the request body limit allows each at max_image_bytes.
IMAGE_FIELDS = ("product_image", "mask_hint", "background_image")
# Request fields that take an image as an http(s) URL or as base64 (the others take base64 only).
URL_OR_IMAGE_FIELDS = ("product_image", "image", "background_image")

# Each pattern is built from the facts it encodes and comes with the same facts in words: validation errors
# quote the words (``api.explain``), never the pattern. Patterns stay in the syntax ECMA-262 (JSON Schema) and
# Python's ``re`` read alike (``patterns.END`` for the end of the text), so the served schema and the validator
# agree.
PATTERN_WORDS: dict[str, str] = {}


def _pattern(regex: str, words: str) -> str:
    PATTERN_WORDS[regex] = words
    return regex


def _either(values: tuple[str, ...]) -> str:
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]


def url_field_pattern(schemes: tuple[str, ...]) -> str:
    """The pattern of a URL field with ``schemes`` (registered with its words)."""
    return _pattern(url_pattern(schemes), url_words(schemes))


BACKGROUND_NAMES = (*NAMED_BACKGROUNDS, "transparent")
BACKGROUND_PATTERN = _pattern(
    rf"^({'|'.join(BACKGROUND_NAMES)}|#[0-9A-Fa-f]{{6}}){END}", _either((*BACKGROUND_NAMES, "#RRGGBB"))
)
# auto, classical or a model id (manifests' id rule)
CUTOUT_ENGINE_PATTERN = _pattern(
    rf"^[a-z0-9][a-z0-9._-]{{0,63}}{END}",
    "auto, classical or the id of an installed cut-out model (lowercase letters, digits, '.', '_' and '-')",
)
_pattern(PRESET_ID_PATTERN, "a preset id: a lowercase letter, then up to 63 lowercase letters, digits or '_'")
FILENAME_PATTERN = _pattern(r"^[^/\\\x00-\x1f]+" + END, "a file name without folders or control characters")
GENERATION_ID_PATTERN = _pattern(id_pattern("gen") + END, "a generation id: gen_ and 26 lowercase letters and digits")
BACKDROP_ID_PATTERN = _pattern(id_pattern("bdp") + END, "a backdrop id: bdp_ and 26 lowercase letters and digits")
TAG_PATTERN = _pattern(
    r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,39}" + END,
    "a tag: a letter or digit, then up to 39 letters, digits, spaces, '_' or '-'",
)
# product_image that is not a URL: base64 (checked when decoded: no schema can state "an image").
IMAGE_DATA_PATTERN = _pattern(r"^(?![Hh][Tt][Tt][Pp][Ss]?:)", "base64 image data (plain or a data: URI)")
# Free text: any characters but control characters other than tab and line breaks.
TEXT_PATTERN = _pattern(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*" + END, "text without control characters")
# The validator's pattern allows both schemes; the served schema narrows it to https where the operator does
# not allow plain http (net.urls.webhook_schemes), and so does the jobs service.
WEBHOOK_URL_PATTERN = url_field_pattern(("http", "https"))


_PRESET_DOC = (
    "Extension: a marketplace preset (amazon_main, amazon_additional, google_shopping, ebay, etsy, shopify, "
    "fashion_packshot, or the operator's own; GET /v1/presets lists them). It sets aspect ratio, background, "
    "shadow, padding, format and size; fields you send yourself win. The result's compliance report checks "
    "its rules."
)
_CHECK_DOC = "Extension: further presets whose rules the result's compliance report checks (1–10 ids)."

# What each value does (docs/scenes.md has the full table).
_STYLE_DOC = style_doc()
_SCENE_DOC = scene_type_doc()
_PEOPLE_DOC = (
    "none / without_people keep people out; with_people adds a hand (and out-of-focus people behind lifestyle and "
    "editorial sets) that never covers the product."
)
_LOCATION_DOC = (
    f"{' | '.join(LOCATIONS)}, or free text (≤ {MAX_LOCATION_CHARS} chars): free text goes into the prompt "
    "and picks the nearest palette by its words. Omitted: studio."
)
_PROMPT_DOC = (
    f"Free text (≤ {MAX_PROMPT_CHARS} chars) appended to the built prompt; materials, colours and moods it names "
    "also steer the procedural set. The final prompts are returned with the result."
)

_HINT_DOC = (
    "Extension (review and repair): a PNG, base64 (plain or data: URI), the size of the photo as stored "
    "(input_url, after EXIF orientation) or that size scaled down by one factor. Grey >= 192: product (the cut-out "
    "keeps it), <= 63: background (removed), between: unknown (the cut-out decides); pixels with alpha < 128 are "
    "unknown. Write 255 / 0 / 128. It changes the matte only where it says; product pixels stay the photo's. "
    "A photo with its own transparency is cut by its alpha channel, and the hint wins where the two disagree."
)


# A mask hint's form (a 1x1 PNG, grey 128: unknown); a real hint is the size of the photo.
HINT_EXAMPLE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR42mNoAAAAggCB2kUIOwAAAABJRU5ErkJggg=="
)

_PRIORITY_DOC = (
    "Extension: order among your own waiting generations: high, normal (default) or low. Keys take turns "
    "whatever their priorities (weighted by each key's weight); a key may have at most high_priority_limit "
    "high-priority generations waiting (403 beyond)."
)


_BACKGROUND_IMAGE_DOC = (
    "Extension: a photograph to stand the product on (URL http/https or base64, the same checks as product_image). "
    "studio_packshot and the scene styles. The product stands on its floor line (found in the photo, or placement) "
    "with a shadow cast from its own matte, light and colour nudged toward the photo (harmonize). Not with backdrop."
)
_BACKDROP_DOC = (
    "Extension: a plate of your backdrop library (GET /v1/backdrops: yours or the operator's) to stand the product "
    "on, instead of letting the scene pick one by its tags. Not with background_image."
)
_PLACEMENT_DOC = (
    "Extension: where the product stands on a background image or backdrop, as fractions of the output; fields "
    "left out follow the layout rules (the product on the plate's floor line)."
)
_HARMONIZE_DOC = (
    "Extension: on a background image or backdrop, nudge the product's white balance (±6 % per channel) and "
    "exposure (±1/3 stop) toward the plate with ONE global gain per channel, recorded in backdrop.harmonize.gains. "
    "false keeps the product's pixels exact."
)
_BLUR_DOC = (
    "Extension: depth of field on a background image or backdrop, 0 (sharp, default) to 1: the plate blurs with "
    "distance from the floor line where the product stands."
)


class Placement(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Where the product stands on a plate, as fractions of the output image (each optional)."""

    x: Annotated[float, Meta(ge=0, le=1, description="Its horizontal centre (0 left, 1 right).")] | None = None
    y: Annotated[float, Meta(ge=0, le=1, description="Its base, where it stands (0 top, 1 bottom).")] | None = None
    scale: (
        Annotated[
            float,
            Meta(
                ge=0.02,
                le=1,
                description="The share of the image's limiting side it fills (its box fits in scale × width by "
                "scale × height, touching one).",
            ),
        ]
        | None
    ) = None
    floor_y: Annotated[float, Meta(ge=0, le=1, description="The line its shadow lies on (default: y).")] | None = None


def _style_rule(family_name: str, then: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema: when ``style`` is one of ``family_name``'s styles, the body must also match ``then``."""
    styles = [s for s in STYLES if family(s) == family_name]
    return {"if": {"properties": {"style": {"enum": styles}}, "required": ["style"]}, "then": {"properties": then}}


_GIVEN = {
    name: {"required": [name], "properties": {name: {"type": "string"}}} for name in ("background_image", "backdrop")
}
_PLATE_GIVEN = {"anyOf": list(_GIVEN.values())}  # the request names its own plate
_PLATE_BOTH = {"allOf": list(_GIVEN.values())}


class GenerateRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /v1/generate``: the spec's fields, then optional extensions."""

    # Rules across fields, which msgspec cannot state: the served schema adds them (api.openapi). They are the
    # combinations EngineCatalog.check_options refuses; a test checks that both agree on every combination.
    schema_rules: ClassVar[dict[str, Any]] = {
        "allOf": [
            _style_rule("studio", {"num_variants": {"maximum": 1}}),
            _style_rule("scene", {"shadow": {"not": {"enum": ["natural"]}}}),
            {"not": _PLATE_BOTH},
            {"if": _PLATE_GIVEN, "then": {"properties": {"shadow": {"not": {"enum": ["natural"]}}}}},
        ]
    }
    # The fields whose examples make the body's example (the docs' request sample; api.openapi builds it).
    schema_example_fields: ClassVar[tuple[str, ...]] = (
        "product_image",
        "style",
        "background",
        "aspect_ratio",
        "output_format",
        "webhook_url",
        "filename",
    )

    product_image: Annotated[
        str,
        Meta(
            min_length=1,
            description="URL (http/https) or base64 image, plain or data: URI. JPEG/PNG/WebP, at most "
            "limits.max_image_bytes of GET /v1/capabilities.",
            examples=["https://shop.example/photos/mug.jpg"],
        ),
    ]
    style: Annotated[Style, Meta(description=_STYLE_DOC, examples=["studio_packshot"])]
    scene_type: Annotated[SceneType, Meta(description=_SCENE_DOC, examples=["auto"])] = "auto"
    background: (
        Annotated[
            str,
            Meta(
                pattern=BACKGROUND_PATTERN,
                description=f"{' | '.join(NAMED_BACKGROUNDS)} | #RRGGBB. studio_packshot: the background colour. "
                "Scene styles: tints the set towards the colour. Extension: transparent gives a PNG cut-out "
                "(studio_packshot only).",
                examples=["white"],
            ),
        ]
        | None
    ) = None
    aspect_ratio: Annotated[AspectRatio, Meta(description="Output aspect ratio.", examples=["1:1"])] = "1:1"
    people: Annotated[People, Meta(description=_PEOPLE_DOC, examples=["none"])] = "none"
    location: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=MAX_LOCATION_CHARS,
                pattern=TEXT_PATTERN,
                description=_LOCATION_DOC,
                examples=["a sunlit kitchen counter"],
            ),
        ]
        | None
    ) = None
    prompt: (
        Annotated[
            str,
            Meta(
                max_length=MAX_PROMPT_CHARS,
                pattern=TEXT_PATTERN,
                description=_PROMPT_DOC,
                examples=["on a marble counter beside fresh lemons"],
            ),
        ]
        | None
    ) = None
    webhook_url: (
        Annotated[
            str,
            Meta(
                min_length=8,
                max_length=MAX_URL,
                pattern=WEBHOOK_URL_PATTERN,
                description="URL that receives the result (https; plain http only where the operator allows "
                "private networks).",
                examples=["https://shop.example/webhooks/imagery"],
            ),
        ]
        | None
    ) = None
    # Extensions (optional; defaults keep the spec's behaviour).
    seed: (
        Annotated[int, Meta(ge=0, le=MAX_SEED, description="Extension: seed for reproducible scenes.", examples=[42])]
        | None
    ) = None
    negative_prompt: (
        Annotated[
            str,
            Meta(
                max_length=MAX_PROMPT_CHARS,
                pattern=TEXT_PATTERN,
                description="Extension: what to keep out.",
                examples=["text, watermark"],
            ),
        ]
        | None
    ) = None
    num_variants: Annotated[
        int,
        Meta(
            ge=1,
            le=MAX_VARIANTS,
            description=f"Extension: 1–{MAX_VARIANTS} images in one job (scene styles).",
            examples=[1],
        ),
    ] = 1
    shadow: Annotated[
        Shadow,
        Meta(
            description="Extension: shadow under the product; natural keeps the photo's own shadow "
            "(studio_packshot, experimental).",
            examples=["soft"],
        ),
    ] = "soft"
    reflection: Annotated[bool, Meta(description="Extension: floor reflection.", examples=[False])] = False
    padding: (
        Annotated[
            float,
            Meta(
                ge=0,
                le=4096,
                description="Extension: margin around the product, ratio of the canvas (< 1) or px.",
                examples=[0.1],
            ),
        ]
        | None
    ) = None
    output_format: (
        Annotated[OutputFormat, Meta(description="Extension: jpeg (default), png or webp.", examples=["jpeg"])] | None
    ) = None
    cutout_engine: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            pattern=CUTOUT_ENGINE_PATTERN,
            description="Extension: which cut-out runs. auto (default): the best installed model, else classical; "
            "classical: the model-free segmenter; or the id of an installed cut-out model (GET /v1/models). "
            "A model that is not installed answers 403.",
            examples=["auto"],
        ),
    ] = "auto"
    on_low_confidence: Annotated[
        OnLowConfidence,
        Meta(
            description="Extension: what a result that needs review becomes. complete (default): completed with "
            "needs_review and review_reasons; fail: failed with unsupported_image and a message naming the reasons.",
            examples=["complete"],
        ),
    ] = "complete"
    preset: (
        Annotated[str, Meta(pattern=PRESET_ID_PATTERN, description=_PRESET_DOC, examples=["amazon_main"])] | None
    ) = None
    compliance_check: Annotated[PresetIds, Meta(description=_CHECK_DOC, examples=[["google_shopping"]])] | None = None
    mask_hint: Annotated[str, Meta(min_length=1, description=_HINT_DOC, examples=[HINT_EXAMPLE])] | None = None
    background_image: (
        Annotated[
            str,
            Meta(
                min_length=1, description=_BACKGROUND_IMAGE_DOC, examples=["https://shop.example/plates/oak-table.jpg"]
            ),
        ]
        | None
    ) = None
    backdrop: (
        Annotated[
            str,
            Meta(pattern=BACKDROP_ID_PATTERN, description=_BACKDROP_DOC, examples=["bdp_01j9xkm3p8fvz4q2n7tbhc6r0a"]),
        ]
        | None
    ) = None
    placement: Annotated[Placement | None, Meta(description=_PLACEMENT_DOC, examples=[{"x": 0.5, "y": 0.9}])] = None
    harmonize: Annotated[bool, Meta(description=_HARMONIZE_DOC, examples=[True])] = True
    background_blur: Annotated[float, Meta(ge=0, le=1, description=_BLUR_DOC, examples=[0.3])] = 0.0
    filename: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=255,
                pattern=FILENAME_PATTERN,
                description="Extension: the photo's file name (no folders), shown back and searchable with "
                "GET /v1/generations?filename=.",
                examples=["mug.jpg"],
            ),
        ]
        | None
    ) = None
    priority: Annotated[Priority, Meta(description=_PRIORITY_DOC, examples=["normal"])] = "normal"


class PriorityChange(Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/generate/{id}/priority`` (extension): a waiting generation's new priority."""

    schema_example_fields: ClassVar[tuple[str, ...]] = ("priority",)

    priority: Annotated[Priority, Meta(description=_PRIORITY_DOC, examples=["high"])]


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


if TYPE_CHECKING:

    class RerunRequest(Struct):
        """Body of ``POST /v1/generate/{id}/rerun`` (built below from GenerateRequest; a stub for type checkers)."""

        schema_example_fields: ClassVar[tuple[str, ...]]

else:
    # Every field of GenerateRequest but the photo, optional: one declaration of each field's constraints and text.
    RerunRequest = msgspec.defstruct(
        "RerunRequest",
        [
            (name, get_type_hints(GenerateRequest, include_extras=True)[name] | msgspec.UnsetType, msgspec.UNSET)
            for name in GenerateRequest.__struct_fields__
            if name != "product_image"
        ],
        kw_only=True,
        forbid_unknown_fields=True,
        module=__name__,
    )
    RerunRequest.__doc__ = (
        "Body of POST /v1/generate/{id}/rerun: fields given replace the source job's, fields omitted keep them "
        "(mask_hint is never kept: send the whole hint each time)."
    )
    RerunRequest.schema_example_fields = ("background", "mask_hint")


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

    code: str
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
        description="Extension: what made the image: `classical`, `procedural`, `onnx:<model>`, `diffusion:<model>`.",
        examples=["classical"],
    ),
]
Confidence = Annotated[
    float, Meta(description="Extension: how sure the cut-out is, 0–1 (calibrated; low values need review).")
]
NeedsReview = Annotated[
    bool, Meta(description="Extension: the result is probably wrong somewhere; review_reasons say where, in words.")
]
ReviewReasons = Annotated[list[ReviewReason], Meta(description="Extension: why it needs review (code + message).")]
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
