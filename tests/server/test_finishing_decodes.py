"""What finishing costs a job (session 15): it decodes its own output once, for the product map's seal and for its
compliance audit together, and that audit is still the one a check of the delivered file makes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from paqshot_server.checking import check_image, classical_product
from paqshot_server.credentials import make_self_signed
from paqshot_server.finishing import Finisher
from paqshot_server.imaging import compliance, mapseal
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import render_packshot
from paqshot_server.imaging.presets import load_presets
from paqshot_server.settings import Settings
from PIL import Image, ImageFile
from support import product_jpeg

PRESETS = load_presets()
PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


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
        ("jpeg", 1000, [], [1000]),
        ("png", 1000, [], [1000]),
        ("webp", 1000, [], [1000]),
        ("jpeg", 1000, ["amazon_main", "shopify"], [1000]),
        ("png", 1000, ["etsy"], [1000]),
        ("webp", 1000, ["ebay"], [1000]),
        # At 2048 px the audit measures a copy at half size: a JPEG's own DCT-scaled read (11 ms against 40-50 to
        # reduce the full-size pixels), so one full-size decode and that one.
        ("jpeg", 2048, ["shopify"], [2048, 1024]),
        ("png", 2048, ["etsy"], [2048]),  # a PNG's copy is reduced from the full-size pixels the seal read
    ],
)
def test_the_job_decodes_its_output_once_and_reports_what_the_check_reports(
    fmt: str, side: int, checks: list[str], reads: list[int], signed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = product_jpeg((900, 700))
    result = render_packshot(
        Image.open(io.BytesIO(photo)).convert("RGB"), RenderOptions(long_side=side, output_format=fmt)
    )
    finisher = Finisher(signed, PRESETS)
    seen = _decodes(monkeypatch)
    finished = finisher.finish(
        result, product_photo=photo, title="gen_decodes", checks=checks, find_product=classical_product
    )
    assert seen == [(PIL_FORMAT[fmt], (r, r)) for r in reads]  # main: 3 decodes for a preset job
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
