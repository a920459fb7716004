"""Invalid requests fail with the domain errors the API maps to 400 / 422, naming the field."""

from __future__ import annotations

import pytest
from paqshot_server.errors import InvalidRequest, UnsupportedImage
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.scenes import render_scene, validate
from PIL import Image

BAD = [
    (dict(style="studio_packshot"), "style"),
    (dict(style="cinematic"), "style"),
    (dict(scene_type="portrait"), "scene_type"),
    (dict(people="crowd"), "people"),
    (dict(aspect_ratio="5:4"), "aspect_ratio"),
    (dict(prompt="x" * 501), "prompt"),
    (dict(negative_prompt="x" * 501), "negative_prompt"),
    (dict(location="x" * 201), "location"),
    (dict(num_variants=0), "num_variants"),
    (dict(num_variants=5), "num_variants"),
    (dict(seed=-1), "seed"),
    (dict(seed=2**32), "seed"),
    (dict(background="transparent"), "transparent"),
    (dict(background="#12345"), "background"),
    (dict(background="mauve"), "background"),
    (dict(shadow="natural"), "shadow"),
    (dict(shadow="dramatic"), "shadow"),
]


@pytest.mark.parametrize(("fields", "named"), BAD)
def test_invalid_fields_raise_invalid_request_naming_the_field(fields: dict, named: str) -> None:
    opts = RenderOptions(**{"style": "lifestyle", **fields})
    with pytest.raises(InvalidRequest, match=named):
        validate(opts)


def test_limits_are_inclusive() -> None:
    validate(RenderOptions(style="mockup", prompt="x" * 500, num_variants=4, seed=2**32 - 1, background="#ABCDEF"))


def test_validation_happens_before_any_image_work() -> None:
    empty = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    with pytest.raises(InvalidRequest):
        render_scene(empty, RenderOptions(style="lifestyle", num_variants=9))


def test_an_image_without_a_product_is_unsupported() -> None:
    with pytest.raises(UnsupportedImage, match="no product"):
        render_scene(Image.new("RGBA", (64, 64), (10, 20, 30, 0)), RenderOptions(style="editorial", long_side=64))


def _framed(w: int, h: int) -> Image.Image:
    img = Image.new("RGBA", (w + 4, h + 4), (0, 0, 0, 0))
    img.paste((200, 50, 50, 255), (2, 2, w + 2, h + 2))
    return img


@pytest.mark.parametrize("size", [(1000, 50), (20, 400), (3, 3)])
def test_extreme_products_and_tiny_canvases_render_in_every_combination(size: tuple[int, int]) -> None:
    import itertools

    from paqshot_server.imaging.layout import exact_canvas_size
    from paqshot_server.imaging.options import SCENE_TYPES
    from paqshot_server.imaging.scenes import SCENE_STYLES

    product = _framed(*size)
    combos = itertools.product(SCENE_STYLES, SCENE_TYPES, ("9:16", "16:9"), ("none", "with_people"))
    for style, scene_type, aspect, people in combos:
        opts = RenderOptions(
            style=style, scene_type=scene_type, aspect_ratio=aspect, people=people, long_side=40, seed=1
        )
        result = render_scene(product, opts)
        assert (result.images[0].width, result.images[0].height) == exact_canvas_size(aspect, 40)
