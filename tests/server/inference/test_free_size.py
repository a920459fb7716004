"""A cut-out graph run at other input sides than its manifest's (issue 10 part 6: a cheaper model pass).

The real u2netp graphs (fp32 and int8) as the set-up installs them; where they are not installed those tests skip
and say so. The committed tiny model (another family) must keep working and refuse other sides.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from paqshot_server.inference import sessions
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.free_size import free_input_size
from paqshot_server.inference.manifests import Manifest, sha256_file
from paqshot_server.inference.segmenters import OnnxSegmenter
from PIL import Image

INSTALLED = store_mod.install_level_dir()  # read at collection, before the autouse fixture empties it
PHOTOS = Path(__file__).resolve().parents[2] / "fixtures" / "photos"
U2NET = ("u2netp", "u2netp-int8")


def _installed(model_id: str) -> Path:
    folder = INSTALLED / model_id
    if not (folder / "manifest.toml").is_file():
        pytest.skip(f"{model_id} is not installed in {INSTALLED} (`paqshot models setup`; ./dev test installs it)")
    return folder


def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(PHOTOS / name).convert("RGB"))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


def _on(plane: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A model map (float32) resampled to ``shape`` (bilinear): two passes' maps compared on one grid."""
    return np.asarray(Image.fromarray(plane, "F").resize((shape[1], shape[0]), Image.Resampling.BILINEAR))


@pytest.mark.parametrize("model_id", U2NET)
def test_the_freed_graph_answers_as_the_file_at_the_trained_size(model_id: str) -> None:
    folder = _installed(model_id)
    manifest = Manifest.load(folder)
    path = folder / manifest.files[0].path
    options = sessions.session_options(sessions.CpuPlan(1, False), on_cpu=True)
    fixed = ort.InferenceSession(str(path), options, providers=[sessions.CPU])
    free = ort.InferenceSession(free_input_size(path.read_bytes()), options, providers=[sessions.CPU])
    seg = OnnxSegmenter(folder, device="cpu")
    x = seg.preprocess(_photo("green_flamingo.jpg"))
    name = fixed.get_inputs()[0].name
    for a, b in zip(fixed.run(None, {name: x}), free.run(None, {name: x}), strict=True):
        assert np.array_equal(a, b)  # every side output, bit for bit
    assert sha256_file(path) == manifest.files[0].sha256  # read, never written


@pytest.mark.parametrize("model_id", U2NET)
def test_a_pass_at_another_side_agrees_with_the_trained_sides_on_a_real_photo(model_id: str) -> None:
    seg = OnnxSegmenter(_installed(model_id), device="cpu")
    for name in ("green_flamingo.jpg", "azure_fork_18.jpg"):
        rgb = _photo(name)
        trained = seg.predict(rgb)
        smaller = seg.predict(rgb, 256)
        assert smaller.shape == (256, 256) and trained.shape == (320, 320)
        # u2netp-int8 on the four fixture photos: 0.909-0.962 (raw maps, p > 0.5, on the 320 grid)
        assert _iou(_on(smaller, trained.shape), trained) > 0.88, name


def test_a_refinement_with_a_smaller_first_pass_keeps_the_product() -> None:
    seg = OnnxSegmenter(_installed("u2netp-int8"), device="cpu")
    rgb = _photo("azure_fork_18.jpg")
    trained = seg.segment(rgb)
    seg.refine_config = dataclasses.replace(seg.refine_config, first_side=224, crop_native=True)
    cheaper = seg.segment(rgb)
    assert _iou(cheaper.alpha, trained.alpha) > 0.98  # measured: 0.9925 (u2netp-int8; the crop pass runs at 320)


def test_the_crop_pass_never_sees_a_small_crop_enlarged() -> None:
    seg = OnnxSegmenter(_installed("u2netp-int8"), device="cpu")
    assert seg.pass_side((200, 150, 3), 0, native=True) == 224  # the crop's long side, rounded up to 32
    assert seg.pass_side((600, 900, 3), 0, native=True) == 0  # larger than 320: the trained size
    assert seg.pass_side((600, 900, 3), 256, native=True) == 256
    assert seg.pass_side((100, 90, 3), 256, native=True) == 128
    assert seg.pass_side((200, 150, 3), 0, native=False) == 0
    with pytest.raises(ValueError, match="multiple of 32"):
        seg.predict(_photo("azure_fork_18.jpg"), 250)


def test_the_tiny_model_keeps_working_and_refuses_other_sides(fixture_models: Path) -> None:
    seg = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    rgb = np.full((200, 300, 3), 235, np.uint8)
    rgb[50:150, 100:220] = (180, 30, 30)
    assert seg.predict(rgb).shape == (256, 256)
    before = seg.segment(rgb).alpha
    seg.refine_config = dataclasses.replace(seg.refine_config, first_side=224, crop_side=224, crop_native=True)
    seg.load_graphs()  # nothing to load: no other sizes for its family
    assert np.array_equal(seg.segment(rgb).alpha, before)  # sides its family does not take are not asked for
    for limit in (0, 128):  # no free sizes for its family: its own, whatever a RefineConfig asks
        assert seg.pass_side((100, 90, 3), limit, native=True) == seg.pass_side((900, 900, 3), limit, native=False) == 0
    with pytest.raises(ValueError, match="runs at"):
        seg.predict(rgb, 128)
    with pytest.raises(ValueError, match="fixed height and width"):  # its graph's sizes are already free
        free_input_size((fixture_models / "tiny-seg" / "model.onnx").read_bytes())
    with pytest.raises(ValueError, match="no input"):
        free_input_size((fixture_models / "tiny-seg" / "model.onnx").read_bytes(), "pixels")
