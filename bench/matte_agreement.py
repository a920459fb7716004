"""How far a code change moves our mattes, on photos with or without a reference matte.

    .venv/bin/python bench/matte_agreement.py save --extra DIR [--extra DIR ...] --out A [--config key=value,...]
    PYTHONPATH=OTHER_TREE/server/src .venv/bin/python bench/matte_agreement.py save --extra DIR ... --out B
    .venv/bin/python bench/matte_agreement.py compare A B

``save`` runs our studio packshot (``eval_real.run_packshot``: the installed preferred cut-out model, all
refinement, the review) on every photo of the folders (``realset``; no handed cases) and writes each matte as
``A/<stem>.png`` with ``A/runs.json``: per photo its size, confidence, needs_review and reasons, the packshot's
wall time and the model-input preprocess's (``OnnxSegmenter.preprocess``, median of ``--repeat``), and, where the
photo has a reference matte, IoU, alpha MAE (1/255) and boundary F (``matte_metrics``). Run it once per variant
(``PYTHONPATH`` puts the other tree's package first).

``compare`` prints, per photo, the second run's matte against the first's (IoU, MAE, largest difference, the share
of pixels that changed side of 0.5), both runs' reference scores where there is a reference, and the preprocess
times side by side (the ratio of medians: both runs should be made back to back on a quiet machine; the times
are for reading, never a test). Numbers only; the large photos of ``realeval_build.py`` (``OUT/large``) are the
ones where the model-input resize does more than on the <= 1,100 px composites.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_real
import matte_metrics as mm
import realset
from paqshot_server.settings import load_settings


def save(extras: list[Path], out: Path, repeat: int, config: str = "") -> None:
    import paqshot_server

    seg = eval_real.load_segmenter(load_settings().models_dir, config, None)
    out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict] = {"_code": {"package": str(Path(paqshot_server.__file__).parent)}}
    print(f"package {runs['_code']['package']}; load average {os.getloadavg()}")
    for p in realset.load(None, extras):
        image = p.image()
        rgb = np.asarray(image)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            seg.preprocess(rgb)
            times.append((time.perf_counter() - t0) * 1000)
        res = eval_real.run_packshot(image, seg)
        row = {"size": list(image.size), "preprocess_ms": statistics.median(times), "ms": res["ms"]}
        if "refused" in res:
            row["refused"] = res["refused"]
        else:
            Image.fromarray(np.round(res["alpha"] * 255).astype(np.uint8)).save(out / f"{p.path.stem}.png")
            row |= {k: res[k] for k in ("confidence", "needs_review", "reasons")}
            ref = p.reference()
            if ref is not None:
                row["scores"] = eval_real.scores(res["alpha"], ref)
        runs[p.name] = row
        print(f"{p.name:44s} {row['size']} preprocess {row['preprocess_ms']:.1f} ms, packshot {row['ms']:.0f} ms")
    (out / "runs.json").write_text(json.dumps(runs, indent=1, default=float), encoding="utf-8")


def _matte(folder: Path, name: str) -> np.ndarray | None:
    path = folder / f"{Path(name).stem}.png"
    return np.asarray(Image.open(path), np.float32) / 255.0 if path.is_file() else None


def compare(first: Path, second: Path) -> None:
    a_runs = json.loads((first / "runs.json").read_text(encoding="utf-8"))
    b_runs = json.loads((second / "runs.json").read_text(encoding="utf-8"))
    print(f"A = {a_runs.pop('_code')['package']}\nB = {b_runs.pop('_code')['package']}")
    print(f"{'photo':44s} {'size':>11s}  IoU(B,A)  MAE   max|d| flip%  prep A/B ms  review A/B", end="")
    print("  ref IoU A/B  ref BF A/B")
    ious, prep_a, prep_b = [], [], []
    for name, a in a_runs.items():
        b = b_runs.get(name)
        if b is None:
            continue
        ma, mb = _matte(first, name), _matte(second, name)
        size = "x".join(map(str, a["size"]))
        prep_a.append(a["preprocess_ms"])
        prep_b.append(b["preprocess_ms"])
        prep = f"{a['preprocess_ms']:5.1f}/{b['preprocess_ms']:5.1f}"
        if ma is None or mb is None:
            print(f"{name:44s} {size:>11s}  refused: {a.get('refused')} / {b.get('refused')}  {prep}")
            continue
        iou = mm.iou(mb, ma)
        ious.append(iou)
        flip = float(np.mean((ma > 0.5) != (mb > 0.5))) * 100
        line = (
            f"{name:44s} {size:>11s}  {iou:8.5f} {mm.mae255(mb, ma):5.2f} {np.abs(ma - mb).max() * 255:6.0f} "
            f"{flip:5.3f}  {prep}  {a['needs_review']!s:>5s}/{b['needs_review']!s:5s}"
        )
        if "scores" in a and "scores" in b:
            sa, sb = a["scores"], b["scores"]
            line += f"  {sa['iou']:.4f}/{sb['iou']:.4f}  {sa['bf']:.4f}/{sb['bf']:.4f}"
        print(line)
    if ious:
        print(
            f"{len(ious)} photos: IoU(B,A) mean {statistics.fmean(ious):.5f}, min {min(ious):.5f}; "
            f"{sum(i == 1.0 for i in ious)} identical masks; preprocess median A {statistics.median(prep_a):.1f} ms, "
            f"B {statistics.median(prep_b):.1f} ms (B/A {statistics.median(prep_b) / statistics.median(prep_a):.2f})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save", help="our mattes and times with the code on the path")
    s.add_argument("--extra", type=Path, action="append", required=True, help="photo folder (realset layout)")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--repeat", type=int, default=5, help="preprocess calls timed per photo (median)")
    s.add_argument("--config", default="", help="RefineConfig overrides, key=value,... (as eval_real.py's)")
    c = sub.add_parser("compare", help="the second run's mattes against the first's")
    c.add_argument("first", type=Path)
    c.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    if args.command == "save":
        save(args.extra, args.out, args.repeat, args.config)
    else:
        compare(args.first, args.second)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
