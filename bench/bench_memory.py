"""Peak memory of a worker rendering one studio packshot from a photo at the 40 MP input limit, with the working
resolution (``imaging/working.py``) and, as the baseline in the same run, from the whole photo.

    .venv/bin/python bench/bench_memory.py [--size 7744x5164] [--model]

Each measurement is a fresh process: a worker context, its start-up warm-up, then the job's render (decode →
cut-out → compose → encode) and finishing (labels, Content Credentials) as the worker runs them; the figure is
the process's peak resident set (ru_maxrss) and that over the input's pixels (goal: <= 12 bytes per pixel).
Photos: a synthetic product filling the middle half of the frame, the same with a small product (a tenth of the
frame: the whole photo is used, by design), and the first three real photos of ../shared/cases/photos, resized.
``--model`` uses the installation's default cut-out model (else the classical cut-out). Numbers only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, resource, sys, tempfile, time
from pathlib import Path
from paqshot_server.settings import Settings
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs import runner
from paqshot_server.jobs.worker import warm
raw = Path(sys.argv[1]).read_bytes()
if sys.argv[2] == "whole":
    runner.working_size = lambda photo, long_side: None
settings = Settings(home=Path(tempfile.mkdtemp()), install_models_dir="auto" if sys.argv[3] == "model" else "")
ctx = WorkerContext(settings)
warm(ctx)
class Lease:
    def report(self, fraction): pass
started = time.perf_counter()
options = runner.options_for_engine({}, "studio_packshot", "1:1", None, settings)
result = runner._render(ctx, raw, options, Lease(), None)
ctx.finisher.finish(result, product_photo=raw, title="bench", checks=[], find_product=None)
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - started, "engine": result.engine}))
"""


def synthetic(size: tuple[int, int], fraction: float) -> bytes:
    w, h = size
    img = Image.new("RGB", size, (236, 236, 236))
    dx, dy = int(w * fraction / 2), int(h * fraction / 2)
    img.paste((150, 60, 40), (w // 2 - dx, h // 2 - dy, w // 2 + dx, h // 2 + dy))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def real(size: tuple[int, int]) -> list[tuple[str, bytes]]:
    folder = next(
        (p for p in (ROOT.parent / "shared" / "cases" / "photos", Path("/work/shared/cases/photos")) if p.is_dir()),
        None,
    )
    if folder is None:
        return []
    found = []
    for path in sorted(folder.rglob("*.jpg"))[:3]:
        out = io.BytesIO()
        Image.open(path).convert("RGB").resize(size, Image.Resampling.LANCZOS).save(out, "JPEG", quality=92)
        found.append((path.stem, out.getvalue()))
    return found


def measure(photo: bytes, mode: str, model: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(photo)
        file.flush()
        out = subprocess.run(
            [sys.executable, "-c", PROBE, file.name, mode, "model" if model else "classical"],
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="7744x5164")
    parser.add_argument("--model", action="store_true")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    pixels = size[0] * size[1]
    cases = [("half the frame", synthetic(size, 0.5)), ("a tenth of the frame", synthetic(size, 0.1)), *real(size)]
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"one packshot from a {size[0]}x{size[1]} JPEG ({pixels / 1e6:.0f} MP), load average {load}")
    print("photo                  working: peak MB  B/px   s    whole photo: peak MB  B/px   s")
    for name, photo in cases:
        w, b = measure(photo, "working", args.model), measure(photo, "whole", args.model)
        print(
            f"{name[:22]:22s} {w['peak_mb']:16.0f} {w['peak_mb'] * 2**20 / pixels:5.1f} {w['seconds']:4.1f}"
            f" {b['peak_mb']:20.0f} {b['peak_mb'] * 2**20 / pixels:5.1f} {b['seconds']:4.1f}   ({w['engine']})"
        )
    print("goal: <= 12 bytes per input pixel")


if __name__ == "__main__":
    main()
