"""Every size that passes the door completes or is refused with ``unsupported_image`` in words, whatever its
aspect ratio (``shared/cases/api/extreme-aspect-ratio-server-error``: a 2500x40 strip crashed the cut-out), with
the classical cut-out and through a cut-out model's refinement (a 600x6 strip crashed its edge unmixing)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paqshot_server.engines import Engines
from paqshot_server.errors import UnsupportedImage
from paqshot_server.imaging.decode import decode_image
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.inference.store import ModelStore
from paqshot_server.settings import Settings
from PIL import Image, ImageDraw
from support import assert_plain_words

TINY_SEG = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny-seg"


@st.composite
def photos(draw: st.DrawFn) -> bytes:
    long_side = draw(st.integers(8, 3000))
    ratio = draw(st.floats(1.0, 150.0))
    short_side = max(1, round(long_side / ratio))
    size = (long_side, short_side) if draw(st.booleans()) else (short_side, long_side)
    img = Image.new("RGB", size, draw(st.sampled_from([(245, 245, 245), (30, 30, 30), (200, 210, 220)])))
    w, h = size
    left, top = int(w * draw(st.floats(0, 0.45))), int(h * draw(st.floats(0, 0.45)))
    box = [left, top, max(left, w - 1 - left), max(top, h - 1 - top)]  # centred, at least one pixel
    ImageDraw.Draw(img).rectangle(box, fill=draw(st.sampled_from([(190, 30, 35), (20, 90, 200), (250, 250, 250)])))
    out = io.BytesIO()
    img.save(out, draw(st.sampled_from(["JPEG", "PNG"])))
    return out.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=photos(),
    style=st.sampled_from(["studio_packshot", "lifestyle"]),
    aspect=st.sampled_from(["1:1", "16:9"]),
    model=st.booleans(),
)
def test_any_size_completes_or_is_refused_in_words(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, style: str, aspect: str, model: bool
) -> None:
    home = tmp_path_factory.mktemp("home")
    settings_ = Settings(home=home, install_models_dir="")
    if model:  # through a cut-out model's refinement, not only the classical cut-out
        ModelStore(settings_.models_dir, device="cpu").install(TINY_SEG)
    engines = Engines(settings_)
    try:
        image = decode_image(data, max_bytes=10_000_000, max_pixels=40_000_000).image
        result = engines.render(image, RenderOptions(style=style, aspect_ratio=aspect, long_side=384))
    except UnsupportedImage as refused:
        assert_plain_words(refused.message)
        return
    assert result.images and all(i.width > 0 and i.height > 0 for i in result.images)


@pytest.mark.parametrize("size", [(600, 6), (6, 600), (500, 5), (200, 2), (2, 200), (1000, 10), (3000, 30)])
def test_a_thin_strip_goes_through_a_cut_out_model(tmp_path: Path, size: tuple[int, int]) -> None:
    settings_ = Settings(home=tmp_path / "home", install_models_dir="")
    ModelStore(settings_.models_dir, device="cpu").install(TINY_SEG)
    img = Image.new("RGB", size, (250, 250, 250))
    w, h = size
    ImageDraw.Draw(img).rectangle([w // 4, h // 4, 3 * w // 4, 3 * h // 4], fill=(190, 30, 35))
    try:
        result = Engines(settings_).render(img, RenderOptions(long_side=256))
    except UnsupportedImage as refused:
        assert_plain_words(refused.message)
        return
    assert result.engine == "onnx:tiny-seg" and result.images[0].width == 256


@pytest.mark.parametrize("size", [(6668, 5999), (101, 100), (7, 1429)])
def test_a_photo_just_over_the_pixel_limit_is_told_its_exact_count_and_a_size_that_fits(size: tuple[int, int]) -> None:
    # breaker, session 5: 6668x5999 (40,001,332 pixels) was told "(40 MP); the limit is 40 MP": rounded, the figure
    # equalled the limit, so the user could not tell what to change
    width, height = size
    limit = width * height - 1
    out = io.BytesIO()
    Image.new("L", size, 128).save(out, "PNG")
    with pytest.raises(UnsupportedImage) as refused:
        decode_image(out.getvalue(), max_bytes=10_000_000, max_pixels=limit)
    message = refused.value.message
    assert f"({width * height:,} pixels); the limit is {limit:,} pixels" in message
    assert_plain_words(message)
    fit = message.split("scale it down (e.g. to ")[1].split(")")[0]
    w, h = (int(v) for v in fit.split("x"))
    assert w * h <= limit < (w + 1) * (h + 1)  # fits, and a pixel more each way would not
    assert abs(w / h - width / height) < 0.02 * width / height + 1 / h  # the photo's own shape
