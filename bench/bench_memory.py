"""Peak memory of a worker rendering one studio packshot from a photo at the 40 MP input limit, with the working
resolution (``imaging/working.py``) and, as the baseline in the same run, from the whole photo.

    .venv/bin/python bench/bench_memory.py [--size 7744x5164] [--model] [--photos N] [--before OLD/server/src]

Each measurement is a fresh process: a worker context, its start-up warm-up, then the job's render (decode →
cut-out → compose → encode) and finishing (labels, Content Credentials) as the worker runs them; the figure is
the process's peak resident set (VmHWM) and that over the input's pixels (goal: <= 12 bytes per pixel).
The worker's allocator settings (``jobs.allocator``) are applied as ``run_worker`` applies them.
Photos: a synthetic product filling the middle half of the frame, the same with a small product (a tenth of the
frame's width: enlarged from the working image, so rendered again at full resolution from around the product), and
the first ``--photos`` real photos of ../shared/cases/photos, resized. The matte of each working-resolution job is
compared with the whole photo's (IoU of alpha > 127, and the mean absolute difference in 1/255 over the union's
bounding box). ``--model`` uses the installation's default cut-out model (else the classical cut-out). Numbers only.
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

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, tempfile, time
from pathlib import Path
from paqshot_server.settings import Settings
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs import runner
from paqshot_server.jobs.worker import warm
from paqshot_server.jobs.allocator import keep_freed_memory
from paqshot_server.errors import UnsupportedImage
keep_freed_memory()
raw = Path(sys.argv[1]).read_bytes()
if sys.argv[2] == "whole":
    runner.working_size = lambda photo, long_side: None
settings = Settings(home=Path(tempfile.mkdtemp()), install_models_dir=sys.argv[3])
ctx = WorkerContext(settings)
warm(ctx)
renders = []  # the size of each image the engines render: the working image, then a crop or the whole photo
engine_render = ctx.engines.render
def render(image, *args, **kwargs):
    renders.append("x".join(map(str, image.size)))
    return engine_render(image, *args, **kwargs)
ctx.engines.render = render
class Lease:
    def report(self, fraction): pass
started = time.perf_counter()
options = runner.options_for_engine({}, "studio_packshot", "1:1", None, settings, presets=ctx.presets)
try:
    result = runner._render(ctx, raw, options, Lease(), None)
except UnsupportedImage as refused:  # by design (a frame-filling product): reported as refused
    print(json.dumps({"refused": str(refused)}))
    raise SystemExit(0)
ctx.finisher.finish(result, product_photo=raw, title="bench", checks=[], find_product=None)
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across the exec (vfork, posix_spawn), so a
# probe could never report less than this script's own peak (the photos it resized); VmHWM is this image's own.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
result.meta["matte"].save(sys.argv[4])
print(json.dumps({"peak_mb": peak, "seconds": seconds, "engine": result.engine, "renders": renders}))
"""


def synthetic(size: tuple[int, int], fraction: float) -> bytes:
    w, h = size
    img = Image.new("RGB", size, (236, 236, 236))
    dx, dy = int(w * fraction / 2), int(h * fraction / 2)
    img.paste((150, 60, 40), (w // 2 - dx, h // 2 - dy, w // 2 + dx, h // 2 + dy))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def real(size: tuple[int, int], count: int) -> list[tuple[str, bytes]]:
    folder = next(
        (p for p in (ROOT.parent / "shared" / "cases" / "photos", Path("/work/shared/cases/photos")) if p.is_dir()),
        None,
    )
    if folder is None:
        return []
    found = []
    for path in sorted(folder.rglob("*.jpg"))[:count]:
        out = io.BytesIO()
        Image.open(path).convert("RGB").resize(size, Image.Resampling.LANCZOS).save(out, "JPEG", quality=92)
        found.append((path.stem, out.getvalue()))
    return found


def measure(photo: bytes, mode: str, models: str, code: str | None = None) -> dict:
    """The probe's figures, with ``"matte"``: its matte as a uint8 array on the photo's grid. ``code``: a source
    folder to import the server from instead of this checkout's (``--before``)."""
    env = None if code is None else {**os.environ, "PYTHONPATH": code}
    with tempfile.TemporaryDirectory() as folder:
        path, matte = Path(folder) / "photo.jpg", Path(folder) / "matte.png"
        path.write_bytes(photo)
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(path), mode, models, str(matte)],
            capture_output=True,
            text=True,
            env=env,
        )
        if out.returncode:
            raise SystemExit(f"the probe failed ({mode}):\n{out.stderr}")
        figures = dict(json.loads(out.stdout.strip().splitlines()[-1]))
        if "refused" in figures:
            return figures
        with Image.open(matte) as stored:
            figures["matte"] = np.asarray(stored)
    return figures


def agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """IoU of alpha > 127 between two mattes, and their mean absolute difference (1/255) over the bounding box of
    where either is not 0."""
    fa, fb = a > 127, b > 127
    union = int((fa | fb).sum())
    iou = int((fa & fb).sum()) / union if union else 1.0
    rows = np.flatnonzero(((a > 0) | (b > 0)).any(axis=1))
    cols = np.flatnonzero(((a > 0) | (b > 0)).any(axis=0))
    if rows.size == 0:
        return iou, 0.0
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return iou, float(np.abs(a[box].astype(np.int16) - b[box]).mean())


def compare(cases: list[tuple[str, bytes]], before: str, models: str, pixels: int) -> None:
    """``--before``: each photo's working path with the code in ``before``, then with this checkout."""
    print(f"before: {before}; after: this checkout")
    print("photo                  before: peak MB  B/px   after: peak MB  B/px   mattes: IoU  MAE  pixels differing")
    for name, photo in cases:
        b, a = measure(photo, "working", models, before), measure(photo, "working", models)
        if "refused" in b or "refused" in a:
            print(f"{name[:22]:22s} refused: before {'refused' in b}, after {'refused' in a}")
            continue
        iou, mae = agreement(b["matte"], a["matte"])
        differing = int((b["matte"] != a["matte"]).sum())
        print(
            f"{name[:22]:22s} {b['peak_mb']:15.0f} {b['peak_mb'] * 2**20 / pixels:5.1f}"
            f" {a['peak_mb']:15.0f} {a['peak_mb'] * 2**20 / pixels:5.1f} {iou:13.4f} {mae:4.2f} {differing:8d}"
        )
    print(f"goal: <= 12 bytes per input pixel; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="7744x5164")
    parser.add_argument("--model", action="store_true")
    parser.add_argument("--models", default="auto", help="with --model: the install-level model folder to use")
    parser.add_argument("--photos", type=int, default=3, help="how many of the real photos (sorted by path)")
    parser.add_argument(
        "--before",
        metavar="SRC",
        help="instead of the whole-photo baseline: the working path with the server imported from SRC (e.g. a "
        "detached worktree's server/src), then with this checkout, per photo; peaks and the mattes compared",
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    size = (width, height)
    pixels = size[0] * size[1]
    cases = [
        ("half the frame", synthetic(size, 0.5)),
        ("a tenth of the frame", synthetic(size, 0.1)),
        *real(size, args.photos),
    ]
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"one packshot from a {size[0]}x{size[1]} JPEG ({pixels / 1e6:.0f} MP), load average {load}")
    if args.before:
        compare(cases, args.before, args.models if args.model else "", pixels)
        return
    print(
        "photo                  working: peak MB  B/px   s   whole photo: peak MB  B/px   s"
        "   matte vs whole: IoU  MAE   renders (working)"
    )
    for name, photo in cases:
        models = args.models if args.model else ""
        w, b = measure(photo, "working", models), measure(photo, "whole", models)
        if "refused" in w or "refused" in b:
            print(f"{name[:22]:22s} refused: working {'refused' in w}, whole photo {'refused' in b}")
            continue
        iou, mae = agreement(w["matte"], b["matte"])
        print(
            f"{name[:22]:22s} {w['peak_mb']:16.0f} {w['peak_mb'] * 2**20 / pixels:5.1f} {w['seconds']:4.1f}"
            f" {b['peak_mb']:20.0f} {b['peak_mb'] * 2**20 / pixels:5.1f} {b['seconds']:4.1f}"
            f" {iou:20.4f} {mae:5.2f}   {' then '.join(w['renders'])} ({w['engine']})"
        )
    print(f"goal: <= 12 bytes per input pixel; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
