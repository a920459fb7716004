"""What finishing costs a job (session 15): it decodes its own output once at most, for the product map's seal and for
its compliance audit together (a PNG not at all to seal it: the encoder knew its pixels), and that audit is still the
one a check of the delivered file makes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from paqshot_server.checking import check_image, classical_product
from paqshot_server.credentials import make_self_signed
from paqshot_server.finishing import Finisher
from paqshot_server.imaging import compliance, mapseal
from paqshot_server.imaging.encode import render_image
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import render_packshot
from paqshot_server.imaging.presets import load_presets
from paqshot_server.settings import Settings
from PIL import Image, ImageFile
from support import product_jpeg

PRESETS = load_presets()
PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "transparent": "PNG"}


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("signed") / "home")
    make_self_signed(settings)  # the C2PA manifest goes in after the seal: the pixels must stay those sealed
    return settings


def _decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """(format, size) of every image PIL decodes from here on, bar the 2-bit product maps (mode L)."""
    seen: list[tuple[str, tuple[int, int]]] = []
    load = ImageFile.ImageFile.load

    def counted(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        if self.tile and self.mode in {"RGB", "RGBA"}:  # tiles left: this call decodes
            seen.append((str(self.format), self.size))
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return seen


@pytest.mark.parametrize(
    ("fmt", "side", "checks", "reads"),
    [
        ("transparent", 1000, [], []),
        ("jpeg", 1000, [], [1000]),
        ("png", 1000, [], []),
        ("webp", 1000, [], [1000]),
        ("jpeg", 1000, ["amazon_main", "shopify"], [1000]),
        ("png", 1000, ["etsy"], [1000]),  # the audit's pixels
        ("webp", 1000, ["ebay"], [1000]),
        # At 2048 px the audit measures a copy at half size: a JPEG's own DCT-scaled read (11 ms against 40-50 to
        # reduce the full-size pixels), so one full-size decode and that one.
        ("jpeg", 2048, ["shopify"], [2048, 1024]),
        ("png", 2048, ["etsy"], [2048]),  # a PNG's copy is reduced from its full-size pixels
    ],
)
def test_the_job_decodes_its_output_once_at_most_and_reports_what_the_check_reports(
    fmt: str, side: int, checks: list[str], reads: list[int], signed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = product_jpeg((900, 700))
    options = RenderOptions(long_side=side, background="transparent") if fmt == "transparent" else None
    result = render_packshot(
        Image.open(io.BytesIO(photo)).convert("RGB"), options or RenderOptions(long_side=side, output_format=fmt)
    )
    finisher = Finisher(signed, PRESETS)
    seen = _decodes(monkeypatch)
    finished = finisher.finish(
        result, product_photo=photo, title="gen_decodes", checks=checks, find_product=classical_product
    )
    assert seen == [(PIL_FORMAT[fmt], (r, r)) for r in reads]  # main: 3 decodes for a preset job, 1 for a plain one
    monkeypatch.undo()
    data = finished.result.images[0].data
    outcome = check_image(data, checks or ["amazon_main"], signed, PRESETS, classical_product, "classical")
    assert outcome.product_source == compliance.RECORDED  # the seal holds for the delivered, signed file
    if checks:
        assert finished.compliance == outcome.compliance


@pytest.mark.parametrize(("fmt", "side"), [("jpeg", 1000), ("png", 1000), ("webp", 1000), ("png", 2048)])
def test_measuring_pixels_already_decoded_is_measuring_the_file(fmt: str, side: int, tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (side, side * 3 // 4, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, PIL_FORMAT[fmt])
    data = buffer.getvalue()
    with mapseal.decode(data) as pixels:
        shared = compliance.decode(data, compliance.MEASURE_LONG_SIDE, pixels)
    alone = compliance.decode(data, compliance.MEASURE_LONG_SIDE)
    assert np.array_equal(shared.rgba, alone.rgba)
    assert (shared.fmt, shared.width, shared.height, shared.mode, shared.size_bytes) == (
        alone.fmt,
        alone.width,
        alone.height,
        alone.mode,
        alone.size_bytes,
    )


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_a_png_decodes_to_the_pixels_its_encoder_digested(mode: str) -> None:
    """The seal of a PNG's product map is computed on the canvas, not on a decode of the file: the same digest."""
    rng = np.random.default_rng(2)
    canvas = rng.integers(0, 256, (300, 200, len(mode)), np.uint8)
    if mode == "RGBA":
        canvas[..., 3] = rng.choice(np.array([0, 1, 128, 254, 255], np.uint8), (300, 200))  # colour under alpha 0 too
    rendered = render_image(canvas, "png")
    assert rendered.pixel_digest is not None
    assert rendered.pixel_digest == mapseal.pixel_digest(rendered.data)
    assert render_image(canvas[..., :3], "jpeg").pixel_digest is None  # lossy: only a decode knows its pixels
