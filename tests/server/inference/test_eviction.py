"""A model removed or reinstalled by another process (the CLI) leaves no session behind in a running process
(a worker's engines): two real processes, the store on disk between them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from paqshot_server.engines import Engines
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.inference import segmenters, sessions
from paqshot_server.inference.store import ModelStore
from paqshot_server.settings import Settings
from PIL import Image

CLI = Path(sys.executable).parent / "paqshot"


def _cli(home: Path, *args: str) -> None:
    env = {**os.environ, "PAQSHOT_HOME": str(home), "PAQSHOT_INSTALL_MODELS_DIR": ""}
    subprocess.run([CLI, "models", *args], env=env, check=True, capture_output=True, timeout=120)


def _cached(folder: Path) -> tuple[list[object], list[object]]:
    """This process's cached segmenters and sessions of the model in ``folder``."""
    segs = [s for key, s in segmenters._segmenters.items() if key[0] == str(folder)]
    graphs = [g for key, g in sessions._cache.items() if key[0].startswith(str(folder.resolve()) + os.sep)]
    return segs, graphs


def test_removal_and_reinstall_by_another_process_evict_this_process_sessions(
    tmp_path: Path, fixture_models: Path
) -> None:
    settings = Settings(home=tmp_path / "home", install_models_dir="")
    ModelStore(settings.models_dir, device="cpu").install(fixture_models / "tiny-seg")
    folder = settings.models_dir / "tiny-seg"
    engines = Engines(settings)  # what a worker holds for its whole life
    photo = Image.new("RGB", (96, 64), (200, 200, 200))
    photo.paste((180, 20, 20), (30, 16, 70, 50))
    options = RenderOptions(long_side=128)

    assert engines.render(photo, options).engine == "onnx:tiny-seg"
    segs, graphs = _cached(folder)
    assert len(segs) == 1 and len(graphs) == 1
    first_graph = graphs[0]

    _cli(settings.home, "remove", "tiny-seg")  # another process changes the store
    assert engines.render(photo, options).engine == "classical"
    assert _cached(folder) == ([], [])  # nothing of the removed model stays loaded here

    _cli(settings.home, "install", str(fixture_models / "tiny-seg"))
    assert engines.render(photo, options).engine == "onnx:tiny-seg"
    segs, graphs = _cached(folder)
    assert len(segs) == 1 and len(graphs) == 1 and graphs[0] is not first_graph  # a fresh session, one only

    _cli(settings.home, "install", str(fixture_models / "tiny-seg"))  # reinstalled over itself
    engines.render(photo, options)
    segs, reloaded = _cached(folder)
    assert len(segs) == 1 and len(reloaded) == 1 and reloaded[0] is not graphs[0]
