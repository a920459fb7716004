"""``check``: measure any image against marketplace presets (audit a seller's photos without generating).

``paqshot check IMAGE... --preset amazon_main [--compliance-check ebay ...] [--json]``: every rule with its
measured value and pass/fail, per image and preset. Exit 0 when every image passes every preset, 1 when any
rule fails or a file cannot be read, 2 on bad options. Each image's line says what located its product: ``recorded``
(the product map this appliance wrote into its own output, its seal holding for the file's pixels) or the installed
cut-out model's name (any other file, an output edited since, or one another appliance made).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import add_home_flag, os_error_words, read_bounded, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="check images against marketplace presets (compliance report)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", type=Path, help="image files (JPEG, PNG, WebP)")
    parser.add_argument("--preset", default=None, metavar="ID", help="preset to check against (e.g. amazon_main)")
    parser.add_argument("--compliance-check", nargs="+", default=None, metavar="ID", help="more presets")
    parser.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    add_home_flag(parser)
    parser.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from ..checking import check_image, preset_ids
    from ..engines import LocalResources
    from ..errors import AppError
    from ..imaging.presets import PresetError
    from ..signing import APPLIANCE_KEY_FILE, load_secret

    res = LocalResources(settings_from(args))
    try:
        ids = preset_ids(args.preset, args.compliance_check)
        for preset_id in ids:
            res.presets.get(preset_id)
    except (AppError, PresetError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    if load_secret(res.settings.home) is None:
        print(
            f"note: {res.settings.home} is no data folder of this appliance (no {APPLIANCE_KEY_FILE}): the product "
            "maps it sealed in its outputs cannot be verified here, so the cut-out finds the product. Use --home.",
            file=sys.stderr,
        )
    worst = 0
    for path in args.images:
        try:
            outcome = check_image(
                read_bounded(path, res.settings.max_image_bytes, "image file"),
                ids,
                res.settings,
                res.presets,
                res.engines.find_product,
                res.engines.finder_name(),
            )
        except (AppError, OSError) as exc:
            message = exc.message if isinstance(exc, AppError) else os_error_words(exc)
            print(f"{path}: cannot check: {message}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": str(path), "error": message}))
            worst = 1
            continue
        if not all(r["passed"] for r in outcome.compliance):
            worst = 1
        if args.json:
            print(json.dumps({"file": str(path), **outcome.__dict__}), flush=True)
            continue
        print(
            f"{path} ({outcome.width}x{outcome.height} {outcome.format}, {outcome.bytes} bytes;"
            f" product located by: {outcome.product_source})"
        )
        for report in outcome.compliance:
            print(f"  {report['preset']}: {'PASS' if report['passed'] else 'FAIL'}")
            for rule in report["rules"]:
                print(f"    {'ok  ' if rule['passed'] else 'FAIL'} {rule['rule']}: {rule['message']}")
    return worst
