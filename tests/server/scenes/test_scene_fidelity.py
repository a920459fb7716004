"""Product pixels are never altered: where the placed product's alpha is 1, the scene's pixels are the
product's own (resampled only by the layout's scale), in every style, scene type and aspect ratio."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from paqshot_server.imaging.options import SCENE_TYPES, RenderOptions
from paqshot_server.imaging.scenes import SCENE_STYLES, render_scene
from scene_support import decode


def assert_product_exact(image, result, expected_product, index: int = 0) -> None:  # type: ignore[no-untyped-def]
    out = decode(result, index)
    rgb, solid, (x, y) = expected_product(image, result, index)
    h, w = solid.shape
    assert x >= 0 and y >= 0 and x + w <= out.shape[1] and y + h <= out.shape[0], "product must be inside the frame"
    region = out[y : y + h, x : x + w]
    assert solid.sum() > 500
    mismatch = np.any(region != rgb, axis=2) & solid
    assert not mismatch.any(), f"{int(mismatch.sum())} product pixels differ"


@pytest.mark.parametrize(("style", "scene_type"), list(itertools.product(SCENE_STYLES, SCENE_TYPES)))
def test_product_pixels_exact_in_every_style(bottle, expected_product, style: str, scene_type: str) -> None:
    for people in ("none", "with_people"):
        opts = RenderOptions(
            style=style,
            scene_type=scene_type,
            people=people,
            location="cafe",
            seed=3,
            output_format="png",
            long_side=320,
        )
        result = render_scene(bottle, opts)
        assert result.engine == "procedural"
        assert_product_exact(bottle, result, expected_product)


@pytest.mark.parametrize("aspect", ["16:9", "9:16", "3:2"])
def test_product_pixels_exact_across_aspects_and_reflection(wide_box, expected_product, aspect: str) -> None:
    opts = RenderOptions(
        style="mockup",
        aspect_ratio=aspect,
        location="urban",
        reflection=True,
        seed=9,
        output_format="png",
        long_side=300,
        num_variants=2,
    )
    result = render_scene(wide_box, opts)
    for i in range(2):
        assert_product_exact(wide_box, result, expected_product, i)


def test_product_pixels_exact_from_a_photo(photo, expected_product) -> None:
    """An RGB photo goes through the classical cut-out; the solid part of its matte is still exact."""
    result = render_scene(
        photo, RenderOptions(style="lifestyle", location="nature", seed=1, output_format="png", long_side=256)
    )
    assert_product_exact(photo, result, expected_product)
