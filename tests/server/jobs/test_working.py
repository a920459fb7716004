"""A photo much larger than the output is rendered from a working image decoded smaller (JPEG DCT scaling), with
the matte and the product's box put back on the photo's grid; a small product in a big photo is rendered from
the whole photo instead (never enlarged from a reduced copy)."""

from __future__ import annotations

import gc
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.engines import Engines
from paqshot_server.errors import UnsupportedImage
from paqshot_server.imaging.decode import decode_image
from paqshot_server.imaging.result import RenderResult
from paqshot_server.imaging.working import CROP_HEADROOM, product_crop, reduced_crop, working_size
from paqshot_server.inference import sessions
from paqshot_server.inference.store import ModelStore
from paqshot_server.jobs import allocator
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from PIL import Image, ImageOps
from support import b64, make_key

MODELS = Path(__file__).resolve().parents[2] / "fixtures" / "models"
PHOTO = (4000, 3000)  # twice the working size of a 1024 px output: decoded at 1/2


def photo(product: tuple[int, int, int, int], fmt: str = "JPEG", orientation: int = 1) -> bytes:
    """A ``PHOTO``-sized file (as stored: its EXIF ``orientation`` turns it when shown) with a product box."""
    img = Image.new("RGB", PHOTO, (236, 236, 236))
    img.paste((150, 60, 40), product)
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, fmt, quality=90, exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of the images the engines render (the real engine runs)."""
    sizes: list[tuple[int, int]] = []
    real = Engines.render

    def render(self: Engines, image: Image.Image, *args: object, **kwargs: object) -> object:
        sizes.append(image.size)
        return real(self, image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engines, "render", render)
    return sizes


def run(settings: Settings, data: bytes, **fields: object) -> jobs_sql.Job:
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        body = {"product_image": b64(data), "style": "studio_packshot", **fields}
        job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    ctx = WorkerContext(settings)
    assert process(ctx, job_id) == "completed"
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.result is not None
    return job


def matte_size(settings: Settings, job: jobs_sql.Job) -> tuple[int, int]:
    assert job.result is not None and job.result.matte is not None
    with Image.open(io.BytesIO(WorkerContext(settings).files.read(job.result.matte))) as matte:
        return matte.size


def test_a_big_photo_is_rendered_from_a_working_image_and_mapped_back(
    settings: Settings, spy: list[tuple[int, int]]
) -> None:
    product = (1000, 600, 3000, 2400)  # half the frame and more
    job = run(settings, photo(product))
    assert spy == [(2000, 1500)]  # decoded at 1/2, once
    assert matte_size(settings, job) == PHOTO  # the matte is on the photo's grid (mask hints are drawn on it)
    box = job.result.meta["source_box"]  # type: ignore[union-attr]
    assert np.allclose(box, product, atol=4), box  # the product's box in the photo's pixels


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_phone_photo_is_worked_on_as_shown(
    settings: Settings, spy: list[tuple[int, int]], orientation: int
) -> None:
    """A JPEG keeps its EXIF orientation in storage (session 7): the working image is decoded small and upright,
    and the matte and the product's box are on the grid of the photo as shown, where mask hints are drawn."""
    product = (1000, 600, 3000, 2400)
    data = photo(product, orientation=orientation)
    mask = Image.new("L", PHOTO, 0)
    mask.paste(255, product)
    mask.info["exif"] = Image.open(io.BytesIO(data)).info["exif"]
    shown = ImageOps.exif_transpose(mask)
    assert shown is not None
    job = run(settings, data)
    assert job.input_file.endswith(".jpg")  # stored as sent, not turned into a PNG at the door
    assert spy == [(shown.width // 2, shown.height // 2)]  # decoded at 1/2, once, upright
    assert matte_size(settings, job) == shown.size
    box = job.result.meta["source_box"]  # type: ignore[union-attr]
    assert np.allclose(box, shown.getbbox(), atol=4), (box, shown.getbbox())


def test_a_mask_hint_on_a_turned_photo_is_drawn_on_it_as_shown(settings: Settings) -> None:
    product = (1000, 600, 3000, 2400)  # shown (orientation 6) at (600, 1000, 2400, 3000) in a 3000 x 4000 photo
    hint = Image.new("L", (PHOTO[1], PHOTO[0]), 128)
    hint.paste(0, (600, 1000, 1500, 3000))  # the left half of the product as shown: background
    matte = studio_matte(settings, photo(product, orientation=6), hint)
    assert matte.shape == (PHOTO[0], PHOTO[1])
    assert matte[1050:2950, 650:1450].max() == 0  # the hint's background half ...
    assert matte[1050:2950, 1550:2350].min() == 255  # ... and the other half, where it is shown


def test_a_small_product_in_a_big_photo_is_rendered_again_at_full_resolution_from_around_it(
    settings: Settings, spy: list[tuple[int, int]]
) -> None:
    product = (1800, 1300, 2200, 1700)  # a tenth of the frame: enlarged from a reduced copy
    job = run(settings, photo(product))
    # Tried small, then at full resolution from the product's box and half its side around it (400 px: 200 px
    # each side): the cut-out's arrays are the product's size, not the photo's.
    assert spy[0] == (2000, 1500) and len(spy) == 2
    assert abs(spy[1][0] - 800) <= 10 and abs(spy[1][1] - 800) <= 10, spy
    assert job.result is not None and job.result.meta["scale"] > 1
    box = job.result.meta["source_box"]
    assert np.allclose(box, product, atol=2), box  # in the photo's pixels, not the crop's
    assert job.result.matte is not None
    with Image.open(io.BytesIO(WorkerContext(settings).files.read(job.result.matte))) as stored:
        matte = np.asarray(stored)
    assert matte.shape == (PHOTO[1], PHOTO[0])  # on the photo's grid, where mask hints are drawn
    assert matte[1305:1695, 1805:2195].min() == 255  # the product, where it is in the photo
    inner = np.zeros(matte.shape, bool)
    inner[1295:1705, 1795:2205] = True
    assert matte[~inner].max() == 0  # nothing else


def test_the_crop_of_a_large_product_is_rendered_at_the_size_the_canvas_needs(
    settings: Settings, spy: list[tuple[int, int]]
) -> None:
    # A 1333 px output: the 4000 x 3000 photo is worked on at 2000 x 1500, where a product filling half the
    # frame's width is enlarged (~1.1x) by the layout. At full resolution it would be ~1.8x what the canvas shows.
    wide = replace(settings, output_long_side=1333)
    product = (1008, 752, 3008, 2256)  # on the JPEG's 16 px blocks: no ringing outside it
    # No shadow: the layout then sizes the product alone (the default soft shadow's reach past its sides makes the
    # layout shrink it a little, the crop's grid coarser: 2300 px, where the box came out 2.3 of its pixels off).
    job = run(wide, photo(product), shadow="none")
    assert job.result is not None
    assert spy[0] == (2000, 1500) and len(spy) == 2, spy
    # The crop (the whole photo here: the margin reaches every edge) reduced, not rendered at 4000 x 3000: the
    # product in it is at least its size on the canvas (never enlarged) and not much more.
    on_canvas = job.result.meta["product_box"][2] - job.result.meta["product_box"][0]
    in_crop = spy[1][0] * (product[2] - product[0]) / PHOTO[0]
    assert on_canvas <= in_crop <= CROP_HEADROOM * on_canvas + 2, (spy, on_canvas)
    assert job.result.meta["scale"] <= 1
    box = job.result.meta["source_box"]
    # In the photo's pixels, not the reduced crop's: within a pixel of the grid it was cut out on, and rounding.
    assert np.allclose(box, product, atol=PHOTO[0] / spy[1][0] + 1.5), (box, spy)
    assert job.result.matte is not None
    with Image.open(io.BytesIO(WorkerContext(wide).files.read(job.result.matte))) as stored:
        matte = np.asarray(stored)
    assert matte.shape == (PHOTO[1], PHOTO[0])  # on the photo's grid, where mask hints are drawn
    left, top, right, bottom = product
    edge = math.ceil(3 * PHOTO[0] / spy[1][0]) + 1  # the soft edge: three pixels of the reduced grid, stretched back
    assert matte[top + edge : bottom - edge, left + edge : right - edge].min() == 255  # the product, in the photo
    outer = np.ones(matte.shape, bool)
    outer[top - edge : bottom + edge, left - edge : right + edge] = False
    assert matte[outer].max() == 0  # nothing else


def test_when_nothing_is_found_around_the_product_the_whole_photo_is_used(
    settings: Settings, spy: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    spying = Engines.render

    def render(self: Engines, image: Image.Image, *args: object, **kwargs: object) -> object:
        if len(spy) == 1:  # the crop (a busy backdrop all round it, say): the cut-out finds no product there
            spy.append(image.size)
            raise UnsupportedImage("no product found: the background is too busy for the built-in cut-out.")
        return spying(self, image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engines, "render", render)
    job = run(settings, photo((1800, 1300, 2200, 1700)))
    assert len(spy) == 3 and spy[1] != PHOTO and spy[2] == PHOTO  # working image, crop, then the whole photo
    assert matte_size(settings, job) == PHOTO


def hinted_matte(settings: Settings, product: tuple[int, int, int, int]) -> np.ndarray:
    """The stored matte (uint8, the photo's grid) of a studio packshot whose mask hint says the left half of
    ``product`` is background (grey, "the cut-out decides", elsewhere)."""
    left, top, right, bottom = product
    hint = Image.new("L", PHOTO, 128)
    hint.paste(0, (left, top, (left + right) // 2, bottom))
    matte = studio_matte(settings, photo(product), hint)
    assert matte.shape == (PHOTO[1], PHOTO[0])
    return matte


def studio_matte(settings: Settings, data: bytes, hint: Image.Image) -> np.ndarray:
    """The stored matte (uint8) of a studio packshot of the photo ``data`` with the mask hint ``hint``, run
    through the API and a real worker pass."""
    out = io.BytesIO()
    hint.save(out, "PNG")
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        body = {"product_image": b64(data), "style": "studio_packshot", "mask_hint": b64(out.getvalue())}
        answer = client.post("/v1/generate", json=body, headers=key.headers)
        assert answer.status_code == 202, answer.text
    ctx = WorkerContext(settings)
    assert process(ctx, answer.json()["id"]) == "completed"
    job = jobs_sql.get(ctx.db.get(), answer.json()["id"])
    assert job is not None and job.result is not None and job.result.matte is not None
    with Image.open(io.BytesIO(ctx.files.read(job.result.matte))) as stored:
        return np.asarray(stored)


def test_a_mask_hint_shapes_the_cut_out_of_the_crop(settings: Settings, spy: list[tuple[int, int]]) -> None:
    matte = hinted_matte(settings, (1800, 1300, 2200, 1700))
    assert len(spy) == 2 and spy[1] != PHOTO  # rendered again from a crop, with the hint cropped alike
    assert matte[1310:1690, 1810:1990].max() == 0  # the hint's background half
    assert matte[1310:1690, 2010:2190].min() == 255  # the other half, where it is in the photo


def test_a_mask_hint_shapes_the_cut_out_of_a_reduced_crop(settings: Settings, spy: list[tuple[int, int]]) -> None:
    product = (1008, 752, 3008, 2256)  # enlarged at the working size of a 1333 px output: a reduced crop
    matte = hinted_matte(replace(settings, output_long_side=1333), product)
    assert len(spy) == 2 and spy[1][0] < 0.7 * PHOTO[0], spy  # the hint reduced with the crop
    assert matte[800:2200, 1060:1960].max() == 0  # the hint's background half
    assert matte[800:2200, 2060:2960].min() == 255  # the other half, where it is in the photo


def test_the_crop_is_the_product_box_with_half_its_long_side_around_it_within_the_photo() -> None:
    def result(box: list[int] | None) -> RenderResult:
        return RenderResult(images=(), engine="classical", meta={} if box is None else {"source_box": box})

    # a 100 x 40 box in a 1000 x 750 working image of a 2000 x 1500 photo: 200 x 80 there, 100 px around it
    assert product_crop(result([400, 300, 500, 340]), (1000, 750), (2000, 1500)) == (700, 500, 1100, 780)
    assert product_crop(result([0, 700, 100, 750]), (1000, 750), (2000, 1500)) == (0, 1300, 300, 1500)  # clipped
    assert product_crop(result(None), (1000, 750), (2000, 1500)) is None


def test_a_crop_reduced_a_band_at_a_time_is_the_one_pass_resize() -> None:
    # Waves of 17 and 23 px within 28..228: a band a pixel off is ~30 levels off, and Pillow's passes never clip.
    y, x = np.mgrid[0:1000, 0:1500].astype(np.float32)
    waves = [128 + 100 * np.sin(2 * np.pi * (a * x + b * y)) for a, b in ((1 / 17, 0), (0, 1 / 23), (1 / 29, 1 / 19))]
    image = Image.fromarray(np.stack(waves, axis=-1).round().astype(np.uint8))
    for crop, size in (((30, 20, 1470, 980), (1000, 667)), ((0, 0, 1500, 1000), (1499, 999))):
        banded = np.asarray(reduced_crop(image, crop, size), dtype=np.int16)
        assert banded.shape == (size[1], size[0], 3)
        assert np.abs(banded - np.asarray(image.resize(size, Image.Resampling.BICUBIC, box=crop))).max() <= 2
    assert reduced_crop(image, (5, 6, 105, 56), (100, 50)).tobytes() == image.crop((5, 6, 105, 56)).tobytes()


def test_a_small_product_in_a_scene_is_rendered_again_from_the_whole_photo(
    settings: Settings, spy: list[tuple[int, int]]
) -> None:
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        body = {"product_image": b64(photo((1800, 1300, 2200, 1700))), "style": "lifestyle"}
        job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    assert process(WorkerContext(settings), job_id) == "completed"
    assert spy == [(2000, 1500), PHOTO]  # a scene may use more of the photo than the product: not cropped


def test_working_sizes() -> None:
    assert working_size(photo((0, 0, 10, 10)), 1024) == (1536, 1152)
    assert working_size(photo((0, 0, 10, 10)), 2048) is None  # not twice the working size: decoded whole
    assert working_size(photo((0, 0, 10, 10), "PNG"), 1024) is None  # no DCT scaling outside JPEG


def test_decoding_at_least_a_size_keeps_the_checks_and_the_files_size() -> None:
    data = photo((1000, 600, 3000, 2400))
    small = decode_image(data, max_bytes=len(data), max_pixels=40_000_000, at_least=(1536, 1152))
    assert small.image.size == (2000, 1500) and small.source_size == PHOTO
    with pytest.raises(Exception, match="limit is 10,000,000 pixels"):
        decode_image(data, max_bytes=len(data), max_pixels=10_000_000, at_least=(1536, 1152))


def test_a_mask_hint_on_a_big_photo_shapes_the_working_cut_out(settings: Settings, spy: list[tuple[int, int]]) -> None:
    matte = hinted_matte(settings, (1000, 600, 3000, 2400))
    assert spy == [(2000, 1500)]
    assert matte[650:2350, 1050:1950].max() == 0  # the hint's background half is not product ...
    assert matte[650:2350, 2050:2950].min() == 255  # ... and the other half still is


def test_a_scene_from_a_working_image_reports_the_product_box_in_the_photo(
    settings: Settings, spy: list[tuple[int, int]]
) -> None:
    product = (1000, 600, 3000, 2400)
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        body = {"product_image": b64(photo(product)), "style": "lifestyle"}
        job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
        ctx = WorkerContext(settings)
        assert process(ctx, job_id) == "completed"
        shown = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert spy == [(2000, 1500)]
    x, y, w, h = shown["product_box"]["input"]  # from the scene's source_box
    assert np.allclose([x, y, x + w, y + h], product, atol=4), shown["product_box"]


def test_the_full_resolution_pass_on_a_crop_hands_the_model_arena_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[bool] = []  # whether each render's model runs hand onnxruntime's CPU arena back (issue 14)
    real = Engines.render

    def render(self: Engines, image: Image.Image, *args: object, **kwargs: object) -> object:
        released.append(sessions._release_all.get())
        return real(self, image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engines, "render", render)
    run(settings, photo((1800, 1300, 2200, 1700)))
    # The working image (3 MP) by its size; the 0.64 MP crop of the 12 MP photo whatever its size: the arrays
    # of the photo's full-resolution pass follow it.
    assert released == [False, True]


def test_a_large_photos_renders_run_in_the_allocators_large_job_block(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    depth, inside = [0], []

    @contextmanager
    def large_job() -> Iterator[None]:
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1

    real = Engines.render

    def render(self: Engines, image: Image.Image, *args: object, **kwargs: object) -> object:
        inside.append(depth[0] == 1)
        return real(self, image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(allocator, "large_job", large_job)
    monkeypatch.setattr(Engines, "render", render)
    run(settings, photo((1000, 600, 3000, 2400)))  # 12 MP: a model's cut-out of it hands the arena back
    assert inside and all(inside), inside
    inside.clear()
    body = Image.new("RGB", (1600, 1200), (236, 236, 236))
    body.paste((150, 60, 40), (500, 300, 1100, 900))
    small = io.BytesIO()
    body.save(small, "JPEG", quality=90)
    run(settings, small.getvalue())  # 1.9 MP: it keeps the arena, and the heap as it is
    assert inside == [False]


def _open_images() -> list[tuple[int, int]]:
    """The sizes of the Pillow images alive and holding pixels (not closed) in this process."""
    gc.collect()  # alive = reachable: an earlier test's image left in cyclic garbage is not this job's
    sizes = []
    for obj in gc.get_objects():
        if isinstance(obj, Image.Image):
            try:
                obj.im  # noqa: B018 - raises ValueError once the image is closed (its memory gone)
            except ValueError:
                continue
            sizes.append(obj.size)
    return sizes


def test_the_decoded_image_is_gone_while_the_model_runs(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # The model's cut-out reads a numpy copy of the decoded image: the Pillow image (4 bytes a pixel) must not stay
    # alive beside it through the model runs, the peak of a large photo's job (issue-14.md, "Memory at 40 MP,
    # session 6").
    ModelStore(settings.models_dir, device="cpu").install(MODELS / "tiny-seg", accept_licence=True)
    during: list[list[tuple[int, int]]] = []
    real = ort.InferenceSession.run

    def run_model(self, names, feeds, run_options=None):  # type: ignore[no-untyped-def]
        during.append([s for s in _open_images() if s[0] * s[1] >= 100_000])  # the photo's images, not icons
        return real(self, names, feeds, run_options)

    monkeypatch.setattr(ort.InferenceSession, "run", run_model)
    job = run(settings, photo((1000, 600, 3000, 2400)))
    assert job.engine == "onnx:tiny-seg"
    assert during and during == [[]] * len(during), during  # before: [[(2000, 1500)]], the working image


def test_every_image_the_runner_renders_is_handed_over(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[object] = []  # each render's ``consume``: the runner reads nothing of the image after it
    real = Engines.render

    def render(self: Engines, image: Image.Image, *args: object, **kwargs: object) -> object:
        handed.append(kwargs.get("consume"))
        return real(self, image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engines, "render", render)
    run(settings, photo((1800, 1300, 2200, 1700)))  # the working image, then the crop at full resolution
    run(settings, photo((1000, 600, 3000, 2400), "PNG"))  # not a JPEG: the whole photo
    assert handed == [True, True, True]


def test_the_working_images_matte_is_gone_when_the_crop_is_rendered(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the working render's review, box and scale are read after it: its matte (an "L" image of the working
    # size) must not stay alive through the crop's render (issue-14.md, "Memory at 40 MP, session 6").
    alive: list[list[tuple[int, int]]] = []
    real = Engines.render

    def render(self: Engines, image: Image.Image, *args: object, **kwargs: object) -> object:
        alive.append(_open_images())
        return real(self, image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engines, "render", render)
    job = run(settings, photo((1800, 1300, 2200, 1700)))
    assert job.result is not None and job.result.confidence is not None
    assert len(alive) == 2, alive  # the working image, then the crop
    assert (2000, 1500) not in alive[1], alive[1]
