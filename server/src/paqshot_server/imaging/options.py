"""What a generation asks for, as plain data the image layer understands (no wire types here).

The API's request Struct and the CLI flags both convert into :class:`RenderOptions`; every engine
(studio compositor, procedural scenes, generative inpainting) reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass

STYLES = ("studio_packshot", "lifestyle", "editorial", "mockup")
SCENE_TYPES = ("auto", "action", "abstract", "product_packshot")
ASPECT_RATIOS = ("1:1", "4:3", "16:9", "9:16", "3:2", "2:3")
PEOPLE = ("none", "with_people", "without_people")
LOCATIONS = ("office", "outdoor", "cafe", "studio", "urban", "nature")
NAMED_BACKGROUNDS = {
    "white": (255, 255, 255),
    "off_white": (245, 243, 238),
    "light_gray": (230, 230, 230),
    "black": (0, 0, 0),
}
SHADOWS = ("none", "soft", "hard", "floating", "natural")
OUTPUT_FORMATS = ("jpeg", "png", "webp")
AUTO_CUTOUT = "auto"  # the best installed cut-out model, else the classical segmenter
CLASSICAL_CUTOUT = "classical"


@dataclass(frozen=True)
class RenderOptions:
    """Every request field that changes pixels. Defaults are the spec's defaults.

    ``background`` is a name from NAMED_BACKGROUNDS, ``#RRGGBB`` or ``transparent`` (cut-out only).
    ``padding`` is a ratio of the canvas (< 1) or pixels (>= 1); None means the default margin.
    ``output_format`` None means JPEG, or PNG when the background is transparent.
    ``cutout_engine`` is ``auto``, ``classical`` or the id of an installed cut-out model.
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
    long_side: int = 1024
    jpeg_quality: int = 92
    cutout_engine: str = AUTO_CUTOUT


def parse_aspect_ratio(value: str) -> tuple[int, int]:
    """``"16:9"`` -> (16, 9)."""
    w, h = value.split(":")
    return int(w), int(h)
