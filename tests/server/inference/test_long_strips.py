"""B15-5: a long strip (a belt, a ruler, a cable shot flat) cut out by the model. The kind: the model's fixed input
stretches one axis of such a photo 25-100 times against the other, and its answer then depends on the
orientation: breaker15's 40 x 2500 strip (a blue block on 80 % of it) failed "no product found" while its
2500 x 40 twin completed. Should: both orientations cut out alike, at every extreme aspect the door lets in."""

from __future__ import annotations

import io

import numpy as np
import pytest
from paqshot_server.engines import Engines
from paqshot_server.errors import CutoutRefused
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
from paqshot_server.inference.letterbox import MAX_STRETCH, letterboxed, placement
from paqshot_server.settings import Settings
from PIL import Image, ImageDraw
from support import default_engine

INSTALLED = store_mod.install_level_dir()  # read at collection (see test_default_model.py)
ENGINE = default_engine(INSTALLED)
BACKDROP, BLUE = (240, 240, 240), (30, 60, 160)


def strip(width: int, height: int) -> tuple[bytes, np.ndarray]:
    """breaker15's strip: a blue block on the middle 80 % of a light grey JPEG (quality 75, Pillow's default);
    (the file, bool (height, width) truth of the block)."""
    image = Image.new("RGB", (width, height), BACKDROP)
    box = (width // 10, height // 10, width * 9 // 10, height * 9 // 10)
    ImageDraw.Draw(image).rectangle(box, fill=BLUE)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    truth = np.zeros((height, width), bool)
    truth[box[1] : box[3] + 1, box[0] : box[2] + 1] = True
    return buffer.getvalue(), truth


def test_a_photo_up_to_the_limit_is_resized_as_before() -> None:
    assert placement((480, 640), (320, 320)) is None
    assert placement((40, 160), (320, 320)) is None  # 4:1, the limit itself
    assert placement((1600, 400), (320, 320)) is None


@pytest.mark.parametrize(("photo", "box"), [((40, 2500), (0, 150, 320, 170)), ((2500, 40), (150, 0, 170, 320))])
def test_a_long_strip_is_stretched_no_more_than_the_limit(
    photo: tuple[int, int], box: tuple[int, int, int, int]
) -> None:
    place = placement(photo, (320, 320))
    assert place is not None and place.box == box  # 62.5:1 shown as 320 x 20: stretched 3.9 times, not 62.5
    x0, y0, x1, y1 = place.box
    (h, w), (bw, bh) = photo, (x1 - x0, y1 - y0)
    stretch = max((bw / w) / (bh / h), (bh / h) / (bw / w))
    assert stretch <= MAX_STRETCH
    prob = np.arange(320 * 320, dtype=np.float32).reshape(320, 320)
    assert place.crop(prob).shape == (bh, bw) and place.crop(prob)[0, 0] == prob[y0, x0]


def test_the_letterbox_is_the_colour_of_the_strip_s_long_edges() -> None:
    rgb = np.zeros((2500, 40, 3), np.uint8)
    rgb[:] = BACKDROP
    rgb[250:2250, 4:36] = BLUE
    rgb[0, :] = (255, 0, 0)  # the short ends do not face the fill
    place = placement(rgb.shape[:2], (320, 320))
    assert place is not None
    canvas = letterboxed(rgb, place)
    x0, y0, x1, y1 = place.box
    assert canvas.shape == (320, 320, 3)
    assert (canvas[:, :x0] == BACKDROP).all() and (canvas[:, x1:] == BACKDROP).all()
    middle = canvas[y0 + 40 : y1 - 40, x0 + 3 : x1 - 3].reshape(-1, 3).astype(int)  # the block: 4-36 of 40 px
    assert np.abs(middle - BLUE).max() <= 40  # the block, narrowed into the box (its edges resampled)


@pytest.mark.skipif(
    not (INSTALLED / DEFAULT_CUTOUT / f"{DEFAULT_CUTOUT}.onnx").is_file(),
    reason=f"the default cut-out model is not installed in {INSTALLED} (`paqshot models setup`)",
)
@pytest.mark.parametrize("size", [(2500, 40), (40, 2500), (40, 1000), (1000, 40), (750, 12), (12, 750)])
def test_both_orientations_of_a_long_strip_are_cut_out_by_the_model(tmp_path: object, size: tuple[int, int]) -> None:
    """Before: 40 x 2500 and 40 x 1000 refused ("no product found", a speck of 0.17 %), 750 x 12 too, and 12 x 750
    cut out at confidence 0.00 (u2netp-int8; docs/progress/issue-14.md, session 16)."""
    settings = Settings(home=tmp_path / "home", install_models_dir=str(INSTALLED))  # type: ignore[operator]
    engines = Engines(settings)
    data, truth = strip(*size)
    try:
        result = engines.render(Image.open(io.BytesIO(data)), RenderOptions(long_side=1024))
    except CutoutRefused as refused:
        pytest.fail(f"{size}: refused: {refused.message}")
    assert result.meta["cutout_engine"] == ENGINE
    matte = np.asarray(result.meta["matte"], np.float32) / 255
    assert matte.shape == truth.shape
    kept = matte > 0.5
    iou = float((kept & truth).sum() / (kept | truth).sum())
    assert iou > 0.85, (size, iou, result.confidence)
