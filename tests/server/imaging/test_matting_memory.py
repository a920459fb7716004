"""The edge-band work of the matte upsampling and the unmixing, and the model map on the photo's grid, hold no
whole-image per-pixel temporaries (issue 14: a 40 MP photo's working image is 10 MP; its scrappy mattes left
millions of pixels unsure).

Allocations are counted with tracemalloc (numpy reports every array to it): deterministic, not a timing or RSS.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
from paqshot_server.imaging import cleanup, matting
from paqshot_server.imaging import refine as refine_module
from PIL import Image


def _peak_bytes(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _unsure_everywhere() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (800, 1000, 3), np.uint8)
    return rng.uniform(0.2, 0.8, (80, 100)).astype(np.float32), rgb


def test_upsampling_evaluates_the_unsure_pixels_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    small, rgb = _unsure_everywhere()
    whole = matting.guided_upsample(small, rgb)
    monkeypatch.setattr(matting, "BAND_CHUNK", 4096)
    chunked = matting.guided_upsample(small, rgb)
    # The same matte to float32 rounding (the grey's matrix product may round differently by size).
    assert np.allclose(chunked, whole, rtol=0, atol=2e-7)
    # Whole-image: the result (4 B/px), the unsure pixels' coordinates (16 B/px) and numpy's own transient while
    # it finds them (40 B/px measured); per pixel besides them only a chunk's worth. Unchunked, the per-pixel
    # coordinates, samples and grey came to 128 B/px at once.
    assert _peak_bytes(lambda: matting.guided_upsample(small, rgb)) < 48 * rgb.shape[0] * rgb.shape[1]


@pytest.mark.parametrize("chunk", [1, 997, 5000, 1 << 18])
def test_partial_pixels_are_those_of_the_whole_plane_formula(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    rng = np.random.default_rng(chunk)
    plane = rng.choice(np.array([0, 0.5 / 255, 0.4 / 255, 0.3, 1, 254.5 / 255, 254.4 / 255], np.float32), (61, 83))
    view = plane[3:50, 5:70]  # a crop's view, not contiguous
    monkeypatch.setattr(matting, "BAND_CHUNK", chunk)
    a8 = view * np.float32(255)
    expected = np.flatnonzero((a8 >= 0.5) & (a8 < 254.5))
    assert np.array_equal(matting.partial_pixels(view), expected)
    assert matting.partial_pixels(np.zeros((4, 4), np.float32)).size == 0


def test_unmixing_holds_no_whole_image_float_plane() -> None:
    rgb = np.full((1500, 2000, 3), 200, np.uint8)
    alpha = np.zeros((1500, 2000), np.float32)
    alpha[600:900, 800:1200] = 1.0
    alpha[600:900, 799] = 0.5  # a thin band
    # The copy of the colours (3 B/px) and small analysis grids; before: alpha * 255 and two masks too (10.6 B/px).
    assert _peak_bytes(lambda: matting.decontaminate(rgb, alpha)) < 8 * alpha.size


@pytest.mark.parametrize("stretch", [0.0, 0.05])
def test_the_model_map_on_the_photo_grid_is_stretched_and_clipped_in_place(
    monkeypatch: pytest.MonkeyPatch, stretch: float
) -> None:
    # The guided upsampling's plane is the answer itself: no second and third crop-sized plane (a 10 MP working
    # image's crop: 40 MB each) for the stretch and the clip.
    upsampled = np.linspace(-0.2, 1.2, 12 * 16, dtype=np.float32).reshape(12, 16)
    expected = np.clip((upsampled - stretch) * (1.0 / (1.0 - 2.0 * stretch)), 0.0, 1.0)
    monkeypatch.setattr(refine_module, "guided_upsample", lambda prob, rgb, guide_small=None: upsampled)
    out = refine_module._to_grid(np.zeros((3, 4), np.float32), np.zeros((12, 16, 3), np.uint8), True, stretch)
    assert out is upsampled
    assert np.array_equal(out, expected)


def test_a_bilinear_map_on_the_photo_grid_is_a_writable_copy() -> None:
    prob = np.array([[0.0, 2.0], [-1.0, 0.5]], np.float32)
    out = refine_module._to_grid(prob, np.zeros((4, 4, 3), np.uint8), False, 0.0)
    assert out.flags.writeable and out.min() >= 0.0 and out.max() <= 1.0
    assert prob.max() == 2.0  # the model's map itself is untouched


def _arrays_into_pillow(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """The shapes of the arrays copied into Pillow images from now on (``Image.fromarray``)."""
    given: list[tuple[int, ...]] = []
    fromarray = Image.fromarray

    def recording(array: np.ndarray, *args: object, **kwargs: object) -> Image.Image:
        given.append(array.shape)
        return fromarray(array, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(matting.Image, "fromarray", recording)
    return given


def test_the_analysis_image_of_an_array_is_reduced_a_band_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    photo = rng.integers(0, 256, (1203, 1801, 3), np.uint8)
    view = photo[1:1202, 3:1800]  # a crop's view: not contiguous
    expected = matting.analysis_image(Image.fromarray(np.ascontiguousarray(view)), 256)  # Pillow's whole reduce
    given = _arrays_into_pillow(monkeypatch)
    monkeypatch.setattr(matting, "BAND_CHUNK", 50_000)
    got = matting.analysis_image(view, 256)
    assert np.array_equal(got[0], expected[0]) and got[1] == expected[1]
    assert max(shape[0] for shape in given) < view.shape[0] // 4  # bands of rows, never the whole crop


def test_the_surround_share_reduces_the_photo_a_band_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Called at the refinement's end, a 40 MP photo's job's peak: the whole working image copied into Pillow (4 bytes
    # a pixel) to reduce it was 40 MB there (issue-14.md, "Memory at 40 MP, session 6").
    rng = np.random.default_rng(7)
    photo = rng.integers(60, 200, (1203, 1801, 3), np.uint8)  # a textured backdrop
    photo[400:800, 600:1200] = (150, 60, 40)
    first = np.zeros((100, 150), np.float32)
    first[33:67, 50:100] = 1.0  # the product on the model's grid (reduced by 6 first)
    monkeypatch.setattr(matting, "BAND_CHUNK", 10**12)  # one band: Pillow's reduce of the whole photo
    expected = cleanup.surround_share(photo, first, 30.0)
    given = _arrays_into_pillow(monkeypatch)
    monkeypatch.setattr(matting, "BAND_CHUNK", 50_000)
    assert cleanup.surround_share(photo, first, 30.0) == expected > 0
    assert given and max(shape[0] for shape in given) < photo.shape[0] // 4  # bands of rows, never the whole photo


def test_the_unmixing_reads_the_matte_from_the_returned_plane(monkeypatch: pytest.MonkeyPatch) -> None:
    # The crop's matte is written into the whole image's plane and read from there: no second crop-sized float
    # plane beside it (a 40 MP photo's ~10 MP working image: 38 MiB more through the unmixing, its job's peak in a
    # long-lived worker; issue-14.md, "Memory at 40 MP, session 6").
    photo = np.full((600, 800, 3), 236, np.uint8)
    photo[150:450, 250:550] = (150, 60, 40)
    yy, xx = np.mgrid[0:320, 0:320]
    blob = ((np.abs(yy - 160) < 80) & (np.abs(xx - 160) < 60)).astype(np.float32)
    seen: list[np.ndarray] = []
    real = refine_module.decontaminate

    def recording(rgb: np.ndarray, alpha: np.ndarray, *args: object) -> np.ndarray:
        seen.append(alpha)
        return real(rgb, alpha, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(refine_module, "decontaminate", recording)
    refined = refine_module.refine(photo, lambda rgb: blob)
    assert refined is not None and len(seen) == 1
    assert np.shares_memory(seen[0], refined.alpha)


def test_the_second_pass_hands_the_model_a_view_of_the_crop() -> None:
    # The crop's copy was alive through the second pass's model run, the peak of a 40 MP job's crop (issue-14.md,
    # "Memory at 40 MP, session 6"); the model's preprocessing copies what it resizes and lets it go.
    photo = np.full((600, 800, 3), 236, np.uint8)
    photo[250:350, 350:450] = (150, 60, 40)  # a small product: the second pass runs on its crop
    yy, xx = np.mgrid[0:320, 0:320]
    blob = ((np.abs(yy - 160) < 20) & (np.abs(xx - 160) < 15)).astype(np.float32)
    given: list[np.ndarray] = []

    def predict(rgb: np.ndarray) -> np.ndarray:
        given.append(rgb)
        return blob

    refined = refine_module.refine(photo, predict)
    assert refined is not None and refined.passes == 2 and len(given) == 2
    assert given[1].shape[:2] < photo.shape[:2] and np.shares_memory(given[1], photo)
