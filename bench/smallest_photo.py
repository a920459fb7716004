"""The smallest product photo the cut-out still works on (the source of ``imaging.smallest.MIN_SIDE``).

    .venv/bin/python bench/smallest_photo.py 16,24,32,48,64,96,128,192 /work/team/realeval/photos/*.jpg

Each photo is scaled down (Lanczos) to each short side given, cut out by the default model (``auto``), and its matte
brought back to full size (bilinear) and compared with the full-size photo's own matte (IoU at alpha 128) and, for a
composite with an ``.alpha_gt.png`` beside it, with that. Prints one JSON line per photo (``refused`` where the
cut-out found no product) and, at the end, the median IoU and median confidence per short side.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from paqshot_server.engines import Engines
from paqshot_server.errors import AppError
from paqshot_server.imaging.cutout import cutout
from paqshot_server.inference import store
from paqshot_server.settings import Settings
from PIL import Image


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a >= 128, b >= 128
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def main() -> None:
    sides = [int(v) for v in sys.argv[1].split(",")]
    settings = Settings(home=Path(tempfile.mkdtemp()), install_models_dir=str(store.install_level_dir()))
    segmenter = Engines(settings).segmenter("auto")
    per_side: dict[int, list[tuple[float, float]]] = {side: [] for side in sides}
    for path in map(Path, sys.argv[2:]):
        img = Image.open(path).convert("RGB")
        width, height = img.size
        full = cutout(img, segmenter)
        row: dict[str, object] = {"photo": path.name, "size": [width, height], "full_conf": round(full.confidence, 3)}
        truth = path.with_name(path.name.replace(".jpg", ".alpha_gt.png"))
        gt = np.asarray(Image.open(truth).convert("L").resize(img.size)) if truth.exists() else None
        for side in sides:
            scale = side / min(width, height)
            small = img.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.LANCZOS)
            try:
                cut = cutout(small, segmenter)
            except AppError as exc:
                row[str(side)] = {"refused": exc.message[:60]}
                per_side[side].append((0.0, 0.0))
                continue
            back = np.asarray(Image.fromarray(cut.alpha8).resize(img.size, Image.BILINEAR))
            got = {
                "wh": list(small.size),
                "iou_full": round(iou(back, full.alpha8), 3),
                "conf": round(cut.confidence, 3),
            }
            if gt is not None:
                got["iou_gt"] = round(iou(back, gt), 3)
            row[str(side)] = got
            per_side[side].append((got["iou_full"], got["conf"]))
        print(json.dumps(row), flush=True)
    for side, found in per_side.items():
        ious, confs = [f[0] for f in found], [f[1] for f in found]
        print(
            f"short side {side:4d} px: IoU median {statistics.median(ious):.3f}, confidence median "
            f"{statistics.median(confs):.2f} ({len(found)} photos; a refusal counts 0)"
        )


if __name__ == "__main__":
    main()
