"""The shadow and reflection drawn with a studio packshot stay inside the frame, with the requested padding.

Breaker session 11 (B11-0): a hard shadow was cut by the right edge on every photo tried; the layout counted
the product's box only. Each test renders on white and reads the output's pixels: the product keeps its padding
(the API's margin around the product), whatever its shadow or reflection darkens keeps clear of the frame by half
that margin (``layout.EFFECT_CLEARANCE``), so the canvas's border rows and columns stay 255.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from paqshot_server.imaging.layout import effects_area, padded_area
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import render_packshot
from PIL import Image

LONG_SIDE = 256
RATIOS = ("1:1", "9:16", "16:9")
PADDINGS = (None, 0.02, 24)  # the default fill, a tight ratio, pixels


def _cutout(shape: str) -> Image.Image:
    """A grey product on a transparent canvas (its alpha is the matte): shapes that cast far in one direction."""
    alpha = np.zeros((300, 300), np.uint8)
    if shape == "square":
        alpha[60:240, 60:240] = 255
    elif shape == "tall":  # a thin pole: the hard shadow's shear carries its top 0.9 of its height sideways
        alpha = np.zeros((600, 200), np.uint8)
        alpha[20:580, 90:110] = 255
    elif shape == "wide":  # a long bar: the floating shadow's blur reaches past its ends
        alpha = np.zeros((200, 600), np.uint8)
        alpha[80:120, 20:580] = 255
    elif shape == "lamp":  # a base, a pole and an arm reaching right at the top
        alpha = np.zeros((400, 300), np.uint8)
        alpha[350:380, 30:150] = 255
        alpha[40:380, 80:100] = 255
        alpha[40:80, 80:280] = 255
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., :3] = 90
    rgba[..., 3] = alpha
    return Image.fromarray(rgba)


def _render(shape: str, **options: object) -> np.ndarray:
    opts = RenderOptions(long_side=LONG_SIDE, output_format="png", background="white", **options)  # type: ignore[arg-type]
    data = render_packshot(_cutout(shape), opts).images[0].data
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def _outside(out: np.ndarray, area: tuple[float, float, float, float]) -> np.ndarray:
    """The output's pixels outside ``area`` (widened by a pixel of rounding)."""
    left, top, right, bottom = area
    keep = np.ones(out.shape[:2], bool)
    keep[max(0, math.floor(top) - 1) : math.ceil(bottom) + 1, max(0, math.floor(left) - 1) : math.ceil(right) + 1] = (
        False
    )
    return out[keep]


def _check(out: np.ndarray, padding: float | None) -> None:
    canvas = (out.shape[1], out.shape[0])
    border = np.concatenate([out[0], out[-1], out[:, 0], out[:, -1]])
    assert (border == 255).all(), "darkened at the frame's edge"
    assert (_outside(out, effects_area(canvas, padding)) == 255).all(), "darkened in the clearance at the frame"
    product = (out == 90).all(axis=2)
    assert product.any() and not _outside(product, padded_area(canvas, padding)).any(), "the product left its padding"


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize(
    "effect", [{"shadow": "hard"}, {"shadow": "soft"}, {"shadow": "floating"}, {"shadow": "none", "reflection": True}]
)
def test_the_shadow_and_reflection_stay_inside_the_padded_frame(effect: dict[str, object], ratio: str) -> None:
    for shape in ("square", "tall", "wide", "lamp"):
        for padding in PADDINGS:
            try:
                _check(_render(shape, aspect_ratio=ratio, padding=padding, **effect), padding)
            except AssertionError as failed:
                raise AssertionError(f"{shape}, padding {padding}: {failed}") from None


@pytest.mark.parametrize("ratio", RATIOS)
def test_the_hard_shadow_is_kept_whole_beside_the_product(ratio: str) -> None:
    out = _render("tall", aspect_ratio=ratio, shadow="hard")
    product = (out == 90).all(axis=2)
    shade = (out < 250).any(axis=2) & ~product
    rows, cols = np.nonzero(product)
    # Cast to the right of the product by ~0.9 of the pole's height squashed onto the floor: reaching well past it.
    right_of = shade[:, cols.max() + 1 :]
    assert right_of.sum() > 0
    reach = np.nonzero(right_of.any(axis=0))[0].max()
    assert reach > 0.5 * (rows.max() - rows.min())
    # ... and the pole is not squeezed to a sliver: its layout shrank to make room, it did not vanish.
    assert rows.max() - rows.min() > 0.25 * out.shape[0]


def test_natural_shadow_stays_inside_the_frame() -> None:
    import evalset

    sample = evalset.make_sample("mug", "white", size=360)  # has a soft contact shadow
    for ratio in RATIOS:
        opts = RenderOptions(
            long_side=LONG_SIDE, shadow="natural", output_format="png", aspect_ratio=ratio, padding=0.02
        )
        out = np.asarray(Image.open(io.BytesIO(render_packshot(sample.image, opts).images[0].data)).convert("RGB"))
        border = np.concatenate([out[0], out[-1], out[:, 0], out[:, -1]])
        assert (border == 255).all(), ratio
        assert (_outside(out.astype(int), effects_area((out.shape[1], out.shape[0]), 0.02)) == 255).all(), ratio


def test_a_product_made_much_smaller_for_its_shadow_says_so() -> None:
    data = _cutout("tall")
    opts = {"long_side": LONG_SIDE, "aspect_ratio": "9:16", "output_format": "png"}
    hard = render_packshot(data, RenderOptions(shadow="hard", **opts))  # type: ignore[arg-type]
    soft = render_packshot(data, RenderOptions(shadow="soft", **opts))  # type: ignore[arg-type]
    assert any("smaller to keep its hard shadow inside the frame" in note for note in hard.notes), hard.notes
    assert not any("smaller" in note for note in soft.notes), soft.notes
