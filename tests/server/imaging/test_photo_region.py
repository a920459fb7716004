"""An RGBA photo whose alpha only frames it (a transparent canvas or border, rounded corners, an oval vignette, a
feathered edge, a layer at 99 % or 50 % opacity, a semi-transparent watermark) is cut out like the photo itself;
a real cut-out's alpha (one following the product's outline) is still the matte (issue-10-quality.md, "An alpha
that frames a photo, session 11"; breaker11 B11-A).

The photo is the handed case ``comp_white_robot.jpg`` with its exact reference alpha; the cut-out is the default
engine's (the real u2netp model, skipped where it is not installed, like ``test_real_photos``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from imaging_support import product_photo
from paqshot_server.engines import Engines
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.photo_region import frames_a_photo
from paqshot_server.imaging.result import RenderResult
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
from paqshot_server.settings import Settings
from PIL import Image, ImageDraw, ImageFilter
from support import shared_case

INSTALLED = store_mod.install_level_dir()  # read at collection, before the autouse fixture empties it
MODEL = INSTALLED / DEFAULT_CUTOUT / f"{DEFAULT_CUTOUT}.onnx"
needs_model = pytest.mark.skipif(
    not MODEL.is_file(), reason=f"the default cut-out model is not installed in {INSTALLED}"
)
MARGIN = 100  # the transparent canvas around the pasted photo


def _robot() -> tuple[Image.Image, np.ndarray]:
    folder = shared_case("photos", "thin-parts-lost")
    photo = Image.open(folder / "comp_white_robot.jpg").convert("RGB")
    return photo, np.asarray(Image.open(folder / "comp_white_robot.alpha_gt.png").convert("L"))


def _with_alpha(photo: Image.Image, alpha: np.ndarray | Image.Image) -> Image.Image:
    out = photo.convert("RGBA")
    out.putalpha(alpha if isinstance(alpha, Image.Image) else Image.fromarray(alpha.astype(np.uint8), "L"))
    return out


def _mask(size: tuple[int, int], draw: Callable[[ImageDraw.ImageDraw], None], blur: float = 0) -> Image.Image:
    mask = Image.new("L", size, 0)
    draw(ImageDraw.Draw(mask))
    return mask.filter(ImageFilter.GaussianBlur(blur)) if blur else mask


def _padded(photo: Image.Image) -> Image.Image:
    canvas = Image.new("RGBA", (photo.width + 2 * MARGIN, photo.height + 2 * MARGIN), (0, 0, 0, 0))
    canvas.paste(photo, (MARGIN, MARGIN))
    return canvas


def _border(photo: Image.Image, px: int) -> Image.Image:
    alpha = np.zeros((photo.height, photo.width), np.uint8)
    alpha[px:-px, px:-px] = 255
    return _with_alpha(photo, alpha)


def _watermark(photo: Image.Image) -> Image.Image:
    alpha = np.full((photo.height, photo.width), 255, np.uint8)
    alpha[-120:-20, -300:-20] = 110  # a translucent band over the lower right corner
    return _with_alpha(photo, alpha)


FRAMES: dict[str, Callable[[Image.Image], Image.Image]] = {
    "transparent canvas": _padded,
    "2 px border": lambda p: _border(p, 2),
    "1 px border": lambda p: _border(p, 1),
    "99 % opacity": lambda p: _with_alpha(p, np.full((p.height, p.width), 254)),
    "50 % opacity": lambda p: _with_alpha(p, np.full((p.height, p.width), 128)),
    "rounded corners": lambda p: _with_alpha(
        p, _mask(p.size, lambda d: d.rounded_rectangle((0, 0, p.width - 1, p.height - 1), radius=90, fill=255))
    ),
    "oval vignette": lambda p: _with_alpha(p, _mask(p.size, lambda d: d.ellipse((0, 0, *p.size), fill=255), 12)),
    "feathered edge": lambda p: _with_alpha(
        p, _mask(p.size, lambda d: d.rectangle((20, 20, p.width - 21, p.height - 21), fill=255), 10)
    ),
    "watermark": _watermark,
}


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Image.Image], tuple[np.ndarray, RenderResult]]:
    engines = Engines(Settings(home=tmp_path_factory.mktemp("home"), install_models_dir=str(INSTALLED)))

    def run(image: Image.Image) -> tuple[np.ndarray, RenderResult]:
        result = engines.render(image, RenderOptions(background="white", long_side=512))
        return np.asarray(result.meta["matte"], np.float32) / 255, result

    return run


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@needs_model
@pytest.mark.parametrize("kind", list(FRAMES))
def test_an_alpha_that_frames_a_photo_gives_the_photos_own_cutout(render, kind: str) -> None:
    photo, _truth = _robot()
    plain, plain_result = render(photo)
    matte, result = render(FRAMES[kind](photo))
    if kind == "transparent canvas":
        assert float(matte.max(initial=0, where=_margin(matte.shape))) == 0  # nothing of the canvas is product
        matte = matte[MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert result.meta["cutout_source"] != "alpha"
    assert result.confidence is not None and result.confidence < 1.0
    # the photo's own cut-out, not the whole frame (on main: the rectangle or oval, IoU with it ~0.3)
    assert _iou(matte > 0.5, plain > 0.5) >= 0.9
    assert abs(result.confidence - plain_result.confidence) < 0.1


def _margin(shape: tuple[int, ...]) -> np.ndarray:
    inside = np.zeros(shape[:2], bool)
    inside[MARGIN:-MARGIN, MARGIN:-MARGIN] = True
    return ~inside


@needs_model
def test_a_real_cutout_keeps_its_own_alpha(render) -> None:
    photo, truth = _robot()
    matte, result = render(_with_alpha(photo, truth))
    assert result.meta["cutout_source"] == "alpha" and result.confidence == 1.0
    assert np.array_equal(np.round(matte * 255).astype(np.uint8), truth)


@needs_model
def test_a_rectangular_product_cutout_keeps_its_own_alpha(render) -> None:
    # a box seen square on, with a printed stripe: its outline is a rectangle (a frame's shape), yet the model
    # finds the whole of it on a plain ground; segmented on its own edge colour it kept only the stripe (IoU 0.07)
    rgba = np.asarray(product_photo().convert("RGBA")).copy()
    rgba[..., 3] = 0
    rgba[70:260, 90:230, 3] = 255
    matte, result = render(Image.fromarray(rgba))
    assert result.meta["cutout_source"] == "alpha" and result.confidence == 1.0
    assert np.array_equal(np.round(matte * 255).astype(np.uint8), rgba[..., 3])


def test_reference_cutouts_are_outlines_and_frames_are_not() -> None:
    _photo, truth = _robot()
    chair = np.asarray(
        Image.open(shared_case("photos", "dark-on-dark-ghosted-high-confidence") / "comp_dark_chair.alpha_gt.png")
    )
    assert not frames_a_photo(truth) and not frames_a_photo(chair)
    size = (641, 480)
    for kind, make in FRAMES.items():
        if kind != "transparent canvas":
            frame = np.asarray(make(Image.new("RGB", size)).getchannel("A"))
            assert frames_a_photo(frame), kind
    assert frames_a_photo(np.asarray(_padded(Image.new("RGB", size)).getchannel("A")))


def test_a_photo_on_a_transparent_canvas_is_segmented_without_a_model() -> None:
    photo = product_photo()  # a red product on a near-white backdrop
    cut = cutout(_padded(photo))
    assert cut.source == "classical"
    on_photo = np.array(cut.bbox) - MARGIN
    assert np.abs(on_photo - cutout(photo).bbox).max() <= 3  # the product (soft edges aside), not the photo
    flat = Image.new("RGBA", (120, 90), (0, 0, 0, 0))
    flat.paste((200, 40, 40, 255), (30, 20, 90, 70))  # a flat box cut out: nothing inside but itself
    assert cutout(flat).source == "alpha" and cutout(flat).bbox == (30, 20, 90, 70)
