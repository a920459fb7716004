"""Evaluate the cut-out on the synthetic set (exact ground truth) and on real photos; write a contact sheet.

    .venv/bin/python bench/eval_cutout.py [--size 800] [--out out/eval]

Prints alpha IoU (alpha > 0.5), mean absolute alpha error (whole image) and edge MAE (within 6 px of the
true edge) per background family, and writes ``contact_sheet.png`` (input | matte | packshot for every
synthetic sample and for scikit-image's bundled photos).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evalset
from paqshot_server.errors import UnsupportedImage
from paqshot_server.imaging.classical import ClassicalSegmenter
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import render_packshot

CELL = 200
GOALS = {"white": 0.97, "grey": 0.97, "gradient": 0.97, "textured": 0.90, "noisy": 0.90}


def real_photos() -> list[tuple[str, Image.Image]]:
    """Photos bundled with scikit-image (no download)."""
    from skimage import data

    photos = []
    for name in ("coffee", "chelsea", "rocket", "astronaut", "horse", "logo"):
        try:
            arr = getattr(data, name)()
        except Exception as exc:  # a missing optional image must not stop the evaluation
            print(f"skipping skimage.data.{name}: {exc}")
            continue
        if arr.dtype == bool:
            arr = np.where(arr, 255, 30).astype(np.uint8)  # horse: silhouette on white
        if arr.ndim == 2:
            arr = np.dstack([arr] * 3)
        photos.append((name, Image.fromarray(arr.astype(np.uint8))))
    return photos


def _tile(img: Image.Image) -> Image.Image:
    tile = Image.new("RGB", (CELL, CELL), (128, 128, 128))
    if img.mode == "RGBA":  # show transparency over a checkerboard
        board = Image.new("RGB", img.size, (200, 200, 200))
        img = Image.alpha_composite(board.convert("RGBA"), img).convert("RGB")
    img = img.convert("RGB")
    img.thumbnail((CELL, CELL))
    tile.paste(img, ((CELL - img.width) // 2, (CELL - img.height) // 2))
    return tile


def _row(label: str, photo: Image.Image, matte: Image.Image | None, packshot: Image.Image | None) -> Image.Image:
    row = Image.new("RGB", (3 * CELL, CELL + 16), (20, 20, 20))
    row.paste(_tile(photo), (0, 16))
    if matte is not None:
        row.paste(_tile(matte), (CELL, 16))
    if packshot is not None:
        row.paste(_tile(packshot), (2 * CELL, 16))
    ImageDraw.Draw(row).text((4, 2), label, fill=(255, 255, 255))
    return row


def _render(photo: Image.Image, background: str = "light_gray") -> tuple[Image.Image | None, Image.Image | None, str]:
    try:
        result = render_packshot(photo, RenderOptions(background=background, long_side=512))
    except UnsupportedImage as exc:
        return None, None, f"422: {exc.message}"
    matte = result.meta["matte"]
    assert isinstance(matte, Image.Image)
    packshot = Image.open(io.BytesIO(result.images[0].data))
    return matte, packshot, f"conf {result.confidence:.2f}"


def sheet(rows: list[Image.Image], columns: int = 3) -> Image.Image:
    w, h = rows[0].size
    n = len(rows)
    out = Image.new("RGB", (columns * w + (columns - 1) * 6, ((n + columns - 1) // columns) * (h + 6)), (0, 0, 0))
    for i, row in enumerate(rows):
        out.paste(row, ((i % columns) * (w + 6), (i // columns) * (h + 6)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=800, help="side of the synthetic images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/eval"))
    parser.add_argument("--no-real", action="store_true", help="skip scikit-image's photos")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    seg = ClassicalSegmenter()
    per_family: dict[str, list[tuple[float, float, float]]] = {f: [] for f in evalset.FAMILIES}
    rows: list[Image.Image] = []
    times: list[float] = []
    print(f"{'sample':24s} {'IoU':>6s} {'MAE':>7s} {'edgeMAE':>8s} {'conf':>5s}")
    for sample in evalset.samples(args.size, args.seed):
        rgb = np.asarray(sample.image)
        t0 = time.perf_counter()
        try:
            matte = seg.segment(rgb)
            alpha, conf = matte.alpha, matte.confidence
        except UnsupportedImage:
            alpha, conf = np.zeros_like(sample.alpha), 0.0
        times.append(time.perf_counter() - t0)
        scores = (
            evalset.iou(alpha, sample.alpha),
            evalset.mae(alpha, sample.alpha),
            evalset.edge_mae(alpha, sample.alpha),
        )
        per_family[sample.family].append(scores)
        print(f"{sample.name:24s} {scores[0]:6.3f} {scores[1]:7.4f} {scores[2]:8.4f} {conf:5.2f}")
        m, p, text = _render(sample.image)
        rows.append(_row(f"{sample.name}  IoU {scores[0]:.3f}  {text}", sample.image, m, p))

    print("\nper background family (mean over objects):")
    print(f"{'family':10s} {'IoU':>6s} {'min IoU':>8s} {'MAE':>7s} {'edgeMAE':>8s} {'goal':>5s}")
    ok = True
    for family, scores in per_family.items():
        ious = [s[0] for s in scores]
        mean_iou = statistics.fmean(ious)
        goal = GOALS[family]
        ok &= mean_iou >= goal
        print(
            f"{family:10s} {mean_iou:6.3f} {min(ious):8.3f} {statistics.fmean(s[1] for s in scores):7.4f} "
            f"{statistics.fmean(s[2] for s in scores):8.4f} {goal:5.2f}{'' if mean_iou >= goal else '  MISSED'}"
        )
    print(f"segmentation time per {args.size}x{args.size} image: median {statistics.median(times) * 1000:.0f} ms")

    if not args.no_real:
        for name, photo in real_photos():
            m, p, text = _render(photo)
            rows.append(_row(f"skimage {name}  {text}", photo, m, p))
            print(f"real photo {name:10s} {text}")
    path = args.out / "contact_sheet.png"
    sheet(rows).save(path)
    print(f"contact sheet: {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
