"""The standalone compliance check of any image (``POST /v1/check``, ``paqshot check``): an operator audits a
seller's existing photo against marketplace presets without generating anything.

The file is checked as it is (its own format, colour profile and size); the door check (size, pixel count,
format) comes first so a hostile file is refused before any measurement. The caller says how the product is
found: ``paqshot check`` with the installed cut-out model, ``POST /v1/check`` with the classical cut-out (the API
process never loads an inference runtime; a check is measured, not rendered).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from .errors import InvalidRequest
from .imaging import compliance
from .imaging.compliance import ProductFinder
from .imaging.decode import decode_image
from .imaging.presets import MAX_CHECKS, PresetCatalogue
from .settings import Settings

# Long side (px) of the copy the pixel rules measure a bigger image on (``compliance.decode``: 1024-2047 px). The
# rules are shares of the image and levels: at 1024 px a region of MIN_REGION_SHARE is still 105 px (over
# MIN_REGION_PX) and the guard band is its GUARD_MIN_PX floor; the real photos the rules were tried on are
# 500-999 px. A 36 MP JPEG is measured at 1500 px (DCT-scaled 1/4), not at 6000.
MEASURE_LONG_SIDE = 1024


@dataclass(frozen=True)
class CheckOutcome:
    """What the check found: the file's facts and one report per preset (JSON-ready dicts)."""

    width: int
    height: int
    format: str
    bytes: int
    compliance: list[dict[str, Any]]


def preset_ids(preset: str | None, more: list[str] | None) -> list[str]:
    """The presets to check, in order, without repeats. Raises InvalidRequest when none is named, or when
    ``more`` names over MAX_CHECKS (``preset`` comes on top, as the served schema says)."""
    if len(more or []) > MAX_CHECKS:
        raise InvalidRequest(f"compliance_check names at most {MAX_CHECKS} presets.")
    ids = list(dict.fromkeys([*([preset] if preset else []), *(more or [])]))
    if not ids:
        raise InvalidRequest("Name a preset (preset) or presets (compliance_check) to check the image against.")
    return ids


def classical_product(image: Image.Image) -> np.ndarray:
    """uint8 (H, W) alpha of the product: the image's own alpha, else the classical cut-out. What the API process
    uses (it never loads an inference runtime); ``paqshot check`` uses the installed model
    (``Engines.find_product``)."""
    from .imaging.cutout import cutout

    return cutout(image, None).alpha8


def check_image(
    data: bytes, ids: list[str], settings: Settings, presets: PresetCatalogue, find_product: ProductFinder
) -> CheckOutcome:
    """Measure ``data`` against every preset in ``ids``; ``find_product`` locates the product for pixel rules, once,
    on the copy they measure (``MEASURE_LONG_SIDE``). Blocking (CPU): call it off the event loop.

    Raises:
        InvalidRequest: an unknown preset id (the message lists the known ones).
        ImageTooLarge, UnsupportedImage: the file fails the door check.
    """
    chosen = [presets.get(i) for i in ids]
    # The door check reads every byte; a JPEG's pixels at the smallest DCT scale (nothing of them is kept).
    decode_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels, at_least=(1, 1))
    facts = compliance.decode(data, MEASURE_LONG_SIDE)
    found: list[np.ndarray] = []

    def product(image: Image.Image) -> np.ndarray:  # every preset measures the same product
        if not found:
            found.append(find_product(image))
        return found[0]

    reports = [compliance.measure(facts, p, find_product=product).as_dict() for p in chosen]
    return CheckOutcome(facts.width, facts.height, facts.fmt, facts.size_bytes, reports)
