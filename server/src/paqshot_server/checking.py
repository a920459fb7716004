"""The standalone compliance check of any image (``POST /v1/check``, ``paqshot check``): an operator audits a
seller's existing photo against marketplace presets without generating anything.

The file is checked as it is (its own format, colour profile and size); the door check (size, pixel count,
format) comes first so a hostile file is refused before any measurement. The measurement is the one every
compliance report comes from (:func:`.imaging.compliance.audit`, the job's too): on the appliance's own output the
product is where the file's product map says, so the check gives the job's verdict whoever runs it. The map is
used only when its seal proves this appliance wrote it for these pixels (:mod:`.imaging.mapseal`): a seller's
own map, or an output edited since, proves nothing. On any other image the caller says how the product is found:
``paqshot check`` with the installed cut-out model, ``POST /v1/check`` with the classical cut-out (the API process
never loads an inference runtime; a check is measured, not rendered); the outcome names which
(``product_source``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from .errors import InvalidRequest
from .imaging import compliance, mapseal
from .imaging.compliance import ProductFinder
from .imaging.decode import decode_image
from .imaging.presets import MAX_CHECKS, PresetCatalogue
from .settings import Settings
from .signing import load_secret


@dataclass(frozen=True)
class CheckOutcome:
    """What the check found: the file's facts, one report per preset (JSON-ready dicts), and what located the
    product (``"recorded"``: the file's own product map, sealed by this appliance for its pixels; else the cut-out
    the caller named)."""

    width: int
    height: int
    format: str
    bytes: int
    compliance: list[dict[str, Any]]
    product_source: str


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
    data: bytes,
    ids: list[str],
    settings: Settings,
    presets: PresetCatalogue,
    find_product: ProductFinder,
    finder: str,
) -> CheckOutcome:
    """Measure ``data`` against every preset in ``ids`` (:func:`.imaging.compliance.audit`); ``find_product``
    (named ``finder``) locates the product when the file records no product map this appliance sealed for its
    pixels. Blocking (CPU): call it off the event loop.

    Raises:
        InvalidRequest: an unknown preset id (the message lists the known ones).
        ImageTooLarge, UnsupportedImage: the file fails the door check.
    """
    chosen = [presets.get(i) for i in ids]
    # The door check reads every byte; a JPEG's pixels at the smallest DCT scale (nothing of them is kept).
    decode_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels, at_least=(1, 1))
    # Read, never made (breaker15 B15-3: a check run outside the data folder made a new secret there): without the
    # appliance's secret no seal can be verified, and the product is found instead.
    secret = load_secret(settings.home)
    done = compliance.audit(data, chosen, find_product, finder, mapseal.key(secret) if secret else None)
    facts = done.facts
    reports = [r.as_dict() for r in done.reports]
    return CheckOutcome(facts.width, facts.height, facts.fmt, facts.size_bytes, reports, done.product_source)
