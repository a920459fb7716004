"""Contact sheets of the scene styles: every style × scene_type × 3 locations for three test products.

    .venv/bin/python bench/gallery.py [--out out/gallery] [--tile 224] [--generative]

Writes ``scenes-procedural.png`` (all products) and one sheet per product, and with ``--generative`` a
sheet rendered through the tiny random-weight inpainting fixture (noise by design: it shows the machinery,
the masking and the product re-composite, not image quality). Prints per-render timings.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paqshot_server.imaging.options import SCENE_TYPES, RenderOptions
from paqshot_server.imaging.scenes import render_scene
from scene_products import PRODUCTS

STYLES = ("lifestyle", "editorial", "mockup")
LOCATIONS = ("cafe", "office", "nature")
MORE_LOCATIONS = ("studio", "urban", "outdoor")
ROOT = Path(__file__).resolve().parents[1]
LABEL_H = 16


def tile(
    options: RenderOptions, product: Image.Image, size: int, inpainter: object | None = None
) -> tuple[Image.Image, float]:
    start = time.perf_counter()
    result = render_scene(product, options, inpainter=inpainter)  # type: ignore[arg-type]
    ms = (time.perf_counter() - start) * 1000
    img = Image.open(io.BytesIO(result.images[0].data)).convert("RGB")
    img.thumbnail((size, size))
    return img, ms


def sheet(rows: list[tuple[str, list[tuple[str, Image.Image]]]], size: int) -> Image.Image:
    cols = max(len(r[1]) for r in rows)
    label_w = 190
    out = Image.new("RGB", (label_w + cols * (size + 4), len(rows) * (size + LABEL_H + 4)), (32, 32, 34))
    d = ImageDraw.Draw(out)
    for r, (name, tiles) in enumerate(rows):
        y = r * (size + LABEL_H + 4)
        d.text((6, y + size // 2), name, fill=(235, 235, 235))
        for c, (caption, img) in enumerate(tiles):
            x = label_w + c * (size + 4)
            out.paste(img, (x + (size - img.width) // 2, y + (size - img.height) // 2))
            d.text((x + 2, y + size + 2), caption, fill=(200, 200, 200))
    return out


def _shrink(img: Image.Image, size: int) -> Image.Image:
    out = img.copy()
    out.thumbnail((size, size))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "gallery")
    parser.add_argument("--tile", type=int, default=224)
    parser.add_argument("--generative", action="store_true", help="also render through the tiny SD inpaint fixture")
    parser.add_argument("--products", default=",".join(PRODUCTS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    products = {name: PRODUCTS[name]() for name in args.products.split(",")}  # RGB on plain backgrounds
    times: list[float] = []
    combined: dict[str, list[tuple[str, Image.Image]]] = {}
    for pname, product in products.items():
        rows = []
        for style in STYLES:
            for scene_type in SCENE_TYPES:
                tiles = []
                for i, location in enumerate(LOCATIONS):
                    people = "with_people" if i == 1 else "none"
                    opts = RenderOptions(style=style, scene_type=scene_type, location=location, people=people, seed=11)
                    img, ms = tile(opts, product, args.tile)
                    times.append(ms)
                    tiles.append((f"{location}{' +people' if i == 1 else ''}", img))
                rows.append((f"{pname}\n{style}\n{scene_type}", tiles))
                combined.setdefault(f"{style}\n{scene_type}", []).extend(
                    (f"{pname[:3]} {caption.split()[0]}", img) for caption, img in tiles
                )
        sheet(rows, args.tile).save(args.out / f"scenes-{pname}.png")
        print(f"{pname}: {len(rows) * len(LOCATIONS)} renders", flush=True)
    # One sheet with the remaining locations, aspect ratios and the free-text / background / prompt fields.
    extra = []
    bottle = next(iter(products.values()))
    cases = [
        ("studio", RenderOptions(style="lifestyle", location="studio", seed=5)),
        ("urban", RenderOptions(style="lifestyle", location="urban", seed=5)),
        ("outdoor", RenderOptions(style="lifestyle", location="outdoor", seed=5)),
        ("16:9 editorial", RenderOptions(style="editorial", location="urban", aspect_ratio="16:9", seed=5)),
        ("9:16 mockup", RenderOptions(style="mockup", location="studio", aspect_ratio="9:16", seed=5)),
        ("beach (text)", RenderOptions(style="lifestyle", location="a beach in Portugal", seed=5)),
        ("bathroom (text)", RenderOptions(style="mockup", location="marble bathroom", seed=5)),
        ("bg #c4a1d9", RenderOptions(style="mockup", location="studio", background="#c4a1d9", seed=5)),
        ("bg black", RenderOptions(style="editorial", location="studio", background="black", seed=5)),
        (
            "prompt: pink marble",
            RenderOptions(style="lifestyle", location="cafe", prompt="pink marble, bright", seed=5),
        ),
        (
            "reflection",
            RenderOptions(style="mockup", scene_type="product_packshot", location="urban", reflection=True, seed=5),
        ),
        (
            "4:3 action +people",
            RenderOptions(
                style="lifestyle",
                scene_type="action",
                location="outdoor",
                aspect_ratio="4:3",
                people="with_people",
                seed=5,
            ),
        ),
    ]
    for caption, opts in cases:
        img, ms = tile(opts, bottle, args.tile)
        times.append(ms)
        extra.append((caption, img))
    rows_extra = [("more fields", extra[i : i + 6]) for i in range(0, len(extra), 6)]
    sheet(rows_extra, args.tile).save(args.out / "scenes-fields.png")
    small = [(name, [(c, _shrink(img, args.tile // 2)) for c, img in tiles]) for name, tiles in combined.items()]
    sheet(small, args.tile // 2).save(args.out / "scenes-procedural.png")
    print(f"procedural: {len(times)} renders, median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
    if args.generative:
        from paqshot_server.inference.diffusion import DiffusionPipeline

        fixture = ROOT / "tests" / "fixtures" / "models" / "tiny-sd-inpaint"
        pipe = DiffusionPipeline(fixture, device="cpu")
        rows = []
        gtimes = []
        for style in STYLES:
            tiles = []
            for location in LOCATIONS:
                opts = RenderOptions(style=style, location=location, seed=11, long_side=512)
                img, ms = tile(opts, bottle, args.tile, pipe)
                gtimes.append(ms)
                tiles.append((location, img))
            rows.append((f"tiny-sd-inpaint\n{style}", tiles))
        sheet(rows, args.tile).save(args.out / "scenes-generative-tiny.png")
        print(f"generative (tiny fixture, 512 px): median {statistics.median(gtimes):.0f} ms")
    print(f"sheets in {args.out}")


if __name__ == "__main__":
    main()
