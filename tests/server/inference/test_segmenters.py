"""ONNX segmenter: manifest contract, output shape/range, edge-aware upsampling, the default loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from paqshot_server.imaging.segment import Matte, Segmenter
from paqshot_server.inference.manifests import Manifest, dump_toml
from paqshot_server.inference.segmenters import (
    OnnxSegmenter,
    confidence_of,
    load_default_segmenter,
    upsample_alpha,
)
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


def test_upsampling_is_edge_aware() -> None:
    # A photo with a sharp, slanted edge; the model's matte is the true one at 1/8 resolution.
    h, w = 256, 256
    yy, xx = np.mgrid[0:h, 0:w]
    truth = (xx + 0.3 * yy < 150).astype(np.float32)
    rgb = np.where(truth[..., None] > 0, (200, 40, 40), (240, 240, 240)).astype(np.uint8)
    small = np.asarray(Image.fromarray(truth, "F").resize((32, 32), Image.Resampling.BOX), np.float32)
    bilinear = np.asarray(Image.fromarray(small, "F").resize((w, h), Image.Resampling.BILINEAR))
    guided = upsample_alpha(small, rgb)
    assert guided.shape == (h, w)
    band = np.abs(bilinear - truth) > 0.05  # where plain upsampling is wrong
    err_bilinear = float(np.abs(bilinear - truth)[band].mean())
    err_guided = float(np.abs(guided - truth)[band].mean())
    assert err_guided < 0.2 * err_bilinear, (err_guided, err_bilinear)
    # Away from the edge nothing changes.
    assert float(np.abs(guided - truth)[~band].max()) < 0.05
    assert float(np.abs(guided - truth).mean()) < 0.5 * float(np.abs(bilinear - truth).mean())


def test_upsampling_keeps_solid_interiors_solid() -> None:
    # A two-tone product (dark cap on a red body): the colour change inside must not dent the matte.
    h = w = 192
    truth = np.zeros((h, w), np.float32)
    truth[40:170, 60:140] = 1.0
    rgb = np.full((h, w, 3), 235, np.uint8)
    rgb[40:90, 60:140] = (30, 30, 30)
    rgb[90:170, 60:140] = (170, 30, 40)
    small = np.asarray(Image.fromarray(truth, "F").resize((24, 24), Image.Resampling.BOX), np.float32)
    alpha = upsample_alpha(small, rgb)
    assert float(alpha[55:155, 75:125].min()) >= 0.98
    assert float(alpha[:20].max()) <= 0.02


def test_confidence() -> None:
    assert confidence_of(np.zeros((50, 50), np.float32)) == (0.0, ("the cut-out model found no product",))
    crisp = np.zeros((50, 50), np.float32)
    crisp[10:40, 10:40] = 1.0
    assert confidence_of(crisp)[0] == pytest.approx(1.0)
    unsure = np.full((50, 50), 0.55, np.float32)
    conf, notes = confidence_of(unsure)
    assert conf < 0.2 and "product touches the frame" in notes


def test_default_segmenter_follows_the_store(tmp_path: Path, fixture_models: Path) -> None:
    models_dir = tmp_path / "models"
    assert load_default_segmenter(models_dir) is None
    ModelStore(models_dir).install(fixture_models / "tiny-seg")
    seg = load_default_segmenter(models_dir)
    assert seg is not None and seg.name == "tiny-seg"
    assert load_default_segmenter(models_dir) is seg  # loaded once
    assert seg.segment(photo(64, 48)).alpha.shape == (48, 64)
