"""A real photo pasted onto a plain canvas: into a long strip (breaker16 B16-13: a fork's photo in a 95:1 strip was
refused "no product found", a rifle's in a 10:1 one kept the whole pasted rectangle at 0.937, unflagged), or padded
to a square or with a border (B16-4: a flagged cut-out of a bike rose to 0.62, unflagged, with the same plank kept).
The kind: the canvas changed what the model saw. Should: the product cut out as from the photo itself (or a flagged
result, never a refusal of a clear product); a photo padded with plain bars cut out exactly as the photo."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from paqshot_server.engines import Engines
from paqshot_server.errors import CutoutRefused
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.padding import framed, photo_in_strip, photo_inside_bars
from paqshot_server.imaging.segment import Matte
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
from paqshot_server.inference.letterbox import MAX_STRETCH
from paqshot_server.inference.segmenters import load_default_segmenter
from paqshot_server.settings import Settings
from PIL import Image

INSTALLED = store_mod.install_level_dir()  # read at collection (see test_default_model.py)
PHOTOS = Path(__file__).parents[2] / "fixtures" / "photos"
needs_model = pytest.mark.skipif(
    not (INSTALLED / DEFAULT_CUTOUT / f"{DEFAULT_CUTOUT}.onnx").is_file(),
    reason=f"the default cut-out model is not installed in {INSTALLED} (`paqshot models setup`)",
)


def pasted(photo: Image.Image, ratio: int, tall: bool) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """breaker16's strip (asp_make.py): ``photo`` 200 px high centred in a ``ratio``:1 strip of its corner colour,
    saved as JPEG (quality 92), turned a quarter when ``tall``; (the strip, the photo's box in it)."""
    height = 200
    small = photo.resize((round(photo.width * height / photo.height), height), Image.Resampling.LANCZOS)
    width = ratio * height
    strip = Image.new("RGB", (width, height), photo.getpixel((2, 2)))
    left = (width - small.width) // 2
    strip.paste(small, (left, 0))
    box = (left, 0, left + small.width, height)
    if tall:  # ROTATE_90 turns counter-clockwise: x -> y, y -> width - x
        strip = strip.transpose(Image.Transpose.ROTATE_90)
        box = (0, width - box[2], height, width - box[0])
    buffer = io.BytesIO()
    strip.save(buffer, "JPEG", quality=92)
    return Image.open(io.BytesIO(buffer.getvalue())), box


def matte_of(engines: Engines, image: Image.Image) -> np.ndarray:
    result = engines.render(image, RenderOptions(long_side=1024))
    return np.asarray(result.meta["matte"], np.float32) / 255


@needs_model
@pytest.mark.parametrize("name", ["azure_fork_18", "azure_scissors_15"])
@pytest.mark.parametrize("tall", [False, True], ids=["wide", "tall"])
def test_a_photo_pasted_into_a_long_strip_gives_its_product(tmp_path: Path, name: str, tall: bool) -> None:
    """Before: each of these 95:1 strips refused ("no product found", a speck); the scissors in both orientations
    too (u2netp-int8; docs/progress/issue-14.md, session 17)."""
    engines = Engines(Settings(home=tmp_path / "home", install_models_dir=str(INSTALLED)))
    photo = Image.open(PHOTOS / f"{name}.jpg").convert("RGB")
    strip, (x0, y0, x1, y1) = pasted(photo, 95, tall)
    try:
        matte = matte_of(engines, strip)
    except CutoutRefused as refused:
        pytest.fail(f"{name} refused: {refused.message}")
    own = matte_of(engines, photo.transpose(Image.Transpose.ROTATE_90) if tall else photo)
    own_here = np.asarray(Image.fromarray(own).resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR)) > 0.5
    kept = matte > 0.5
    inside = kept[y0:y1, x0:x1]
    assert kept.sum() == inside.sum()  # nothing of the plain strip
    iou = float((inside & own_here).sum() / max(1, (inside | own_here).sum()))
    assert iou > 0.8, (name, tall, iou)


