"""Compliance report: each rule fails on a crafted image that breaks only that rule, and passes on one that
meets it (amazon_main has every rule but short_side and pixels; google_shopping has those two)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from paqshot_server.imaging.compliance import check
from paqshot_server.imaging.presets import load_presets
from PIL import Image, ImageCms, PngImagePlugin

PRESETS = load_presets()
SIDE = 1000
BOX = (400, 60, 600, 940)  # a tall product: 88 % of the height, 20 % of the width


def _scene(side: int = SIDE, box: tuple[int, int, int, int] = BOX) -> tuple[np.ndarray, np.ndarray]:
    """White canvas with a textured, multi-coloured product; returns (RGB uint8, product alpha uint8)."""
    rgb = np.full((side, side, 3), 255, np.uint8)
    alpha = np.zeros((side, side), np.uint8)
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[y0:y1, x0:x1]
    rgb[y0:y1, x0:x1, 0] = (40 + (xx * 7 + yy * 3) % 150).astype(np.uint8)
    rgb[y0:y1, x0:x1, 1] = (30 + (yy * 5) % 120).astype(np.uint8)
    rgb[y0:y1, x0:x1, 2] = (60 + ((xx // 9 + yy // 13) % 2) * 100).astype(np.uint8)
    alpha[y0:y1, x0:x1] = 255
    return rgb, alpha


def _png(rgb: np.ndarray, **info: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", **info)
    return buf.getvalue()


def _failures(data: bytes, alpha: np.ndarray, preset: str = "amazon_main") -> set[str]:
    report = check(data, PRESETS.get(preset), product_alpha=alpha)
    return {r.rule for r in report.rules if not r.passed}


def test_a_clean_packshot_passes_every_amazon_main_rule() -> None:
    rgb, alpha = _scene()
    report = check(_png(rgb), PRESETS.get("amazon_main"), product_alpha=alpha)
    assert report.passed, report.as_dict()
    assert {r.rule for r in report.rules} == {
        "long_side",
        "format",
        "colour_space",
        "file_size",
        "product_fill",
        "cropped_at_edge",
        "background_purity",
        "shadow",
        "reflection",
        "props",
    }
    fill = next(r for r in report.rules if r.rule == "product_fill")
    assert fill.measured == 0.88


def _off_white(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    out = rgb.copy()
    out[alpha == 0] = 253  # looks white, is not: within the content tolerance, so no region is "content"
    return _png(out), alpha


def _small_product(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    small_rgb, small_alpha = _scene(box=(420, 200, 580, 900))  # 70 % of the height
    return _png(small_rgb), small_alpha


def _cropped(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    crop_rgb, crop_alpha = _scene(box=(0, 60, 200, 940))  # touches the left edge
    return _png(crop_rgb), crop_alpha


def _too_small(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    small = Image.fromarray(rgb).resize((900, 900), Image.Resampling.NEAREST)
    small_alpha = np.asarray(Image.fromarray(alpha).resize((900, 900), Image.Resampling.NEAREST))
    return _png(np.asarray(small)), small_alpha


def _webp(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "WEBP", lossless=True)
    return buf.getvalue(), alpha


def _not_srgb(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("XYZ")).tobytes()
    return _png(rgb, icc_profile=profile), alpha  # same pixels, tagged with another colour space


def _named_srgb(colour_space: str) -> bytes:
    """LittleCMS's built-in profile of ``colour_space`` ("LAB" or "sRGB") whose description says sRGB; for "sRGB",
    with Adobe RGB's red colorant (X, Y, Z at D50) written into its rXYZ tag: a profile lying about its colours."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile(colour_space)).tobytes())
    if colour_space == "LAB":
        data = data.replace(b"Lab identity built-in", b"sRGB iec6196 built-in")  # same length: the tag stays valid
    else:
        (count,) = struct.unpack(">I", data[128:132])  # ICC.1 7.3: the tag table follows the 128-byte header
        for entry in range(count):
            signature, offset, _ = struct.unpack(">4sII", data[132 + 12 * entry : 144 + 12 * entry])
            if signature == b"rXYZ":  # XYZType: 'XYZ ', 4 reserved bytes, then s15Fixed16 X, Y, Z
                data[offset + 8 : offset + 20] = struct.pack(
                    ">3i", *(round(v * 65536) for v in (0.6097, 0.3111, 0.0195))
                )
    return bytes(data)


