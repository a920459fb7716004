"""``models list | install PATH [--accept-licence] | verify [ID] | remove ID``: the model store from the shell.

Works on the data folder directly, server running or not. A running worker picks an install up on its
next job (loaders are keyed by install time).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..inference.store import LicenceNotAccepted, ModelStore, StoreError
from .common import add_home_flag, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="list, install, verify and remove exported models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lst = msub.add_parser("list", help="installed models: role, licence, styles they enable, where they run")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    add_home_flag(lst)
    lst.set_defaults(func=_list)
    install = msub.add_parser("install", help="install an exported model folder (checks every checksum)")
    install.add_argument("path", type=Path, help="folder with manifest.toml (models/export/finalize.py)")
    install.add_argument(
        "--accept-licence",
        action="store_true",
        help="install a model whose licence does not allow commercial use (you hold a licence that does)",
    )
    install.add_argument("--json", action="store_true")
    add_home_flag(install)
    install.set_defaults(func=_install)
    verify = msub.add_parser("verify", help="re-check installed files against their checksums")
    verify.add_argument("id", nargs="?", help="one model (default: all)")
    verify.add_argument("--json", action="store_true")
    add_home_flag(verify)
    verify.set_defaults(func=_verify)
    remove = msub.add_parser("remove", help="remove an installed model")
    remove.add_argument("id")
    add_home_flag(remove)
    remove.set_defaults(func=_remove)


def _store(args: argparse.Namespace) -> ModelStore:
    from ..inference.sessions import probe  # where models run, shown by list and install

    return ModelStore(settings_from(args).models_dir, runs_on=probe)


def _list(args: argparse.Namespace) -> int:
    models = _store(args).list()
    if args.json:
        print(json.dumps([m.as_dict() for m in models], indent=2))
        return 0
    if not models:
        print("no models installed (the classical cut-out and studio compositing need none)")
        return 0
    rows = [("ID", "ROLE", "LICENCE", "COMMERCIAL", "STYLES", "RUNS ON")]
    for m in models:
        commercial = "yes" if m.commercial_ok else ("accepted" if m.licence_accepted else "no")
        rows.append((m.id, m.role, m.licence, commercial, ",".join(m.styles) or "-", m.provider))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _install(args: argparse.Namespace) -> int:
    try:
        model = _store(args).install(args.path, accept_licence=args.accept_licence)
    except LicenceNotAccepted as exc:
        print(f"not installed: {exc}")
        return 3
    except StoreError as exc:
        print(f"not installed: {exc}")
        return 1
    if args.json:
        print(json.dumps(model.as_dict(), indent=2))
    else:
        print(
            f"installed {model.id} ({model.role}, {model.licence}, {model.size_bytes / 1e6:.1f} MB, "
            f"{model.files} files verified); runs on {model.provider}"
        )
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        results = _store(args).verify(args.id)
    except StoreError as exc:
        print(exc)
        return 1
    if args.json:
        print(json.dumps([{"id": r.id, "ok": r.ok, "problems": list(r.problems)} for r in results], indent=2))
    else:
        if not results:
            print("no models installed")
        for r in results:
            print(f"{r.id}: {'ok' if r.ok else 'FAILED'}")
            for problem in r.problems:
                print(f"  {problem}")
    return 0 if all(r.ok for r in results) else 1


def _remove(args: argparse.Namespace) -> int:
    try:
        _store(args).remove(args.id)
    except StoreError as exc:
        print(exc)
        return 1
    print(f"removed {args.id}")
    return 0