@needs_model
@pytest.mark.parametrize("name", ["u2net_lamp2_meitu_1", "green_flamingo"])
@pytest.mark.parametrize("canvas", ["square_white", "border_black"])
def test_a_photo_padded_with_plain_bars_is_cut_out_as_the_photo(name: str, canvas: str) -> None:
    """Before: the padded photo's confidence differed from the photo's (the model saw it at another shape)."""
    seg = load_default_segmenter(INSTALLED)
    assert seg is not None
    rgb = np.asarray(Image.open(PHOTOS / f"{name}.jpg").convert("RGB"))
    h, w = rgb.shape[:2]
    if canvas == "square_white":
        side = max(h, w)
        padded = np.full((side, side, 3), 255, np.uint8)
        x, y = (side - w) // 2, (side - h) // 2
    else:
        padded = np.zeros((h + 60, w + 60, 3), np.uint8)
        x, y = 30, 30
    padded[y : y + h, x : x + w] = rgb
    own, got = seg.segment(rgb), seg.segment(padded)
    assert (got.confidence, got.reasons) == (own.confidence, own.reasons)
    assert got.alpha.shape == (padded.shape[0], padded.shape[1])
    assert np.array_equal(got.alpha[y : y + h, x : x + w], own.alpha)
    assert not got.alpha[:y].any() and not got.alpha[y + h :].any()
    assert got.box is not None and own.box is not None
    assert got.box == (own.box[0] + x, own.box[1] + y, own.box[2] + x, own.box[3] + y)


def test_bars_are_told_from_a_plain_backdrop_by_the_photo_s_straight_edge() -> None:
    backdrop = np.full((300, 400, 3), 250, np.uint8)
    backdrop[100:200, 150:250] = (40, 60, 160)  # a product on a plain backdrop: never trimmed to it
    assert photo_inside_bars(backdrop) is None
    photo = np.random.default_rng(1).integers(0, 256, (200, 400, 3), dtype=np.uint8)
    padded = np.full((300, 400, 3), 255, np.uint8)
    padded[50:250] = photo
    assert photo_inside_bars(padded) == (0, 50, 400, 250)
    one_side = np.full((300, 400, 3), 255, np.uint8)
    one_side[50:] = photo[:1].repeat(250, axis=0)  # a bar above only (a soft shadow under a product): no padding
    assert photo_inside_bars(one_side) is None
    thin = np.full((204, 400, 3), 0, np.uint8)
    thin[2:202] = photo  # a 2 px line at the frame is no padding (under MIN_BAR)
    assert photo_inside_bars(thin) is None


def test_a_framed_matte_covers_the_whole_image_at_its_own_grid() -> None:
    alpha = np.ones((50, 100), np.float32)  # a reduced grid: half the photo's 100 x 200
    matte = Matte(alpha=alpha, confidence=0.9, box=(10, 5, 90, 45))
    whole = framed(matte, (0, 50, 200, 150), (200, 200))
    assert whole.alpha.shape == (100, 100)
    assert whole.alpha[25:75].all() and not whole.alpha[:25].any() and not whole.alpha[75:].any()
    assert whole.box == (10, 30, 90, 70) and whole.confidence == 0.9


def test_the_part_of_a_strip_that_holds_the_photo_has_a_margin() -> None:
    strip = np.full((100, 2000, 3), 230, np.uint8)
    strip[30:70, 900:1000] = (20, 20, 20)
    assert photo_in_strip(strip, MAX_STRETCH) == (850, 0, 1050, 100)  # half the short side (50 px) at each end
    assert photo_in_strip(strip.transpose(1, 0, 2), MAX_STRETCH) == (0, 850, 100, 1050)
    assert photo_in_strip(strip[:, 700:1100], MAX_STRETCH) is None  # 4:1: letterboxing is not needed
    strip[:, :] = (20, 20, 20)  # a belt the whole length: letterboxed whole, as before
    assert photo_in_strip(strip, MAX_STRETCH) is None
