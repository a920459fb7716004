"""End to end: render_packshot and the engine registry on small images, good and bad."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from imaging_support import product_photo, to_bytes
from paqshot_server.engines import Engines
from paqshot_server.errors import InvalidRequest, UnsupportedImage
from paqshot_server.imaging.compose import alpha_on_canvas
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.decode import decode_image
from paqshot_server.imaging.options import ASPECT_RATIOS, NAMED_BACKGROUNDS, RenderOptions, parse_aspect_ratio
from paqshot_server.imaging.packshot import layout_product, render_packshot
from paqshot_server.settings import Settings
from PIL import Image

SMALL = {"long_side": 256}
LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 40_000_000}


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_default_packshot_is_a_jpeg_of_the_requested_size_with_thumbnail(photo: Image.Image) -> None:
    result = render_packshot(photo, RenderOptions(long_side=1024))
    assert result.engine == "classical"
    assert 0.5 < (result.confidence or 0) <= 1
    (image,) = result.images
    assert image.mime == "image/jpeg" and (image.width, image.height) == (1024, 1024)
    out = _open(image.data)
    assert out.format == "JPEG" and out.size == (1024, 1024) and not out.info.get("exif")
    thumb = _open(image.thumbnail)
    assert max(thumb.size) <= 256
    assert out.getpixel((5, 5)) == (255, 255, 255)
    matte = result.meta["matte"]
    assert isinstance(matte, Image.Image) and matte.mode == "L" and matte.size == photo.size


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
def test_output_has_the_requested_long_side_and_ratio(photo: Image.Image, ratio: str) -> None:
    image = render_packshot(photo, RenderOptions(aspect_ratio=ratio, **SMALL)).images[0]
    rw, rh = parse_aspect_ratio(ratio)
    assert max(image.width, image.height) == SMALL["long_side"]
    assert abs(image.width * rh - image.height * rw) <= max(rw, rh) / 2  # short side within half a pixel
    assert _open(image.data).size == (image.width, image.height)


@pytest.mark.parametrize("background", [*NAMED_BACKGROUNDS, "#12AB9f"])
def test_background_colours(photo: Image.Image, background: str) -> None:
    result = render_packshot(photo, RenderOptions(background=background, output_format="png", **SMALL))
    out = _open(result.images[0].data).convert("RGB")
    expected = NAMED_BACKGROUNDS.get(background) or (0x12, 0xAB, 0x9F)
    for corner in [(0, 0), (255, 0), (0, 255), (255, 255)]:
        assert out.getpixel(corner) == expected


def test_transparent_background_is_a_png_with_alpha(photo: Image.Image) -> None:
    result = render_packshot(photo, RenderOptions(background="transparent", **SMALL))
    image = result.images[0]
    assert image.mime == "image/png"
    out = _open(image.data)
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0))[3] == 0
    assert out.getpixel((128, 128))[3] == 255
    assert (
        render_packshot(photo, RenderOptions(background="transparent", output_format="webp", **SMALL)).images[0].mime
        == "image/webp"
    )


def test_webp_output(photo: Image.Image) -> None:
    image = render_packshot(photo, RenderOptions(output_format="webp", **SMALL)).images[0]
    assert image.mime == "image/webp" and _open(image.data).format == "WEBP"


def test_product_pixels_are_exact_where_alpha_is_one() -> None:
    # RGBA input whose product box is 205 px: at long side 250 the default fill (0.82) gives scale 1.0.
    rng = np.random.default_rng(0)
    rgba = np.zeros((300, 300, 4), np.uint8)
    rgba[40:245, 60:265, :3] = rng.integers(0, 256, (205, 205, 3), dtype=np.uint8)
    rgba[40:245, 60:265, 3] = 255
    rgba[100:110, 100:110, 3] = 128  # a translucent patch
    result = render_packshot(Image.fromarray(rgba), RenderOptions(long_side=250, output_format="png", shadow="none"))
    assert result.meta["scale"] == 1.0
    out = np.asarray(_open(result.images[0].data).convert("RGB"))
    # the product lands centred: (250 - 205) / 2 = 22.5 -> 22 or 23
    top, left = next((y, x) for y in range(250) for x in range(250) if out[y, x].tolist() != [255, 255, 255])
    src = rgba[40:245, 60:265, :3]
    opaque = rgba[40:245, 60:265, 3] == 255
    placed = out[top : top + 205, left : left + 205]
    assert (placed[opaque] == src[opaque]).all()


def test_classical_cutout_keeps_interior_pixels_exactly() -> None:
    photo = product_photo(size=(300, 300), box=(48, 40, 253, 245), noise=0)
    result = render_packshot(photo, RenderOptions(long_side=250, output_format="png", shadow="none"))
    assert result.meta["scale"] == pytest.approx(1.0, abs=0.01)
    out = np.asarray(_open(result.images[0].data).convert("RGB"))
    src = np.asarray(photo)
    # interior colours (stripe included) appear unchanged in the output
    assert (out[125, 125] == src[142, 150]).all() or (out[124:127, 124:127] == src[142, 150]).all(axis=2).any()
    colours_out = {tuple(c) for c in out[30:220, 30:220].reshape(-1, 3)}
    for colour in {tuple(c) for c in src[60:220, 70:230].reshape(-1, 3)}:
        assert colour in colours_out


def test_upscaling_beyond_2x_is_reported() -> None:
    tiny = product_photo(size=(60, 60), box=(20, 20, 40, 40), noise=0)
    result = render_packshot(tiny, RenderOptions(**SMALL))
    assert any("upscaled" in note for note in result.notes)
    big = render_packshot(product_photo(), RenderOptions(**SMALL))
    assert not any("upscaled" in note for note in big.notes)


def test_padding_keeps_a_margin(photo: Image.Image) -> None:
    result = render_packshot(photo, RenderOptions(background="transparent", padding=0.2, **SMALL))
    alpha = np.asarray(_open(result.images[0].data))[..., 3]
    ys, xs = np.nonzero(alpha > 0)
    margin = 0.2 * 256
    assert ys.min() >= margin - 2 and xs.min() >= margin - 2
    assert ys.max() <= 256 - margin + 1 and xs.max() <= 256 - margin + 1
    assert min(ys.min(), xs.min(), 255 - ys.max(), 255 - xs.max()) <= margin + 2  # touches one margin
    with pytest.raises(InvalidRequest):
        render_packshot(photo, RenderOptions(padding=0.6, **SMALL))


@pytest.mark.parametrize("shadow", ["soft", "hard", "floating"])
def test_shadows_darken_the_background_only(photo: Image.Image, shadow: str) -> None:
    # The layout makes room for the shadow (the product may move and shrink), so the product is compared with the
    # layer the layout resampled for this request, not with a render without a shadow.
    options = RenderOptions(shadow=shadow, output_format="png", **SMALL)
    shaded = np.asarray(_open(render_packshot(photo, options).images[0].data).convert("RGB"))
    laid = layout_product(cutout(photo, None), options)
    placement, layer = laid.placement, laid.layer
    x0, y0, x1, y1 = layer.box
    solid = layer.alpha >= 1.0
    assert solid.any() and (shaded[y0:y1, x0:x1][solid] == layer.rgb[solid]).all()  # never the product itself
    background = alpha_on_canvas(layer, placement.canvas) == 0
    assert (shaded[background] < 255).any()  # a shadow on the white background
    assert (shaded[: max(0, y0)] == 255).all()  # ... and nothing above the product (its faint matte included)


def test_reflection_adds_a_mirror_below(photo: Image.Image) -> None:
    options = RenderOptions(shadow="none", reflection=True, output_format="png", **SMALL)
    refl = np.asarray(_open(render_packshot(photo, options).images[0].data).convert("L"))
    laid = layout_product(cutout(photo, None), options)
    placement, layer = laid.placement, laid.layer
    left, _, right, bottom = placement.dest_box
    assert (refl[: max(0, layer.y)] == 255).all()
    assert (refl[bottom + 2 : bottom + 12, left:right] < 250).any()  # the mirror just below the product's base


def test_the_layout_box_is_read_once_a_render(photo: Image.Image, monkeypatch: pytest.MonkeyPatch) -> None:
    """The product's layout box (a pass over the cut-out's alpha) is read once a render, however many fits its
    shadow and reflection take, and the layout carries the scale the product gets alone (its shrink note's)."""
    from paqshot_server.imaging import packshot
    from paqshot_server.imaging.product import layout_box

    reads = []

    def counted(cut):
        reads.append(1)
        return layout_box(cut)

    monkeypatch.setattr(packshot, "layout_box", counted)
    options = RenderOptions(shadow="hard", reflection=True, aspect_ratio="16:9", **SMALL)
    render_packshot(photo, options)
    assert len(reads) == 1
    cut = cutout(photo, None)
    laid = layout_product(cut, options)
    assert laid.alone == packshot.placement_for(layout_box(cut), options).scale
    assert laid.placement.scale <= laid.alone


def test_bad_background_value(photo: Image.Image) -> None:
    with pytest.raises(InvalidRequest, match="background"):
        render_packshot(photo, RenderOptions(background="mauve", **SMALL))


# --- bad inputs: a sensible packshot or a clear UnsupportedImage, never a crash -----------------------


def _decode_and_render(data: bytes) -> object:
    decoded = decode_image(data, **LIMITS)
    return Engines(Settings()).render(decoded.image, RenderOptions(**SMALL))


def test_fully_transparent_image() -> None:
    data = to_bytes(Image.new("RGBA", (50, 50), (255, 0, 0, 0)))
    with pytest.raises(UnsupportedImage, match=r"no product found.*transparent"):
        _decode_and_render(data)


@pytest.mark.parametrize("colour", [(255, 255, 255), (128, 128, 128)])
def test_all_background_image(colour: tuple[int, int, int]) -> None:
    noise = np.random.default_rng(0).normal(0, 1.5, (200, 300, 3))
    img = Image.fromarray(np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8))
    with pytest.raises(UnsupportedImage, match="no product found"):
        _decode_and_render(to_bytes(img, "JPEG", quality=90))


