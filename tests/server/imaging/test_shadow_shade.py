"""A synthetic shadow's part that darkens (``shadow.shadow_shade``): the packshot composites that part, not a
canvas-sized plane of ones around it (16 MB of float32 at 2048², and the scans of it); the pixels are the same."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.background import solid_canvas
from paqshot_server.imaging.compose import ProductLayer, composite
from paqshot_server.imaging.shadow import shadow_layer, shadow_shade

CANVAS = (320, 240)


def _layer(x: int, y: int) -> ProductLayer:
    """A product with a soft edge and a hole (its alpha is the matte), 120 x 80 px at (x, y)."""
    alpha = np.zeros((120, 80), np.float32)
    alpha[10:115, 15:65] = 1.0
    alpha[40:60, 30:50] = 0.0
    alpha[8:10, 15:65] = 0.5
    rgb = np.random.default_rng(4).integers(0, 256, (120, 80, 3), dtype=np.uint8)
    return ProductLayer(rgb, alpha, x, y)


CASES = [
    (kind, length, at)
    for kind in ("soft", "hard", "floating")
    for length in (1.0, 0.4)
    for at in ((120, 40), (250, 60), (-30, 60))  # inside; the shadow past the right edge; the product past the left
]


@pytest.mark.parametrize(("kind", "length", "at"), CASES)
def test_the_shade_is_the_layer_where_it_darkens_and_the_layer_is_one_elsewhere(
    kind: str, length: float, at: tuple[int, int]
) -> None:
    layer = _layer(*at)
    box = (layer.x, layer.y, layer.x + 80, layer.y + 120)
    whole = shadow_layer(kind, layer, CANVAS, box, length=length)
    part = shadow_shade(kind, layer, CANVAS, box, length=length)
    assert whole is not None and part is not None
    h, w = part.values.shape
    assert part.x >= 0 and part.x + w <= CANVAS[0] and part.y >= 0 and part.y + h <= CANVAS[1]
    assert np.array_equal(whole[part.y : part.y + h, part.x : part.x + w], part.values)
    outside = np.ones(whole.shape, bool)
    outside[part.y : part.y + h, part.x : part.x + w] = False
    assert (whole[outside] == 1.0).all() and (part.values < 1.0).any()


@pytest.mark.parametrize(("kind", "length", "at"), CASES[::2])
@pytest.mark.parametrize("background", ["white", "grey", "colour", "texture"])
def test_a_shade_composites_the_same_pixels_as_its_layer(
    kind: str, length: float, at: tuple[int, int], background: str
) -> None:
    layer = _layer(*at)
    box = (layer.x, layer.y, layer.x + 80, layer.y + 120)
    colours = {"white": (255, 255, 255), "grey": (200, 200, 200), "colour": (240, 200, 40), "texture": (0, 0, 0)}
    canvas = solid_canvas(CANVAS, colours[background])
    if background == "texture":  # a generated scene's background: no single colour
        canvas[...] = np.random.default_rng(5).integers(0, 256, canvas.shape, dtype=np.uint8)
    whole = composite(canvas, layer, shadow=shadow_layer(kind, layer, CANVAS, box, length=length))
    part = composite(canvas, layer, shadow=shadow_shade(kind, layer, CANVAS, box, length=length))
    assert np.array_equal(whole, part) and not np.array_equal(whole, composite(canvas, layer))


def test_nothing_to_darken_is_no_shade() -> None:
    layer = _layer(120, 60)
    box = (120, 60, 200, 180)
    assert shadow_shade("none", layer, CANVAS, box) is None
    assert shadow_shade("soft", layer, CANVAS, box, strength=0.0) is None
    far = _layer(2000, 2000)  # entirely off the canvas: nothing of it darkens the canvas
    assert shadow_shade("soft", far, CANVAS, (2000, 2000, 2080, 2120)) is None
    whole = shadow_layer("soft", far, CANVAS, (2000, 2000, 2080, 2120))
    assert whole is not None and (whole == 1.0).all()
