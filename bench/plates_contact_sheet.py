"""Contact sheet: 6 real product photos x 4 backdrop plates, rendered by the plate engine with the installed cut-out
model (u2netp after ``paqshot models setup``), to look at as a shopper would.

    .venv/bin/python bench/plates_contact_sheet.py --out /tmp/plates-sheet [--skimage-data DIR] [--side 1024]

Products: photos of ``../shared/cases/photos`` (measurement material, never committed). Plates: three the project
drew (``tests/fixtures/plates``) and, with ``--skimage-data`` (the ``skimage/data`` folder of a scikit-image
wheel from PyPI), one built here from public-domain photographs: scikit-image's ``brick.png`` (CC0Textures
Bricks25, CC0) as the wall and the wood table of ``coffee.png`` (Rachel Michetti, CC0) as the floor, laid in
perspective. Nothing fetched is written into the repository; the sources are printed and saved with the sheet.
Writes ``sheet.png`` (rows: products, columns: plates; each tile labelled), every render, and ``renders.json``
(engine, cut-out, placement, light, harmonize gains, notes per tile).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (ROOT.parent / "shared", Path("/work/shared")) if p.is_dir()), ROOT.parent / "shared")
PHOTOS = {
    "shoe": "cases/photos/non-uniform-backdrop-kept/shoe.jpg",
    "cake": "cases/photos/non-uniform-backdrop-kept/cake.jpg",
    "vase": "cases/photos/non-uniform-backdrop-kept/vase_tulips.jpg",
    "robot": "cases/photos/thin-parts-lost/comp_white_robot.jpg",
    "apples": "cases/photos/cast-shadow-kept-as-product/apples.jpg",
    "chair": "cases/photos/dark-on-dark-ghosted-high-confidence/comp_dark_chair.jpg",
}
PROJECT_PLATES = ("kitchen_marble", "cafe_table", "office_desk")
SOURCES = {
    "kitchen_marble": "drawn by the project (tests/fixtures/plates/make_plates.py)",
    "cafe_table": "drawn by the project (tests/fixtures/plates/make_plates.py)",
    "office_desk": "drawn by the project (tests/fixtures/plates/make_plates.py)",
    "brick_wood": "built here from scikit-image data (PyPI wheel): brick.png = CC0Textures 'Bricks25' (CC0); "
    "coffee.png = Rachel Michetti, courtesy of Pikolo Espresso Bar (CC0): its wood table, laid in perspective",
}


def brick_wood_plate(data: Path, size: tuple[int, int] = (1536, 1024)) -> Image.Image:
    """A wall of CC0 brick over a floor of CC0 wood (the coffee photo's table top), horizon at 62 %."""
    width, height = size
    horizon = round(0.62 * height)
    brick = Image.open(data / "brick.png").convert("L")
    tinted = Image.merge(
        "RGB", [brick.point(lambda v, k=k: min(255, int(v * k))) for k in (1.05, 0.92, 0.82)]
    )  # a warm, pale brick
    wall = tinted.resize((width, width), Image.Resampling.BICUBIC).crop((0, width - horizon, width, width))
    coffee = Image.open(data / "coffee.png").convert("RGB")
    wood = coffee.crop((430, 0, 600, 170)).rotate(90, expand=True)  # the bare table right of the saucer
    wood = wood.resize((1024, 1024), Image.Resampling.BICUBIC)
    floor_h = height - horizon
    # Perspective: the far edge (at the horizon) narrower than the near one, as a table top seen from above.
    quad = (300, 0, 0, 1024, 1024, 1024, 724, 0)  # source corners: top-left, bottom-left, bottom-right, top-right
    floor = wood.transform((width, floor_h), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC)
    plate = Image.new("RGB", size)
    plate.paste(wall, (0, 0))
    plate.paste(floor, (0, horizon))
    shade = np.linspace(1.0, 0.78, width, dtype=np.float32)[None, :, None]  # window light from the left
    return Image.fromarray(np.clip(np.asarray(plate, np.float32) * shade, 0, 255).astype(np.uint8))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--skimage-data", type=Path, default=None, help="skimage/data of a scikit-image wheel")
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--style", default="lifestyle")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests" / "server" / "plates"))
    from paqshot_server.branding import DEFAULT_BRAND
    from paqshot_server.engines import Engines
    from paqshot_server.imaging.options import RenderOptions
    from paqshot_server.imaging.plates.plate import LoadedPlate, PlateInfo
    from paqshot_server.imaging.plates.render import render_on_plate
    from paqshot_server.settings import load_settings
    from plate_support import plate_image

    engines = Engines(load_settings())
    segmenter = engines.segmenter()
    if segmenter is None:
        setup = f"{DEFAULT_BRAND.cli_name} models setup"
        print(f"no cut-out model installed: run `{setup}` first (the sheet is meant for u2netp)")
        return 2
    plates = {name: plate_image(name) for name in PROJECT_PLATES}
    if args.skimage_data is not None:
        plates["brick_wood"] = brick_wood_plate(args.skimage_data)
    else:
        plates["bathroom_shelf"] = plate_image("bathroom_shelf")
        SOURCES["bathroom_shelf"] = SOURCES["kitchen_marble"]
    args.out.mkdir(parents=True, exist_ok=True)
    for name, image in plates.items():
        image.save(args.out / f"plate_{name}.jpg", quality=90)
    tile = 320
    label_h = 34
    sheet = Image.new("RGB", (tile * len(plates), (tile + label_h) * len(PHOTOS)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    records = []
    for row, (product, rel) in enumerate(PHOTOS.items()):
        with Image.open(SHARED / rel) as opened:
            photo = opened.convert("RGB")
        for col, (plate_name, plate) in enumerate(plates.items()):
            options = RenderOptions(style=args.style, aspect_ratio="1:1", seed=11, long_side=args.side)
            start = time.perf_counter()
            result = render_on_plate(photo, options, [LoadedPlate(PlateInfo(None), plate)], segmenter=segmenter)
            ms = (time.perf_counter() - start) * 1000
            image = Image.open(io.BytesIO(result.images[0].data)).convert("RGB")
            image.save(args.out / f"{product}__{plate_name}.jpg", quality=92)
            x, y = col * tile, row * (tile + label_h)
            sheet.paste(image.resize((tile, tile), Image.Resampling.LANCZOS), (x, y))
            facts = result.meta["backdrop"]
            gains = facts["harmonize"]["gains"]  # type: ignore[index]
            light = facts["light"]  # type: ignore[index]
            draw.text((x + 4, y + tile + 2), f"{product} / {plate_name}", fill=(0, 0, 0))
            draw.text(
                (x + 4, y + tile + 16),
                f"light {light['from']} s{light['softness']:.2f}  gains {'/'.join(f'{g:.2f}' for g in gains)}",
                fill=(80, 80, 80),
            )
            records.append(
                {
                    "product": product,
                    "plate": plate_name,
                    "engine": result.engine,
                    "cutout": result.meta.get("cutout_source"),
                    "confidence": result.confidence,
                    "placement": result.meta["scene"]["placement"],  # type: ignore[index]
                    "backdrop": facts,
                    "notes": list(result.notes),
                    "ms": round(ms, 1),
                }
            )
            print(f"{product:7s} {plate_name:15s} {ms:7.0f} ms  conf {result.confidence:.2f}  gains {gains}")
    sheet.save(args.out / "sheet.png")
    (args.out / "renders.json").write_text(json.dumps({"sources": SOURCES, "renders": records}, indent=1))
    print("plate sources:")
    for name in plates:
        print(f"  {name}: {SOURCES[name]}")
    print(f"sheet: {args.out / 'sheet.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
