"""The scene styles through the engine registry: procedural with no model, generative with one installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from paqshot_server.engines import Engines
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.settings import Settings
from PIL import Image

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny-sd-inpaint"


def product() -> Image.Image:
    img = Image.new("RGBA", (60, 100), (0, 0, 0, 0))
    img.paste((200, 60, 40, 255), (10, 10, 50, 95))
    return img


@pytest.mark.parametrize("style", ["lifestyle", "editorial", "mockup"])
def test_scene_styles_run_procedurally_without_models(tmp_path: Path, style: str) -> None:
    engines = Engines(Settings(home=tmp_path / "home"))
    status = engines.status(style)
    assert status.engine == "procedural"
    result = engines.render(product(), RenderOptions(style=style, long_side=128, seed=2, num_variants=2))
    assert result.engine == "procedural" and len(result.images) == 2
    assert result.meta["seed"] == 2 and result.meta["prompt"]


@pytest.mark.skipif(not (FIXTURE / "manifest.toml").is_file(), reason="tiny SD inpaint fixture absent")
def test_an_installed_inpainting_model_makes_scenes_generative(tmp_path: Path) -> None:
    store_mod = pytest.importorskip("paqshot_server.inference.store")
    settings = Settings(home=tmp_path / "home")
    src = tmp_path / "src" / FIXTURE.name
    shutil.copytree(FIXTURE, src)
    store = store_mod.ModelStore(settings.models_dir, device="cpu")
    if not hasattr(store, "install"):
        pytest.skip("model store has no install()")
    store.install(src)
    engines = Engines(settings)
    status = engines.status("lifestyle")
    assert status.engine == "diffusion:tiny-sd-inpaint"
    result = engines.render(product(), RenderOptions(style="lifestyle", long_side=128, seed=3))
    assert result.engine == "diffusion:tiny-sd-inpaint"
