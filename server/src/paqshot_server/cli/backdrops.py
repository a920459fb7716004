"""``backdrops add | list | remove``: the plates the operator shares with every API key (works with the server
running or not). Keys add their own with ``POST /v1/backdrops``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..imaging.plates.plate import LIGHT_AZIMUTH
from .common import add_home_flag, os_error_words, read_bounded, settings_from


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction from 0 to 1")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("backdrops", help="backdrop plates shared with every API key: add, list, remove")
    bsub = parser.add_subparsers(dest="backdrops_command", metavar="ACTION", required=True)
    add = bsub.add_parser(
        "add",
        help="add a photograph (JPEG, PNG, WebP) as a shared plate",
        description="Add a shared plate. Floor line and light are measured from the photo unless given.",
    )
    add.add_argument("file", type=Path, metavar="FILE")
    add.add_argument("--tags", default="", help="comma-separated words scenes are matched against: kitchen,marble")
    add.add_argument("--name", default=None, help="a name shown in lists")
    add.add_argument("--floor-y", type=_fraction, default=None, help="where products stand, share of the height")
    add.add_argument("--area-left", type=_fraction, default=None, help="left end of the floor stretch to use")
    add.add_argument("--area-width", type=_fraction, default=None, help="width of that stretch (share of the width)")
    add.add_argument("--light-from", choices=tuple(LIGHT_AZIMUTH), default=None, help="where the key light is")
    add.add_argument("--shadow-softness", type=_fraction, default=None, help="0 hard light .. 1 diffuse")
    add.add_argument("--json", action="store_true", help="print the plate as JSON")
    add_home_flag(add)
    add.set_defaults(func=_add)
    lst = bsub.add_parser("list", help="the shared plates (with --all, every key's too)")
    lst.add_argument("--all", action="store_true", help="also the plates API keys added (with their key id)")
    lst.add_argument("--json", action="store_true")
    add_home_flag(lst)
    lst.set_defaults(func=_list)
    remove = bsub.add_parser("remove", help="remove shared plates (with --any, a key's plate too)")
    remove.add_argument("ids", nargs="+", metavar="ID")
    remove.add_argument("--any", action="store_true", help="also remove plates an API key added")
    add_home_flag(remove)
    remove.set_defaults(func=_remove)


def _library(args: argparse.Namespace) -> Any:
    from ..jobs.backdrops import BackdropLibrary
    from ..resources import Resources

    return BackdropLibrary(Resources(settings_from(args)))


def _record(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "key_id": row.key_id,
        "name": row.name,
        "tags": row.tags,
        "size": [row.width, row.height],
        "floor_y": round(row.floor_y, 4),
        "floor_source": "given" if row.floor_given else "estimated",
        "area": [round(row.area_left, 4), round(row.area_right, 4)],
        "light_azimuth": row.light_azimuth,
        "shadow_softness": round(row.light_softness, 3),
        "light_source": "given" if row.light_given else "estimated",
        "created_at": row.created_at,
    }


def _line(row: Any) -> str:
    owner = "shared" if row.key_id is None else row.key_id
    tags = ",".join(row.tags) or "(no tags)"
    light = "overhead" if row.light_azimuth is None else f"{row.light_azimuth:+.0f}°"
    return (
        f"{row.id}  {owner:<30} {row.width}x{row.height}  floor {row.floor_y:.2f}  light {light} "
        f"softness {row.light_softness:.2f}  {tags}{'  ' + row.name if row.name else ''}"
    )


def _add(args: argparse.Namespace) -> int:
    from ..errors import AppError
    from ..jobs.backdrops import PlateUpload

    try:  # bounded, and only a regular file (breaker15 B15-2: /dev/zero was read whole, a named pipe waited)
        data = read_bounded(args.file, settings_from(args).max_image_bytes, "plate image")
    except OSError as exc:
        print(f"error: {os_error_words(exc, 'plate image')}", file=sys.stderr)
        return 1
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    upload = PlateUpload(
        tags=[t for t in args.tags.split(",") if t.strip()],
        name=args.name,
        floor_y=args.floor_y,
        area_left=args.area_left,
        area_width=args.area_width,
        light_from=args.light_from,
        softness=args.shadow_softness,
    )
    try:
        row = _library(args).add(None, data, upload)
    except AppError as exc:
        print(f"error: {args.file}: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(_record(row)) if args.json else _line(row))
    return 0


def _list(args: argparse.Namespace) -> int:
    from ..storage import backdrops as backdrops_sql

    library = _library(args)
    rows = backdrops_sql.list_all(library.res.db.get()) if args.all else library.list(None)
    if args.json:
        print(json.dumps([_record(r) for r in rows]))
        return 0
    if not rows:
        hint = f" shared ({library.res.settings.brand.cli_name} backdrops add FILE --tags ...)"
        print("no backdrop plates" + ("" if args.all else hint))
    for row in rows:
        print(_line(row))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..errors import NotFound
    from ..storage import backdrops as backdrops_sql

    library = _library(args)
    code = 0
    for plate_id in args.ids:
        row = backdrops_sql.get(library.res.db.get(), plate_id)
        if row is None or (row.key_id is not None and not args.any):
            why = "it belongs to an API key (use --any)" if row is not None else "no such plate"
            print(f"{plate_id}: not removed: {why}", file=sys.stderr)
            code = 1
            continue
        try:
            library.delete(row.key_id, plate_id)
        except NotFound:  # removed meanwhile
            print(f"{plate_id}: not removed: no such plate", file=sys.stderr)
            code = 1
            continue
        print(f"{plate_id}: removed")
    return code
