"""Request bodies of the v1 API (msgspec Structs that forbid unknown fields), with the patterns their text fields
must match and each pattern's words (``api.explain`` quotes the words). New fields always come with defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, get_type_hints

import msgspec
from msgspec import Meta, Struct

from ..ids import id_pattern
from ..imaging.options import (
    LOCATIONS,
    MAX_LOCATION_CHARS,
    MAX_PROMPT_CHARS,
    MAX_SEED,
    MAX_VARIANTS,
    MODEL_ENGINE_PREFIX,
    NAMED_BACKGROUNDS,
    STYLES,
    AspectRatio,
    OnLowConfidence,
    OutputFormat,
    People,
    SceneType,
    Shadow,
    Style,
    cutout_choice,
)
from ..imaging.presets import PRESET_ID_PATTERN, PresetIds
from ..imaging.scenes.kinds import scene_type_doc
from ..imaging.styles import family, style_doc
from ..net.urls import MAX_URL, url_pattern, url_words
from ..patterns import END
from ..storage.fair import Priority

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
# auto, classical or a model id (manifests' id rule), which may carry the engine name's prefix
CUTOUT_ENGINE_PATTERN = _pattern(
    rf"^({MODEL_ENGINE_PREFIX})?[a-z0-9][a-z0-9._-]{{0,63}}{END}",
    "auto, classical or the id of an installed cut-out model (lowercase letters, digits, '.', '_' and '-'; "
    f"'{MODEL_ENGINE_PREFIX}' before it, as results name it, is accepted)",
)
_pattern(PRESET_ID_PATTERN, "a preset id: a lowercase letter, then up to 63 lowercase letters, digits or '_'")
FILENAME_PATTERN = _pattern(r"^[^/\\\x00-\x1f]+" + END, "a file name without folders or control characters")
GENERATION_ID_PATTERN = _pattern(id_pattern("gen") + END, "a generation id: gen_ and 26 lowercase letters and digits")
BACKDROP_ID_PATTERN = _pattern(id_pattern("bdp") + END, "a backdrop id: bdp_ and 26 lowercase letters and digits")
# Characters of other scripts in a tag (breaker13 B13-7: "Küche", "キッチン" were refused): everything past ASCII
# in the Basic Multilingual Plane but C1 controls, the General Punctuation block (its spaces, zero-width and
# direction marks), surrogates, the byte-order mark and the specials. The same ranges in Python and ECMA-262.
_OTHER_SCRIPTS = r"\u00a0-\u1fff\u2070-\ud7ff\ue000-\ufefe\uff00-\uffef"
TAG_PATTERN = _pattern(
    rf"^[A-Za-z0-9{_OTHER_SCRIPTS}][A-Za-z0-9 _\-{_OTHER_SCRIPTS}]{{0,39}}" + END,
    "a tag: a letter or a digit (A-Z, a-z, 0-9 or of another script: Küche, キッチン), then up to 39 such "
    "letters, digits, spaces, '_' or '-'",
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
    "(input_url, after EXIF orientation) or that size scaled down by one factor to at least 128 px on its long "
    "side. Grey >= 192: product (the cut-out "
    "keeps it), <= 63: background (removed), between: unknown (the cut-out decides); pixels with alpha < 128 are "
    "unknown. Write 255 / 0 / 128; a hint that is background everywhere is refused. It changes the matte only "
    "where it says, except that a remove stroke in the backdrop's colour inside an opening of the product (a "
    "handle's loop) removes the whole opening; product pixels stay the photo's. "
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
_REMOVE_SHADOW_DOC = (
    "Extension: the photo's own cast shadow is background wherever the cut-out finds it, even where the cut-out "
    "model was sure it belongs to the product (a repair, with rerun). By default shadows the model was unsure of "
    "are already removed; the classical cut-out always removes them."
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
                description="Extension: margin around the product, a share of the canvas's short side (< 1) or px. "
                "It must leave the product room: under half the short side (400 otherwise).",
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
            max_length=64 + len(MODEL_ENGINE_PREFIX),
            pattern=CUTOUT_ENGINE_PATTERN,
            description="Extension: which cut-out runs. auto (default): the best installed model, else classical; "
            "classical: the model-free segmenter; or the id of an installed cut-out model (GET /v1/models), "
            "also as results name it (onnx:<id>); alpha, as results name a photo's own transparency, is taken as "
            "auto. An id of no cut-out model answers 400; a cut-out model of the "
            "catalogue that is not installed here answers 403.",
            examples=["auto"],
        ),
    ] = "auto"
    on_low_confidence: Annotated[
        OnLowConfidence,
        Meta(
            description="Extension: what a result that needs review becomes. complete (default): completed with "
            "needs_review and review_reasons; fail: failed with unsupported_image and a message naming the reasons, "
            "the job (and its webhook) keeping confidence, needs_review and review_reasons.",
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
    remove_photo_shadow: Annotated[bool, Meta(description=_REMOVE_SHADOW_DOC, examples=[True])] = False
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

    def __post_init__(self) -> None:
        self.cutout_engine = cutout_choice(self.cutout_engine)


class PriorityChange(Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/generate/{id}/priority`` (extension): a waiting generation's new priority."""

    schema_example_fields: ClassVar[tuple[str, ...]] = ("priority",)

    priority: Annotated[Priority, Meta(description=_PRIORITY_DOC, examples=["high"])]


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
