"""The runtime never imports torch (or the other export-time libraries): checked in a clean interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
import numpy as np
from PIL import Image
from paqshot_server.inference.store import ModelStore
from paqshot_server.inference.diffusion import load_inpaint_pipeline
from paqshot_server.inference.segmenters import load_default_segmenter

fixtures = Path(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    store = ModelStore(Path(tmp))
    for name in ("tiny-sdxl-inpaint", "tiny-seg"):
        store.install(fixtures / name)
    pipe = load_inpaint_pipeline(Path(tmp))
    img = Image.new("RGB", (80, 60), (200, 190, 180))
    mask = Image.new("L", (80, 60), 255)
    steps = []
    out = pipe.inpaint(img, mask, "a table", "blurry", steps=3, guidance=4.0, seed=1, progress=steps.append)
    matte = load_default_segmenter(Path(tmp)).segment(np.asarray(out))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in
               {"torch", "diffusers", "transformers", "optimum", "litestar", "huey", "sqlite_utils"})
print(json.dumps({"size": list(out.size), "steps": len(steps), "alpha": list(matte.alpha.shape), "heavy": heavy}))
"""


def test_full_diffusion_job_imports_no_torch() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(FIXTURES)], capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["size"] == [80, 60] and result["steps"] == 3 and result["alpha"] == [60, 80]
    assert result["heavy"] == [], f"the runtime imported {result['heavy']}"
