"""Every size that passes the door completes or is refused with ``unsupported_image`` in words, whatever its
aspect ratio (``shared/cases/api/extreme-aspect-ratio-server-error``: a 2500x40 strip crashed the cut-out)."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paqshot_server.engines import Engines
from paqshot_server.errors import UnsupportedImage
from paqshot_server.imaging.decode import decode_image
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.settings import Settings
from PIL import Image, ImageDraw
from support import assert_plain_words


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
@given(data=photos(), style=st.sampled_from(["studio_packshot", "lifestyle"]), aspect=st.sampled_from(["1:1", "16:9"]))
def test_any_size_completes_or_is_refused_in_words(tmp_path: Path, data: bytes, style: str, aspect: str) -> None:
    engines = Engines(Settings(home=tmp_path / "home"))
    try:
        image = decode_image(data, max_bytes=10_000_000, max_pixels=40_000_000).image
        result = engines.render(image, RenderOptions(style=style, aspect_ratio=aspect, long_side=384))
    except UnsupportedImage as refused:
        assert_plain_words(refused.message)
        return
    assert result.images and all(i.width > 0 and i.height > 0 for i in result.images)