@pytest.mark.parametrize("colour_space", ["LAB", "sRGB"])
def test_a_profile_is_judged_by_its_colours_not_its_name(colour_space: str) -> None:
    """breaker15 B15-11: the rule read the profile's description, so a Lab profile renamed "sRGB" passed."""
    rgb, alpha = _scene()
    profile = _named_srgb(colour_space)
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile)))
    assert _failures(_png(rgb, icc_profile=profile), alpha) == {"colour_space"}
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert _failures(_png(rgb, icc_profile=srgb), alpha) == set()  # the real one passes


def _with_gamma(data: bytes, gamma: float) -> bytes:
    """A PNG with a gAMA chunk (PNG 11.3.3.2: the gamma times 100000) inserted after its IHDR chunk."""
    body = b"gAMA" + struct.pack(">I", round(gamma * 100000))
    chunk = struct.pack(">I", 4) + body + struct.pack(">I", zlib.crc32(body))
    end_of_ihdr = 8 + 8 + 13 + 4  # signature, IHDR's length and type, its 13 bytes, its CRC
    return data[:end_of_ihdr] + chunk + data[end_of_ihdr:]


def test_a_png_gamma_other_than_srgbs_fails_the_colour_space() -> None:
    """breaker15 B15-9: gAMA 0.2 added to a compliant PNG (shown dark grey) passed; the check ignored gAMA."""
    rgb, alpha = _scene()
    assert _failures(_with_gamma(_png(rgb), 0.2), alpha) == {"colour_space"}
    assert _failures(_with_gamma(_png(rgb), 1 / 2.2), alpha) == set()  # sRGB's own gamma


def test_an_animated_file_fails_as_no_still_image_whatever_its_first_frame() -> None:
    """breaker15 B15-8: the rules measured the first frame only, so an APNG whose first frame was a compliant
    packshot passed, whatever its other frames showed."""
    rgb, alpha = _scene()
    banded = rgb.copy()
    banded[:100] = (255, 0, 0)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", save_all=True, append_images=[Image.fromarray(banded)], duration=500)
    report = check(buf.getvalue(), PRESETS.get("amazon_main"), product_alpha=alpha)
    assert not report.passed and {r.rule for r in report.rules if not r.passed} == {"still"}
    (still,) = (r for r in report.rules if r.rule == "still")
    assert still.measured == "2 frames" and "one still image" in still.message


