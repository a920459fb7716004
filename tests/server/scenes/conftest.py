"""Fixtures for the scene tests: small synthetic products (RGBA cut-outs and a photo on a plain background)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from paqshot_server.imaging.compose import layer_from_cutout
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.layout import Placement
from paqshot_server.imaging.result import RenderResult
from PIL import Image, ImageDraw
from scene_support import decode  # noqa: F401 - re-exported for older imports


def _bottle_rgba(size: tuple[int, int] = (120, 200)) -> Image.Image:
    """A tall product with texture (every pixel distinct enough to catch any resampling or repainting)."""
    w, h = size
    mask = Image.new("L", size, 0)
    d = ImageDraw.Draw(mask)
    d.rounded_rectangle([20, 60, 100, 190], 12, fill=255)
    d.rectangle([45, 10, 75, 70], fill=255)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    rgb[..., 1] = np.linspace(40, 200, w, dtype=np.uint8)[None, :]
    return Image.fromarray(np.dstack([rgb, np.asarray(mask)]), "RGBA")


def _box_rgba() -> Image.Image:
    """A wide product (wider than tall)."""
    w, h = 220, 120
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[10:110, 10:210, :3] = np.random.default_rng(1).integers(0, 256, (100, 200, 3), dtype=np.uint8)
    rgba[10:110, 10:210, 3] = 255
    return Image.fromarray(rgba, "RGBA")


@pytest.fixture
def bottle() -> Image.Image:
    return _bottle_rgba()


@pytest.fixture
def wide_box() -> Image.Image:
    return _box_rgba()


@pytest.fixture
def photo() -> Image.Image:
    """An RGB photo: a dark product on a plain light background (goes through the classical cut-out)."""
    img = Image.new("RGB", (160, 200), (244, 244, 242))
    ImageDraw.Draw(img).rounded_rectangle([50, 30, 110, 180], 10, fill=(30, 90, 60))
    return img


@pytest.fixture
def expected_product() -> Callable[[Image.Image, RenderResult, int], tuple[np.ndarray, np.ndarray, tuple[int, int]]]:
    """(rgb, solid mask, (x, y)) of the product as the scene must have placed it: the cut-out resampled to the
    variant's recorded box, exactly as the studio compositor does."""

    def build(image: Image.Image, result: RenderResult, index: int = 0):  # type: ignore[no-untyped-def]
        scene = result.meta["variants"][index]  # type: ignore[index]
        canvas = tuple(result.meta["canvas"])  # type: ignore[arg-type]
        placement = Placement(
            canvas,
            tuple(scene["source_box"]),
            float(result.meta["scale"]),  # type: ignore[arg-type]
            tuple(scene["product_box"]),
        )
        layer = layer_from_cutout(cutout(image), placement)
        return layer.rgb, layer.alpha >= 1.0, (layer.x, layer.y)

    return build
