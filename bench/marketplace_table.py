"""Preset x rule pass rates over real photos after processing (the closing-note table of issue 13).

    .venv/bin/python bench/marketplace_table.py [--photos ../shared/cases/photos] [--out /tmp/mkt] [--long-side N]

Every JPEG under ``--photos`` (folders of the cases; ground-truth mattes skipped) is rendered once per preset
with the preset's values (studio packshot, the installed cut-out: u2netp where ``paqshot models`` has it), then
labelled and checked exactly as the worker does. Prints a markdown table (preset x rule: passed/total) and the
overall pass rate per preset; writes the outputs and a contact sheet of the amazon_main results (PASS/FAIL
written under each) to ``--out``. ``--long-side`` overrides every preset's size (quicker, but the long-side
rule then measures that size).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from paqshot_server.engines import Engines
    from paqshot_server.finishing import Finisher
    from paqshot_server.imaging.decode import decode_image
    from paqshot_server.imaging.presets import load_presets, resolve_options
    from paqshot_server.jobs.runner import options_for_engine
    from paqshot_server.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_photos = next(
        (p for p in (ROOT.parent / "shared/cases/photos", Path("/work/shared/cases/photos")) if p.is_dir()), None
    )
    parser.add_argument("--photos", type=Path, default=default_photos)
    parser.add_argument("--out", type=Path, default=Path("/tmp/marketplace_table"))
    parser.add_argument("--long-side", type=int, default=None)
    args = parser.parse_args(argv)
    if args.photos is None:
        print("no photos folder (../shared/cases/photos)", file=sys.stderr)
        return 2
    settings = load_settings()
    engines = Engines(settings)
    presets = load_presets()
    finisher = Finisher(settings, presets)
    photos = sorted(p for p in args.photos.rglob("*.jpg"))
    args.out.mkdir(parents=True, exist_ok=True)
    tally: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    passed_all: collections.Counter[str] = collections.Counter()
    engines_seen: collections.Counter[str] = collections.Counter()
    records = []
    sheet: list[tuple[Image.Image, str]] = []
    for photo in photos:
        raw = photo.read_bytes()
        image = decode_image(raw, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels).image
        for preset_id in presets.ids():
            values = resolve_options(presets.get(preset_id), {"preset": preset_id})
            if args.long_side:
                values["long_side"] = args.long_side
            options = options_for_engine(
                values, "studio_packshot", values.get("aspect_ratio", "1:1"), None, settings, presets=presets
            )
            try:
                result = engines.render(image, options)
                finished = finisher.finish(
                    result, product_photo=raw, title=photo.stem, checks=[preset_id], find_product=engines.find_product
                )
            except Exception as exc:  # a photo the engine refuses is a failed row, not a crash
                print(f"{photo.parent.name}/{photo.name} {preset_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
                totals[preset_id]["(rendered)"] += 1
                continue
            engines_seen[result.engine] += 1
            report = finished.compliance[0]
            tally[preset_id]["(rendered)"] += 1
            totals[preset_id]["(rendered)"] += 1
            for rule in report["rules"]:
                totals[preset_id][rule["rule"]] += 1
                tally[preset_id][rule["rule"]] += rule["passed"]
            passed_all[preset_id] += report["passed"]
            out = finished.result.images[0]
            name = f"{photo.parent.name}__{photo.stem}__{preset_id}.{out.mime.split('/')[1]}"
            (args.out / name).write_bytes(out.data)
            records.append(
                {
                    "photo": f"{photo.parent.name}/{photo.name}",
                    "preset": preset_id,
                    "report": report,
                    "needs_review": result.needs_review,
                    "engine": result.engine,
                }
            )
            if preset_id == "amazon_main":
                thumb = Image.open(io.BytesIO(out.data)).convert("RGB")
                thumb.thumbnail((220, 220))
                failed = [r["rule"] for r in report["rules"] if not r["passed"]]
                sheet.append((thumb, "PASS" if report["passed"] else "FAIL " + ",".join(failed)))
            print(
                f"{photo.parent.name}/{photo.name} {preset_id}: {'pass' if report['passed'] else 'FAIL'}",
                file=sys.stderr,
                flush=True,
            )
    (args.out / "reports.json").write_text(json.dumps(records, indent=1))
    _contact_sheet(sheet, args.out / "amazon_main_sheet.png")
    rules = sorted({r for c in totals.values() for r in c} - {"(rendered)"})
    print(f"\nphotos: {len(photos)}; engines: {dict(engines_seen)}\n")
    print("| preset | all rules | " + " | ".join(rules) + " |")
    print("|---|---|" + "---|" * len(rules))
    for preset_id in presets.ids():
        n = totals[preset_id]["(rendered)"]
        cells = [f"{tally[preset_id][r]}/{totals[preset_id][r]}" if totals[preset_id][r] else "—" for r in rules]
        print(f"| {preset_id} | {passed_all[preset_id]}/{n} | " + " | ".join(cells) + " |")
    return 0


def _contact_sheet(items: list[tuple[Image.Image, str]], path: Path) -> None:
    if not items:
        return
    cols = 5
    rows = (len(items) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * 230, rows * 250), (90, 90, 90))
    draw = ImageDraw.Draw(sheet)
    for i, (thumb, label) in enumerate(items):
        x, y = (i % cols) * 230 + 5, (i // cols) * 250 + 5
        sheet.paste(thumb, (x, y))
        draw.text((x, y + 225), label[:36], fill=(255, 255, 120) if label != "PASS" else (150, 255, 150))
    sheet.save(path)


if __name__ == "__main__":
    raise SystemExit(main())