def _too_big(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    info = PngImagePlugin.PngInfo()
    info.add_text("padding", "x" * 10_000_001)  # same pixels, a file over Amazon's 10 MB
    return _png(rgb, pnginfo=info), alpha


def _shadow(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    out = rgb.copy()
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    blob = ((xx - 500) / 150) ** 2 + ((yy - 955) / 14) ** 2 < 1
    blob &= alpha == 0
    out[blob] = 215  # a grey contact shadow under the product, ~0.7 % of the background
    return _png(out), alpha


def _reflection(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    out = rgb.astype(np.float32)
    x0, _y0, x1, y1 = BOX
    depth = 50
    mirrored = out[y1 - depth : y1, x0:x1][::-1]
    fade = np.linspace(0.35, 0.05, depth, dtype=np.float32)[:, None, None]
    out[y1 : y1 + depth, x0:x1] = 255 * (1 - fade) + mirrored * fade
    return _png(out.round().astype(np.uint8)), alpha


def _prop(rgb: np.ndarray, alpha: np.ndarray) -> tuple[bytes, np.ndarray]:
    out = rgb.copy()
    out[100:140, 80:120] = (20, 60, 200)  # a separate blue object far from the product
    return _png(out), alpha


CASES: dict[str, Callable[[np.ndarray, np.ndarray], tuple[bytes, np.ndarray]]] = {
    "background_purity": _off_white,
    "product_fill": _small_product,
    "cropped_at_edge": _cropped,
    "long_side": _too_small,
    "format": _webp,
    "colour_space": _not_srgb,
    "file_size": _too_big,
    "shadow": _shadow,
    "reflection": _reflection,
    "props": _prop,
}


@pytest.mark.parametrize("rule", CASES)
def test_each_rule_fails_alone_on_an_image_that_breaks_only_it(rule: str) -> None:
    rgb, alpha = _scene()
    data, product_alpha = CASES[rule](rgb, alpha)
    assert _failures(data, product_alpha) == {rule}


def test_short_side_and_pixel_count_fail_alone_for_google_shopping() -> None:
    rgb, alpha = _scene()
    ok = {r.rule: r for r in check(_png(rgb), PRESETS.get("google_shopping"), product_alpha=alpha).rules}
    assert ok["short_side"].passed and ok["pixels"].passed
    wide = np.full((480, 1000, 3), 255, np.uint8)
    wide_alpha = np.zeros((480, 1000), np.uint8)
    wide[60:420, 330:670] = (200, 30, 30)
    wide_alpha[60:420, 330:670] = 255
    assert _failures(_png(wide), wide_alpha, "google_shopping") == {"short_side"}


def test_a_transparent_background_is_not_white() -> None:
    rgb, alpha = _scene()
    rgba = np.dstack([rgb, np.where(alpha > 0, 255, 0).astype(np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, "PNG")
    report = check(buf.getvalue(), PRESETS.get("amazon_main"), product_alpha=alpha)
    purity = next(r for r in report.rules if r.rule == "background_purity")
    assert not purity.passed and purity.measured == 0.0


def test_the_standalone_check_finds_the_product_itself() -> None:
    rgb, _alpha = _scene()
    out = rgb.copy()
    out[100:140, 80:120] = (20, 60, 200)  # a prop the segmenter also picks up: not the product
    seen: list[tuple[int, int]] = []

    def finder(image: Image.Image) -> np.ndarray:
        seen.append(image.size)
        return np.where(np.asarray(image.convert("RGB")).min(axis=2) < 250, 255, 0).astype(np.uint8)

    report = check(_png(out), PRESETS.get("amazon_main"), find_product=finder)
    assert seen == [(SIDE, SIDE)]
    assert {r.rule for r in report.rules if not r.passed} == {"props"}


def test_a_model_mattes_soft_fringe_is_product_not_shadow() -> None:
    """A cut-out model's matte fades out over many pixels; where it still blends product colour in, the pixels
    are the product's edge, not added content (found with u2netp: 12 levels of "shadow", purity 97.9 %)."""
    rgb, alpha = _scene()
    x0, y0, x1, y1 = BOX
    soft_alpha = alpha.astype(np.float32)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    dx = np.maximum(np.maximum(x0 - xx, xx - (x1 - 1)), 0)
    dy = np.maximum(np.maximum(y0 - yy, yy - (y1 - 1)), 0)
    distance = np.hypot(dx, dy)
    fringe = (distance > 0) & (distance <= 12)
    soft_alpha[fringe] = 120 * (1 - distance[fringe] / 13)  # 111 .. 9: below the body threshold throughout
    colour = np.array((90, 60, 120), np.float32)
    out = rgb.astype(np.float32)
    a = (soft_alpha[fringe] / 255)[:, None]
    out[fringe] = colour * a + 255 * (1 - a)
    assert _failures(_png(out.round().astype(np.uint8)), soft_alpha.round().astype(np.uint8)) == set()


@pytest.mark.parametrize("radius", [1, 2, 5, 8, 30])
def test_the_fast_square_dilation_equals_scipys(radius: int) -> None:
    from paqshot_server.imaging.compliance import _grow
    from scipy import ndimage

    mask = np.random.default_rng(radius).random((123, 217)) > 0.995
    square = np.ones((2 * radius + 1, 2 * radius + 1), bool)
    assert np.array_equal(_grow(mask, radius), ndimage.binary_dilation(mask, structure=square))


@pytest.mark.parametrize(("backdrop", "shade", "darkening"), [((255, 0, 0), None, 0), ((255, 0, 0), (215, 0, 0), 12)])
def test_a_coloured_backdrop_is_not_a_shadow_its_darkening_is(
    backdrop: tuple[int, int, int], shade: tuple[int, int, int] | None, darkening: int
) -> None:
    """breaker11 B11-8: amazon_main on a red background read as "shadow … darkens the background by 255 levels"
    (the distance from white, not a shadow). Purity fails it; the shadow rule measures luma below the backdrop."""
    rgb, alpha = _scene()
    rgb[alpha == 0] = backdrop
    if shade is not None:
        yy, xx = np.mgrid[0:SIDE, 0:SIDE]
        rgb[(((xx - 500) / 150) ** 2 + ((yy - 955) / 14) ** 2 < 1) & (alpha == 0)] = shade
    report = check(_png(rgb), PRESETS.get("amazon_main"), product_alpha=alpha)
    rules = {r.rule: r for r in report.rules}
    assert not rules["background_purity"].passed
    assert rules["shadow"].measured == darkening, rules["shadow"].message  # 0.299 x 40 levels of red: 12
    assert rules["shadow"].passed is (darkening <= PRESETS.get("amazon_main").rules.max_shadow_darkening)
