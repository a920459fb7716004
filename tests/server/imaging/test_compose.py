"""Compositing: exact product pixels where alpha == 1, linear-light blending, transparency, shadows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paqshot_server.imaging.colour import to_linear, to_srgb8
from paqshot_server.imaging.compose import (
    ProductLayer,
    Shade,
    apply_shadow,
    composite,
    layer_from_cutout,
    outline_from_cutout,
    reflection_layer,
)
from paqshot_server.imaging.cutout import Cutout
from paqshot_server.imaging.layout import place
from PIL import Image


def _layer(rng: np.random.Generator, h: int = 40, w: int = 30, x: int = 5, y: int = 7) -> ProductLayer:
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    alpha = rng.choice(np.array([0.0, 1.0, 0.25, 0.5, 0.9], np.float32), size=(h, w))
    return ProductLayer(rgb, alpha, x, y)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31), x=st.integers(-20, 60), y=st.integers(-20, 60))
def test_exact_pixels_where_alpha_is_one(seed: int, x: int, y: int) -> None:
    rng = np.random.default_rng(seed)
    layer = _layer(rng, x=x, y=y)
    bg = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    out = composite(bg, layer)
    for ly in range(layer.alpha.shape[0]):
        for lx in range(layer.alpha.shape[1]):
            cy, cx = y + ly, x + lx
            if not (0 <= cy < 64 and 0 <= cx < 80):
                continue
            a = layer.alpha[ly, lx]
            if a == 1.0:
                assert (out[cy, cx] == layer.rgb[ly, lx]).all()
            elif a == 0.0:
                assert (out[cy, cx] == bg[cy, cx]).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), x=st.integers(-20, 60), y=st.integers(-20, 60), view=st.booleans())
def test_partial_pixels_are_the_linear_light_mix_where_the_layer_lands(seed: int, x: int, y: int, view: bool) -> None:
    rng = np.random.default_rng(seed)
    layer = _layer(rng, x=x, y=y)
    bg = rng.integers(0, 256, (64, 90, 3), dtype=np.uint8)
    canvas = bg.copy()[:, 5:85] if view else bg[:, 5:85].copy()  # a strided view of a wider canvas, or its own
    out = composite(canvas, layer, copy=False)
    assert out is canvas
    for ly, lx in zip(*np.nonzero((layer.alpha > 0) & (layer.alpha < 1)), strict=True):
        cy, cx = y + ly, x + lx
        if 0 <= cy < 64 and 0 <= cx < 80:
            a = layer.alpha[ly, lx]
            want = to_srgb8(to_linear(layer.rgb[ly, lx]) * a + to_linear(bg[cy, cx + 5]) * (1 - a))
            assert (out[cy, cx] == want).all(), (ly, lx)


def test_blend_is_in_linear_light() -> None:
    layer = ProductLayer(np.zeros((1, 1, 3), np.uint8), np.full((1, 1), 0.5, np.float32), 0, 0)
    out = composite(np.full((1, 1, 3), 255, np.uint8), layer)
    # half black over white in linear light is 0.5 linear = sRGB 188 (a gamma-space blend gives 128)
    assert tuple(out[0, 0]) == (188, 188, 188)


def test_background_untouched_outside_the_layer() -> None:
    rng = np.random.default_rng(1)
    bg = rng.integers(0, 256, (50, 50, 3), dtype=np.uint8)
    out = composite(bg, _layer(rng, 10, 10, 20, 20))
    mask = np.ones((50, 50), bool)
    mask[20:30, 20:30] = False
    assert (out[mask] == bg[mask]).all()


def test_transparent_canvas_keeps_colours_and_alpha() -> None:
    rng = np.random.default_rng(2)
    layer = _layer(rng, 10, 12, 3, 4)
    out = composite(None, layer, size=(20, 20))
    assert out.shape == (20, 20, 4)
    assert (out[4:14, 3:15, :3] == layer.rgb).all()
    assert (out[4:14, 3:15, 3] == np.round(layer.alpha * 255)).all()
    assert out[0, 0, 3] == 0


def test_shadow_multiplies_in_linear_light_only_where_dark() -> None:
    canvas = np.full((10, 10, 3), 200, np.uint8)
    shadow = np.ones((10, 10), np.float32)
    shadow[5, 5] = 0.5
    apply_shadow(canvas, shadow)
    expected = to_srgb8(to_linear(np.array([200], np.uint8)) * 0.5)[0]
    assert tuple(canvas[5, 5]) == (expected,) * 3
    assert (canvas[0, 0] == 200).all() and (canvas[9, 9] == 200).all()


@pytest.mark.parametrize("colour", [(255, 255, 255), (240, 240, 240), (200, 30, 90), (10, 200, 200)])
def test_a_shadow_on_a_solid_box_is_the_per_pixel_product(colour: tuple[int, int, int]) -> None:
    """The solid-colour path (one product per distinct channel value) gives the per-pixel formula's bytes, and a box
    that differs from its first pixel in one channel of one pixel takes the per-pixel path."""
    rng = np.random.default_rng(4)
    canvas = np.empty((60, 80, 3), np.uint8)
    canvas[...] = colour
    shade = np.ones((60, 80), np.float32)
    shade[20:50, 10:70] = rng.random((30, 60)).astype(np.float32)
    odd = canvas.copy()
    odd[49, 69, 2] ^= 1  # the shadow's last pixel, one channel
    for base in (canvas, odd):
        expected = base.copy()
        expected[20:50, 10:70] = to_srgb8(to_linear(base[20:50, 10:70]) * shade[20:50, 10:70, None])
        out = base.copy()
        apply_shadow(out, Shade(shade[15:55, 5:75], 5, 15))
        assert np.array_equal(out, expected)


def test_layer_at_scale_one_copies_the_cutout() -> None:
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    cut = Cutout(rgba, (10, 10, 40, 30), (100, 100), 1.0, "alpha", (10, 10, 40, 30))
    placement = place((10, 10, 40, 30), (100, 100), scale=1.0)
    layer = layer_from_cutout(cut, placement)
    assert (layer.rgb == rgba[..., :3]).all()
    assert (layer.alpha == 1.0).all()
    out = composite(np.zeros((100, 100, 3), np.uint8), layer)
    x, y = layer.x, layer.y
    assert (out[y : y + 20, x : x + 30] == rgba[..., :3]).all()


def test_downscaled_layer_has_no_background_bleed() -> None:
    # a red product with a hard edge on transparent: premultiplied resampling keeps edges red, not dark
    rgba = np.zeros((100, 100, 4), np.uint8)
    yy, xx = np.mgrid[0:100, 0:100]
    rgba[np.hypot(yy - 50, xx - 50) < 30] = (220, 30, 30, 255)
    cut = Cutout(rgba, (0, 0, 100, 100), (100, 100), 1.0, "alpha", (20, 20, 81, 81))
    layer = layer_from_cutout(cut, place((20, 20, 81, 81), (50, 50), padding=5.0))
    edge = (layer.alpha > 0.05) & (layer.alpha < 0.95)
    assert edge.any()
    assert (layer.rgb[edge][:, 0] > 180).all()


def test_reflection_is_mirrored_and_fades() -> None:
    rgb = np.zeros((10, 4, 3), np.uint8)
    rgb[-1] = 255  # bottom row white
    layer = ProductLayer(rgb, np.ones((10, 4), np.float32), 0, 0)
    refl = reflection_layer(layer, floor_y=10, opacity=0.5, depth=1.0)
    assert refl.y == 10
    assert (refl.rgb[0] == 255).all()  # the product's bottom touches the floor line
    assert refl.alpha[0, 0] == 0.5 and refl.alpha[-1, 0] < 0.05


def test_a_layer_reaching_far_past_the_canvas_is_resampled_only_where_it_can_show() -> None:
    """A faint matte across the whole photo, placed by a small solid part at a large scale (a frame-filling photo
    with u2netp): the layer stays near the canvas's size, and what shows is what the whole layer would show."""
    from paqshot_server.imaging.layout import Placement

    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (300, 400, 4), dtype=np.uint8)
    cut = Cutout(rgba, (0, 0, 400, 300), (400, 300), 1.0, "test", (0, 0, 400, 300))
    canvas = (256, 256)
    scale = 5.0  # the source's (150, 100)-(190, 140) fills the canvas's middle
    placement = Placement(canvas, (150, 100, 190, 140), scale, (28, 28, 228, 228))
    layer = layer_from_cutout(cut, placement)
    assert layer.alpha.shape[0] <= canvas[1] * 1.5 + 1 and layer.alpha.shape[1] <= canvas[0] * 1.5 + 1
    full = Image.fromarray(rgba, "RGBA").resize((2000, 1500), Image.Resampling.BICUBIC)
    dest_x0, dest_y0 = placement.map_box((0, 0, 400, 300))[:2]
    expected = np.asarray(full)[-dest_y0 : -dest_y0 + 256, -dest_x0 : -dest_x0 + 256]
    shown = np.asarray(composite(None, layer, size=canvas))
    visible = expected[..., 3] == 255
    assert np.abs(shown[visible][:, :3].astype(int) - expected[visible][:, :3].astype(int)).max() <= 2


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    scale=st.sampled_from([1.0, 0.13, 0.5, 0.77, 1.6, 3.3]),
    shift=st.tuples(st.integers(-150, 150), st.integers(-150, 150)),
)
def test_an_outline_has_the_layers_alpha_bit_for_bit(seed: int, scale: float, shift: tuple[int, int]) -> None:
    """The layout measures a shadow's reach on the outline: its alpha must be the product layer's, placed alike,
    whatever the colours under a partial alpha (Pillow premultiplies them for the layer, not for the outline)."""
    from paqshot_server.imaging.layout import Placement

    rng = np.random.default_rng(seed)
    rgba = rng.integers(0, 256, (90, 120, 4), dtype=np.uint8)
    rgba[..., 3] = rng.choice(np.array([0, 0, 1, 37, 128, 254, 255, 255], np.uint8), size=(90, 120))
    cut = Cutout(rgba, (10, 20, 130, 110), (160, 130), 1.0, "test", (10, 20, 130, 110))
    canvas = (200, 150)
    size = round(120 * scale), round(90 * scale)
    dest = (40 + shift[0], 30 + shift[1], 40 + shift[0] + size[0], 30 + shift[1] + size[1])
    placement = Placement(canvas, (10, 20, 130, 110), scale, dest)
    layer, outline = layer_from_cutout(cut, placement), outline_from_cutout(cut, placement)
    assert outline.alpha.dtype == np.float32
    assert outline.box == layer.box
    assert np.array_equal(outline.alpha, layer.alpha)
    assert not outline.rgb.any() and outline.rgb.shape == layer.rgb.shape


