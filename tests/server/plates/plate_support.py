"""Helpers shared by the plate tests (importable by name; conftest modules are not): the project's own plates
(``tests/fixtures/plates``, made by the procedural set renderer; ``make_plates.py`` there) with the truths they
were made with, and small products."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

PLATES = Path(__file__).resolve().parents[2] / "fixtures" / "plates"


def plate_truths() -> dict[str, dict[str, Any]]:
    return tomllib.loads((PLATES / "plates.toml").read_text())


def plate_image(name: str) -> Image.Image:
    with Image.open(PLATES / f"{name}.jpg") as image:
        return image.convert("RGB")


def bottle() -> Image.Image:
    """A tall textured product with its own alpha (every pixel distinct: any repaint or resample shows)."""
    w, h = 120, 200
    mask = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(mask)
    d.rounded_rectangle([20, 60, 100, 199], 12, fill=255)
    d.rectangle([45, 10, 75, 70], fill=255)
    rng = np.random.default_rng(0)
    rgb = rng.integers(40, 216, (h, w, 3), dtype=np.uint8)
    return Image.fromarray(np.dstack([rgb, np.asarray(mask)]), "RGBA")


def photo_on(background: tuple[int, int, int], size: tuple[int, int] = (300, 400)) -> Image.Image:
    """An opaque photo: a grey-green product (with a light label) standing on a plain ``background``."""
    img = Image.new("RGB", size, background)
    d = ImageDraw.Draw(img)
    w, h = size
    d.rounded_rectangle([w * 0.3, h * 0.2, w * 0.7, h * 0.85], 12, fill=(70, 110, 90))
    d.rectangle([w * 0.3, h * 0.45, w * 0.7, h * 0.6], fill=(225, 220, 205))
    return img