def test_one_pixel_image() -> None:
    with pytest.raises(UnsupportedImage, match="no product found"):
        _decode_and_render(to_bytes(Image.new("RGB", (1, 1), (10, 20, 30))))


def test_product_touching_the_frame() -> None:
    photo = product_photo(size=(200, 200), box=(0, 40, 120, 200))
    result = render_packshot(photo, RenderOptions(**SMALL))
    assert any("touches the frame" in note for note in result.notes)
    assert result.confidence is not None and result.confidence < 1


def test_huge_image_is_refused_before_decoding() -> None:
    # A PNG header claiming 12000x12000 (and no pixel data): the pixel cap answers without decoding.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 12000, 12000, 8, 2, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    with pytest.raises(UnsupportedImage, match=r"too many pixels|12000x12000"):
        _decode_and_render(data)


def test_grayscale_image() -> None:
    data = to_bytes(product_photo(colour=(60, 60, 60)).convert("L"), "PNG")
    result = _decode_and_render(data)
    assert result.images[0].width == 256  # type: ignore[attr-defined]


def test_cmyk_jpeg() -> None:
    data = to_bytes(product_photo().convert("CMYK"), "JPEG", quality=90)
    assert decode_image(data, **LIMITS).image.mode == "RGB"
    _decode_and_render(data)