def test_a_layer_shrunk_past_the_reducing_gap_is_box_reduced_first() -> None:
    """A product or outline shrunk over ``REDUCING_GAP`` times is reduced by a whole factor before the bicubic kernel
    (Pillow's ``reducing_gap``: the layout's outlines onto the 256-px grid cost 2.4 instead of 5.9 ms), and stays
    close to the full kernel's result; a layer shrunk less is the full kernel's, as before."""
    from paqshot_server.imaging.compose import REDUCING_GAP
    from paqshot_server.imaging.layout import Placement

    yy, xx = np.mgrid[0:600, 0:400]
    alpha = np.clip((220 - np.hypot(yy - 300, xx - 200)) / 6, 0, 1)  # a disc with a soft rim
    rgba = np.zeros((600, 400, 4), np.uint8)
    rgba[..., 0] = (xx * 255 // 399).astype(np.uint8)
    rgba[..., 1] = (yy * 255 // 599).astype(np.uint8)
    rgba[..., 2] = 90
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)
    cut = Cutout(rgba, (0, 0, 400, 600), (400, 600), 1.0, "test", (0, 0, 400, 600))
    band = Image.fromarray(rgba[..., 3])
    for shrink, reduced in ((8.0, True), (2.5, False)):
        size = round(400 / shrink), round(600 / shrink)
        placement = Placement((300, 300), (0, 0, 400, 600), 1 / shrink, (10, 10, 10 + size[0], 10 + size[1]))
        layer, outline = layer_from_cutout(cut, placement), outline_from_cutout(cut, placement)
        gapped = np.asarray(band.resize(size, Image.Resampling.BICUBIC, reducing_gap=REDUCING_GAP))
        full = np.asarray(band.resize(size, Image.Resampling.BICUBIC))
        assert reduced == (not np.array_equal(gapped, full))
        assert np.array_equal(np.round(outline.alpha * 255), gapped)
        assert np.array_equal(outline.alpha, layer.alpha)
        # this disc's rim: 1 level at most, 87 of 3,750 pixels moved (mean 0.02)
        assert int(np.abs(gapped.astype(int) - full.astype(int)).max()) <= 2
        assert float(np.abs(gapped.astype(int) - full.astype(int)).mean()) < 0.1
