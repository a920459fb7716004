"""What a generation asks for, as plain data the image layer understands (no wire types here).

The API's request Struct and the CLI flags both convert into :class:`RenderOptions`; every engine
(studio compositor, procedural scenes, generative inpainting) reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# The request vocabulary, declared once: the API's wire types, the CLI's flags and storage's typed rows
# use these Literals; the tuples are the same values for membership tests and argparse choices.
Style = Literal["studio_packshot", "lifestyle", "editorial", "mockup"]
SceneType = Literal["auto", "action", "abstract", "product_packshot"]
AspectRatio = Literal["1:1", "4:3", "16:9", "9:16", "3:2", "2:3"]
People = Literal["none", "with_people", "without_people"]
Shadow = Literal["none", "soft", "hard", "floating", "natural"]
OutputFormat = Literal["jpeg", "png", "webp"]

STYLES: tuple[Style, ...] = get_args(Style)
SCENE_TYPES: tuple[SceneType, ...] = get_args(SceneType)
ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)
PEOPLE: tuple[People, ...] = get_args(People)
SHADOWS: tuple[Shadow, ...] = get_args(Shadow)
OUTPUT_FORMATS: tuple[OutputFormat, ...] = get_args(OutputFormat)
LOCATIONS = ("office", "outdoor", "cafe", "studio", "urban", "nature")

# Request limits, declared once (the wire schema, capabilities, the CLI and the docs read these).
MAX_VARIANTS = 4
MAX_PROMPT_CHARS = 500
MAX_LOCATION_CHARS = 200
MAX_SEED = 2**32 - 1
NAMED_BACKGROUNDS = {
    "white": (255, 255, 255),
    "off_white": (245, 243, 238),
    "light_gray": (230, 230, 230),
    "black": (0, 0, 0),
}
# Long side of outputs unless a setting or preset says otherwise: above the 1,600 px that marketplaces
# recommend for zoom (docs/presets.md).
DEFAULT_LONG_SIDE = 2048
# Cut-out engine choice (request extension ``cutout_engine``): these two, or an installed model's id.
AUTO_CUTOUT = "auto"  # the best installed cut-out model, else the classical segmenter
CLASSICAL_CUTOUT = "classical"
MODEL_ENGINE_PREFIX = "onnx:"  # how results name the cut-out model that ran (``onnx:<model id>``)
OWN_ALPHA = "alpha"  # how results name the photo's own transparency used as the matte


def cutout_choice(value: str) -> str:
    """A ``cutout_engine`` choice as stored: every name a result reports can be sent back to ask for it again
    (breaker6 F4, breaker12 B12-9): ``onnx:<model id>`` is taken as the model id itself, and ``alpha`` (the photo's
    own transparency) as ``auto``, under which a photo with transparency is cut by its alpha channel."""
    if value == OWN_ALPHA:
        return AUTO_CUTOUT
    return value.removeprefix(MODEL_ENGINE_PREFIX)


# What a result that needs review becomes (request extension ``on_low_confidence``).
OnLowConfidence = Literal["complete", "fail"]
ON_LOW_CONFIDENCE: tuple[OnLowConfidence, ...] = get_args(OnLowConfidence)


@dataclass(frozen=True)
class ProductPlacement:
    """Request extension ``placement``: where the product goes on a backdrop plate, as fractions of the output.

    ``x``: the product's horizontal centre (0 left .. 1 right); ``y``: its base, where it stands (0 top .. 1
    bottom); ``scale``: the share of the output's limiting side it fills (the layout rules' *fill*: the product
    box fits in ``scale`` x width by ``scale`` x height, touching one of them); ``floor_y``: the contact line
    its shadow lies on (default: ``y``, the product stands on the floor). None: the layout rules decide.
    """

    x: float | None = None
    y: float | None = None
    scale: float | None = None
    floor_y: float | None = None


@dataclass(frozen=True)
class RenderOptions:
    """Every request field that changes pixels. Defaults are the spec's defaults.

    ``background`` is a name from NAMED_BACKGROUNDS, ``#RRGGBB`` or ``transparent`` (cut-out only).
    ``padding`` is a ratio of the canvas (< 1) or pixels (>= 1); None means the default margin.
    ``output_format`` None means JPEG, or PNG when the background is transparent.
    ``cutout_engine`` is ``auto``, ``classical`` or the id of an installed cut-out model.
    ``backdrop`` names a backdrop plate of the library (the request's own ``background_image`` reaches the
    engine as a plate, not as an option); ``placement``, ``harmonize`` and ``background_blur`` apply when the
    product is placed on a plate (``imaging/plates``). ``placement`` may also be given as a stored JSON object
    or the API's ``Placement`` (anything with ``x``, ``y``, ``scale``, ``floor_y``).
    ``remove_photo_shadow``: every cast shadow of the photo is background, however sure the cut-out model was.
    ``max_file_bytes``: the largest file the checked presets allow (``rules.max_file_bytes``); a JPEG or WebP
    over it steps its quality down (``encode.render_image``). None: no limit. No request field: set from the
    job's presets when it is rendered.
    """

    style: str = "studio_packshot"
    scene_type: str = "auto"
    background: str | None = None
    aspect_ratio: str = "1:1"
    people: str = "none"
    location: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    shadow: str = "soft"
    reflection: bool = False
    padding: float | None = None
    output_format: str | None = None
    num_variants: int = 1
    long_side: int = DEFAULT_LONG_SIDE
    jpeg_quality: int = 92
    cutout_engine: str = AUTO_CUTOUT
    backdrop: str | None = None
    placement: ProductPlacement | None = None
    harmonize: bool = True
    background_blur: float = 0.0
    remove_photo_shadow: bool = False
    max_file_bytes: int | None = None

    def __post_init__(self) -> None:
        given = self.placement
        if given is not None and not isinstance(given, ProductPlacement):  # a stored object, or the wire's Struct
            fields = ("x", "y", "scale", "floor_y")
            values = (
                {k: given.get(k) for k in fields} if isinstance(given, dict) else {k: getattr(given, k) for k in fields}
            )
            object.__setattr__(self, "placement", ProductPlacement(**values))


def parse_aspect_ratio(value: str) -> tuple[int, int]:
    """``"16:9"`` -> (16, 9)."""
    w, h = value.split(":")
    return int(w), int(h)
