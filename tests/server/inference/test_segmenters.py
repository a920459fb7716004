"""ONNX segmenter: manifest contract, output shape/range, edge-aware upsampling, the default loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from paqshot_server.imaging.segment import Matte, Segmenter
from paqshot_server.inference.manifests import Manifest, dump_toml
from paqshot_server.inference.segmenters import OnnxSegmenter, load_default_segmenter
from paqshot_server.inference.store import ModelStore
from PIL import Image


def photo(width: int = 300, height: int = 200) -> np.ndarray:
    rgb = np.full((height, width, 3), 235, np.uint8)
    rgb[50:150, 100:220] = (180, 30, 30)
    return rgb


def test_segment_returns_a_full_resolution_matte_in_range(fixture_models: Path) -> None:
    seg = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    assert isinstance(seg, Segmenter)
    assert seg.name == "tiny-seg" and seg.provider == "CPUExecutionProvider"
    matte = seg.segment(photo())
    assert isinstance(matte, Matte)
    assert matte.alpha.shape == (200, 300) and matte.alpha.dtype == np.float32
    assert float(matte.alpha.min()) >= 0.0 and float(matte.alpha.max()) <= 1.0
    assert 0.0 <= matte.confidence <= 1.0
    small = seg.predict(photo())
    assert small.shape == (256, 256)  # the manifest's input size
    # A real network on real input: the matte depends on the picture.
    other = seg.predict(np.zeros((200, 300, 3), np.uint8))
    assert not np.allclose(small, other)
    with pytest.raises(ValueError, match="uint8"):
        seg.segment(photo().astype(np.float32))


def test_segment_may_answer_on_the_grid_the_output_needs(fixture_models: Path) -> None:
    """``segment(rgb, output_scale=)``: the matte (alpha, colours, box) and the evidence on a reduced grid when the
    output lays the product out much smaller than the photo; on the photo's grid otherwise."""
    seg = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    assert seg.takes_output_scale
    rgb = np.asarray(Image.fromarray(photo()).resize((1800, 1200), Image.Resampling.NEAREST))
    full = seg.segment(rgb, output_scale=lambda box: 1.0)
    assert full.alpha.shape == (1200, 1800)
    small = seg.segment(rgb, output_scale=lambda box: 0.05)
    h, w = small.alpha.shape
    assert w < 0.8 * 1800 and abs(h / 1200 - w / 1800) < 0.002
    assert small.box is not None and small.rgba is not None
    assert small.box[2] <= w and small.box[3] <= h
    assert small.rgba.shape[:2] == (small.box[3] - small.box[1], small.box[2] - small.box[0])
    assert abs(small.facts["share"] - full.facts["share"]) < 0.01  # measured on the grid the matte is on


def test_preprocess_follows_the_contract(fixture_models: Path) -> None:
    seg = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    x = seg.preprocess(np.full((10, 20, 3), 255, np.uint8))
    assert x.shape == (1, 3, 256, 256)
    want = (1.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(x[0, :, 0, 0], want, rtol=1e-5)


def test_minmax_contract_and_first_input(fixture_models: Path, model_copy) -> None:
    folder = model_copy("tiny-seg")
    data = Manifest.load(folder).to_dict()
    data["segmentation"].update(input="", activation="minmax", size=[64, 96])
    (folder / "manifest.toml").write_text(dump_toml(data))
    seg = OnnxSegmenter(folder, device="cpu")
    small = seg.predict(photo())
    assert small.shape == (64, 96)
    assert float(small.min()) == 0.0 and float(small.max()) == pytest.approx(1.0)


def test_default_segmenter_follows_the_store(tmp_path: Path, fixture_models: Path) -> None:
    models_dir = tmp_path / "models"
    assert load_default_segmenter(models_dir) is None
    ModelStore(models_dir).install(fixture_models / "tiny-seg")
    seg = load_default_segmenter(models_dir)
    assert seg is not None and seg.name == "tiny-seg"
    assert load_default_segmenter(models_dir) is seg  # loaded once
    assert seg.segment(photo(64, 48)).alpha.shape == (48, 64)
