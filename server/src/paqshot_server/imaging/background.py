"""Background canvases: the spec's named colours, ``#RRGGBB`` and ``transparent``."""

from __future__ import annotations

import re

import numpy as np

from ..errors import InvalidRequest
from .options import NAMED_BACKGROUNDS

DEFAULT_BACKGROUND = "white"
TRANSPARENT = "transparent"
_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def parse_background(value: str | None) -> tuple[int, int, int] | None:
    """RGB of a background value, or None for ``transparent``. Raises InvalidRequest on anything else."""
    name = (value or DEFAULT_BACKGROUND).strip()
    if name.lower() == TRANSPARENT:
        return None
    if name.lower() in NAMED_BACKGROUNDS:
        return NAMED_BACKGROUNDS[name.lower()]
    match = _HEX.match(name)
    if match:
        raw = match.group(1)
        return int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16)
    raise InvalidRequest(
        f"background {value!r} is not one of {', '.join([*NAMED_BACKGROUNDS, TRANSPARENT])} or #RRGGBB."
    )


def solid_canvas(size: tuple[int, int], colour: tuple[int, int, int]) -> np.ndarray:
    """uint8 (height, width, 3) canvas of one colour; ``size`` is (width, height)."""
    canvas = np.empty((size[1], size[0], 3), np.uint8)
    canvas[0] = np.asarray(colour, np.uint8)  # one row by broadcasting (slow per pixel), then row copies (fast)
    canvas[1:] = canvas[0]
    return canvas