def _png16_rgb(rgb16: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_sixteen_bit_pngs() -> None:
    grey16 = np.asarray(product_photo(colour=(40, 40, 40)).convert("L")).astype(np.uint16) * 257
    data = to_bytes(Image.fromarray(grey16), "PNG")
    decoded = decode_image(data, **LIMITS)
    assert decoded.image.mode == "RGB"
    assert abs(int(np.asarray(decoded.image)[5, 5, 0]) - 250) <= 1  # scaled, not clipped
    _decode_and_render(data)
    rgb16 = np.asarray(product_photo()).astype(np.uint16) * 257
    decoded = decode_image(_png16_rgb(rgb16), **LIMITS)
    assert decoded.image.mode == "RGB"
    assert np.abs(np.asarray(decoded.image).astype(int) - (rgb16 // 257)).max() <= 1
    _decode_and_render(_png16_rgb(rgb16))


def test_animated_webp_uses_the_first_frame() -> None:
    frames = [product_photo(seed=0), product_photo(colour=(20, 120, 200), seed=1)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    decoded = decode_image(buf.getvalue(), **LIMITS)
    assert "first frame" in " ".join(decoded.notes)
    _decode_and_render(buf.getvalue())


def test_noise_only_image_never_hangs() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    try:
        result = _decode_and_render(to_bytes(Image.fromarray(noise), "PNG"))
    except UnsupportedImage:
        return
    assert result.confidence < 0.5  # type: ignore[attr-defined]


def test_natural_shadow_reapplies_the_photos_own_shadow() -> None:
    import evalset

    sample = evalset.make_sample("mug", "white", size=360)  # has a soft contact shadow
    data = render_packshot(sample.image, RenderOptions(shadow="natural", output_format="png", **SMALL)).images[0].data
    out = np.asarray(_open(data).convert("L")).astype(int)
    assert out[0, 0] == 255 and out[-1, -1] == 255  # far from the product: the clean backdrop
    plain = np.asarray(
        _open(
            render_packshot(sample.image, RenderOptions(shadow="none", output_format="png", **SMALL)).images[0].data
        ).convert("L")
    ).astype(int)
    below = (plain == 255) & (out < 250)
    assert below.sum() > 50  # a visible shadow where the photo had one
    rows = np.nonzero(below)[0]
    assert rows.mean() > 128  # ... under the product, not above it


def _outline() -> np.ndarray:
    """uint8 alpha of ``product_photo()``'s product with its top left corner cut off: an outline, not a frame (a
    plain rectangle would be taken as framing a photo: ``photo_region.frames_a_photo``)."""
    ys, xs = np.mgrid[0:320, 0:320]
    inside = (xs >= 90) & (xs < 230) & (ys >= 70) & (ys < 260) & ((xs - 90) + (ys - 70) >= 60)
    return np.where(inside, 255, 0).astype(np.uint8)


def test_natural_shadow_falls_back_when_unknown() -> None:
    rgba = np.asarray(product_photo().convert("RGBA")).copy()
    rgba[..., 3] = _outline()  # a cut-out: no background model, so no measured shadow
    result = render_packshot(Image.fromarray(rgba), RenderOptions(shadow="natural", **SMALL))
    assert any("soft shadow was used" in note for note in result.notes)


def test_stray_translucent_pixels_do_not_count_as_a_cutout() -> None:
    rgba = np.asarray(product_photo().convert("RGBA")).copy()
    rgba[0, 0, 3] = 0  # one transparent pixel in a photo
    result = render_packshot(Image.fromarray(rgba), RenderOptions(**SMALL))
    assert result.meta["cutout_source"] == "classical"
    rgba[..., 3] = _outline()  # a real cut-out
    assert render_packshot(Image.fromarray(rgba), RenderOptions(**SMALL)).meta["cutout_source"] == "alpha"


@pytest.mark.parametrize("size", [(900, 700), (300, 40), (120, 90)])
def test_the_classical_cutout_of_the_pil_image_equals_that_of_its_pixels(size: tuple[int, int]) -> None:
    # cutout() hands the classical segmenter the decoded image itself (no whole-photo numpy copy); same matte
    from paqshot_server.imaging.classical import ClassicalSegmenter
    from paqshot_server.imaging.cutout import cutout

    photo = product_photo().resize(size, Image.Resampling.BILINEAR)
    seg = ClassicalSegmenter()
    by_image, by_pixels = seg.segment_image(photo), seg.segment(np.asarray(photo))
    assert by_image.box == by_pixels.box and by_image.confidence == by_pixels.confidence
    assert np.array_equal(by_image.alpha, by_pixels.alpha) and np.array_equal(by_image.rgba, by_pixels.rgba)
    assert by_image.shadow is not None and by_pixels.shadow is not None
    assert np.array_equal(by_image.shadow.layer, by_pixels.shadow.layer)
    cut = cutout(photo)
    assert np.array_equal(cut.rgba, by_pixels.rgba) and cut.box == by_pixels.box
    # another mode is taken as its RGB (an opaque RGBA photo: the segmenter's own call, not cutout's)
    assert np.array_equal(seg.segment_image(photo.convert("RGBA")).rgba, by_pixels.rgba)


def test_a_model_cut_out_runs_at_the_detail_the_canvas_needs_and_reports_on_the_photos_grid() -> None:
    """A segmenter that takes ``output_scale`` is asked for the canvas's scale of a product box; its matte on a
    reduced grid comes back on the photo's grid: the matte at the photo's size, ``source_box`` in photo pixels,
    ``scale`` canvas px per photo px."""
    from imaging_support import FakeModel, paper_scene
    from paqshot_server.imaging.refine import RefineConfig, refine
    from paqshot_server.imaging.segment import Matte, OutputScale

    class StandIn:  # the cut-out model's interface (inference.segmenters.OnnxSegmenter)
        name = "stand-in"
        takes_output_scale = True

        def __init__(self) -> None:
            self.grids: list[tuple[int, int]] = []

        def segment(self, rgb: np.ndarray, output_scale: OutputScale | None = None) -> Matte:
            out = refine(rgb, FakeModel(size=48), RefineConfig(second_pass=False), output_scale=output_scale)
            assert out is not None
            self.grids.append(out.size)
            return Matte(alpha=out.alpha, confidence=0.9, rgba=out.rgba, box=out.box)

    rgb, truth = paper_scene(size=(1920, 1440), products=((460, 340, 1460, 1100),))
    seg = StandIn()
    result = render_packshot(Image.fromarray(rgb), RenderOptions(long_side=512), segmenter=seg)
    (grid,) = seg.grids
    assert grid[0] < 0.75 * 1920  # cut out on a reduced grid
    matte = np.asarray(result.meta["matte"], np.float32) / 255
    assert matte.shape == (1440, 1920)
    assert ((matte > 0.5) & (truth > 0.5)).sum() / ((matte > 0.5) | (truth > 0.5)).sum() > 0.98
    x0, y0, x1, y1 = result.meta["source_box"]
    assert max(abs(x0 - 460), abs(y0 - 340), abs(x1 - 1460), abs(y1 - 1100)) <= 4
    dx0, _, dx1, _ = result.meta["product_box"]
    assert abs((x1 - x0) * result.meta["scale"] - (dx1 - dx0)) <= 3


@pytest.mark.parametrize("shadow", ["none", "soft", "hard", "floating", "natural"])
def test_the_photo_s_own_shadow_is_measured_only_for_a_natural_shadow(
    photo: Image.Image, shadow: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Session 12: estimate_photo_shadow ran in every cut-out (~6 ms of a ~170 ms classical packshot at 2000 px);
    # only ``shadow: "natural"`` reads its result.
    from paqshot_server.imaging import classical

    calls: list[int] = []
    measure = classical.estimate_photo_shadow
    monkeypatch.setattr(classical, "estimate_photo_shadow", lambda *a: calls.append(1) or measure(*a))
    render_packshot(photo, RenderOptions(shadow=shadow, **SMALL))  # type: ignore[arg-type]
    assert len(calls) == (shadow == "natural")
