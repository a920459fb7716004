"""The int8 cut-out model made here with onnxruntime's quantisation tools (``models quantize``): a real
quantisation of the committed tiny model (and of u2netp where it is installed), its manifest, its preference."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from paqshot_server.cli import main
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
from paqshot_server.inference.manifests import Manifest, sha256_file
from paqshot_server.inference.quantize import RECIPES, Recipe, make_int8
from paqshot_server.inference.segmenters import OnnxSegmenter
from paqshot_server.inference.store import ModelStore, StoreError
from PIL import Image
from support import product_jpeg

INSTALLED = store_mod.install_level_dir()  # read at collection, before the autouse fixture empties it
U2NETP = INSTALLED / DEFAULT_CUTOUT


def tiny_recipe(fixture_models: Path) -> tuple[Recipe, Manifest]:
    source = fixture_models / "tiny-seg"
    recipe = Recipe("tiny-seg", "tiny-seg-int8", sha256_file(source / "model.onnx"))
    card = replace(Manifest.load(source), id="tiny-seg-int8", priority=5, files=())
    return recipe, card


def test_the_tiny_model_is_quantised_for_real_and_the_manifest_says_how(
    store: ModelStore, fixture_models: Path, tmp_path: Path
) -> None:
    store.install(fixture_models / "tiny-seg")
    recipe, card = tiny_recipe(fixture_models)
    made = make_int8(store, "tiny-seg", "models quantize tiny-seg", recipe=recipe, card=card)
    assert made.id == "tiny-seg-int8" and store.best("segmentation").id == "tiny-seg-int8"  # preferred
    manifest = Manifest.load(made.path)
    assert manifest.made["from"] == "tiny-seg" and manifest.made["from_sha256"] == recipe.source_sha256
    assert manifest.made["by"] == "models quantize tiny-seg"
    assert "onnxruntime" in str(manifest.made["tool"]) and "onnx" in str(manifest.made["tool"])
    assert len(str(manifest.made["calibration_sha256"])) == 64
    graph = onnx.load(str(made.path / manifest.files[0].path)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops  # QDQ around the convolutions
    photo = np.asarray(Image.open(io.BytesIO(product_jpeg())).convert("RGB"))
    fp32 = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu").predict(photo)
    int8 = OnnxSegmenter(made.path, device="cpu").predict(photo)
    assert int8.shape == fp32.shape and float(np.abs(int8 - fp32).mean()) < 0.05
    # Deterministic: made again elsewhere, the same bytes.
    other = ModelStore(tmp_path / "other", device="cpu")
    other.install(fixture_models / "tiny-seg")
    again = make_int8(other, "tiny-seg", "models quantize tiny-seg", recipe=recipe, card=card)
    assert Manifest.load(again.path).files == manifest.files
    # The recipe is for one file: another one is refused by its digest.
    with pytest.raises(StoreError, match="installed from another file"):
        make_int8(store, "tiny-seg", recipe=replace(recipe, source_sha256="0" * 64), card=card)


def test_the_cli_names_what_it_can_make_and_where_a_variant_comes_from(tmp_path: Path, capsys) -> None:
    home = str(tmp_path / "home")
    assert main(["models", "quantize", "tiny-seg", "--home", home]) == 1
    assert "no int8 recipe for 'tiny-seg' (there is one for: u2netp)" in capsys.readouterr().out
    assert main(["models", "quantize", DEFAULT_CUTOUT, "--home", home]) == 1
    assert "not installed" in capsys.readouterr().out
    assert main(["models", "pull", RECIPES[DEFAULT_CUTOUT].variant, "--home", home]) == 1
    assert "is made on this machine, not downloaded: `models quantize u2netp`" in capsys.readouterr().out


@pytest.mark.skipif(
    not (U2NETP / "manifest.toml").is_file(),
    reason=f"the default cut-out model is not installed in {INSTALLED} (`paqshot models setup`)",
)
def test_u2netp_int8_is_made_from_the_installed_file_and_agrees_with_it(tmp_path: Path, capsys) -> None:
    home = tmp_path / "home"
    assert main(["models", "install", str(U2NETP), "--home", str(home)]) == 0
    assert main(["models", "quantize", DEFAULT_CUTOUT, "--home", str(home)]) == 0
    assert "installed u2netp-int8" in capsys.readouterr().out
    store = ModelStore(home / "models", device="cpu")
    made = store.best("segmentation")
    assert made.id == "u2netp-int8"
    manifest = Manifest.load(made.path)
    recipe = RECIPES[DEFAULT_CUTOUT]
    assert manifest.made["quantised"] == recipe.quantised and manifest.made["keep_float"] == recipe.keep_float
    assert manifest.files[0].size < 0.6 * Manifest.load(U2NETP).files[0].size  # int8 weights where quantised
    # Exactly the recipe's convolutions read 8-bit weights; the others (fork_10's handle highlight) stay float.
    graph = onnx.load(str(made.path / manifest.files[0].path)).graph
    dequantised = {out for node in graph.node if node.op_type == "DequantizeLinear" for out in node.output}
    convs = {node.name for node in graph.node if node.op_type == "Conv" and node.input[1] in dequantised}
    assert convs == set(recipe.quantised)
    photo = np.asarray(Image.open(io.BytesIO(product_jpeg((800, 600)))).convert("RGB"))
    fp32 = OnnxSegmenter(U2NETP, device="cpu").segment(photo).alpha > 0.5
    int8 = OnnxSegmenter(made.path, device="cpu").segment(photo).alpha > 0.5
    assert (fp32 & int8).sum() / (fp32 | int8).sum() > 0.98
