"""The model store: exported model folders installed under ``models_dir``, recorded in a JSON registry.

A store reads one or more such folders: the data folder's own (``<home>/models``, where ``install`` and
``remove`` write) first, then any *shared* folders — the install-level folder of this Python environment
(:func:`install_level_dir`, where the set-up puts the default cut-out model so that every data folder finds
it). A model id in the data folder hides the same id in a shared folder.

Layout of each folder::

    models_dir/
      registry.json          {"schema": 1, "models": {id: record}}  (written atomically)
      .lock                  flock'd while the store changes
      <id>/manifest.toml     the manifest the folder was installed with
      <id>/...               the files it lists, checked against their sha256

Installing copies the folder next to its final place, checks every file's size and sha256 there (the
copy is what runs, so that is what is checked), then swaps it in. A model whose licence is not
commercial (``commercial_ok = false``) needs ``accept_licence=True``: the operator's acknowledgement is
recorded. No SQL here: the store is plain files, usable from the CLI with no server running.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from .manifests import MANIFEST_NAME, Manifest, ManifestError, ModelCard, check_files

REGISTRY = "registry.json"
REGISTRY_SCHEMA = 1
DATA, INSTALL = "data", "install"  # where an installed model lives: the data folder or a shared folder


def install_level_dir() -> Path:
    """The install-level model folder of this Python environment: ``<sys.prefix>/share/appliance/models``.

    It belongs to the installation (the venv or the image), not to a data folder: the set-up installs the
    default cut-out model here and every data folder served by this installation finds it.
    """
    return Path(sys.prefix) / "share" / "appliance" / "models"


class StoreError(Exception):
    """An install, verify or remove could not be done; the message says why and what to do."""


class LicenceNotAccepted(StoreError):
    """The model's licence does not allow commercial use and the operator did not accept it."""


class RunsOn(Protocol):
    """Where sessions run (``sessions.ProviderReport`` answers it)."""

    @property
    def provider(self) -> str: ...

    @property
    def device(self) -> str: ...


class ModelNotFound(StoreError):
    """No installed model has that id."""


@dataclass(frozen=True, kw_only=True)
class InstalledModel(ModelCard):
    """One installed model as recorded in the registry: its card, and the facts of its installation (plus where
    it runs, when the store was given a probe)."""

    licence_accepted: bool
    path: Path
    size_bytes: int
    files: int
    installed_at: str
    provider: str = ""  # e.g. CPUExecutionProvider / CUDAExecutionProvider
    device: str = ""  # cpu | cuda
    scope: str = DATA  # DATA: the data folder's own; INSTALL: a shared (install-level) folder

    @property
    def manifest(self) -> Manifest:
        return Manifest.load(self.path)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``GET /v1/models``, ``models list --json``)."""
        return {
            **self.card(),
            "licence_accepted": self.licence_accepted,
            "size_bytes": self.size_bytes,
            "files": self.files,
            "installed_at": self.installed_at,
            "provider": self.provider,
            "device": self.device,
            "scope": self.scope,
        }


@dataclass(frozen=True)
class VerifyResult:
    id: str
    ok: bool
    problems: tuple[str, ...] = field(default_factory=tuple)


class ModelStore:
    """Install, verify, list and remove exported models under ``models_dir``; also list ``shared`` folders'."""

    def __init__(
        self,
        models_dir: Path,
        *,
        device: str = "auto",
        shared: Iterable[Path] = (),
        runs_on: Callable[[str], RunsOn] | None = None,
    ) -> None:
        """``runs_on(device)`` says where models run (``sessions.probe``); without it ``provider`` and ``device``
        stay empty, and nothing here loads onnxruntime (the API process lists models this way)."""
        self.models_dir = Path(models_dir)
        self.device = device
        self.shared = tuple(p for p in (Path(f) for f in shared) if p.resolve() != self.models_dir.resolve())
        self.runs_on = runs_on

    # ---- registry -------------------------------------------------------------------------------------

    @property
    def registry_path(self) -> Path:
        return self.models_dir / REGISTRY

    @property
    def registry_paths(self) -> tuple[Path, ...]:
        """Every registry this store reads, the data folder's first (watch these to notice changes)."""
        return tuple(folder / REGISTRY for folder in (self.models_dir, *self.shared))

    def _read(self, folder: Path | None = None) -> dict[str, dict[str, Any]]:
        registry = (folder or self.models_dir) / REGISTRY
        try:
            data = json.loads(registry.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise StoreError(f"{registry} is damaged ({exc}); reinstall the models") from exc
        if data.get("schema") != REGISTRY_SCHEMA:
            raise StoreError(f"{registry}: unsupported registry schema {data.get('schema')!r}")
        models = data.get("models", {})
        return models if isinstance(models, dict) else {}

    def _records(self) -> dict[str, tuple[Path, dict[str, Any]]]:
        """id -> (folder, record) over every folder; the data folder's record wins over a shared one."""
        out: dict[str, tuple[Path, dict[str, Any]]] = {}
        for folder in (self.models_dir, *self.shared):
            for model_id, record in self._read(folder).items():
                out.setdefault(model_id, (folder, record))
        return out

    def _write(self, models: dict[str, dict[str, Any]]) -> None:
        payload = json.dumps({"schema": REGISTRY_SCHEMA, "models": models}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".registry-", dir=self.models_dir)
        os.fchmod(fd, 0o644)  # models are not secrets; an install-level store is read by other users' workers
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.registry_path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with (self.models_dir / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _model(self, record: dict[str, Any], folder: Path | None = None) -> InstalledModel:
        where = self.runs_on(self.device) if self.runs_on is not None else None
        return InstalledModel(
            id=record["id"],
            name=record.get("name", record["id"]),
            role=record["role"],
            family=record.get("family", ""),
            licence=record.get("licence", ""),
            commercial_ok=bool(record.get("commercial_ok", False)),
            licence_accepted=bool(record.get("licence_accepted", False)),
            styles=tuple(record.get("styles", ())),
            priority=int(record.get("priority", 0)),
            path=(folder or self.models_dir) / record["id"],
            size_bytes=int(record.get("size_bytes", 0)),
            files=int(record.get("files", 0)),
            installed_at=record.get("installed_at", ""),
            source=record.get("source", ""),
            provider=where.provider if where else "",
            device=where.device if where else "",
            scope=DATA if folder in (None, self.models_dir) else INSTALL,
        )

    # ---- queries --------------------------------------------------------------------------------------

    def list(self, role: str | None = None) -> builtins.list[InstalledModel]:
        """Installed models (optionally of one role), highest priority first, then by id."""
        models = [self._model(r, f) for f, r in self._records().values() if role is None or r.get("role") == role]
        return sorted(models, key=lambda m: (-m.priority, m.id))

    def get(self, model_id: str) -> InstalledModel:
        found = self._records().get(model_id)
        if found is None:
            raise ModelNotFound(f"No installed model {model_id!r}.")
        folder, record = found
        return self._model(record, folder)

    def best(self, role: str) -> InstalledModel | None:
        """The installed model of ``role`` with the highest priority, or None."""
        models = self.list(role)
        return models[0] if models else None

    # ---- changes --------------------------------------------------------------------------------------

    def install(self, path: Path, accept_licence: bool = False) -> InstalledModel:
        """Copy an exported folder (with its ``manifest.toml``) into the store after checking it."""
        source = Path(path)
        if not source.is_dir():
            raise StoreError(f"{source} is not a folder (install an exported model folder)")
        try:
            manifest = Manifest.load(source)
        except ManifestError as exc:
            raise StoreError(str(exc)) from exc
        if not manifest.files:
            raise StoreError(
                f"{source}: the manifest lists no files; run models/export/finalize.py on the export first"
            )
        missing_sums = [f.path for f in manifest.files if not f.sha256]
        if missing_sums:
            raise StoreError(f"{source}: no sha256 for {', '.join(missing_sums[:5])}; finalize the export")
        if not manifest.commercial_ok and not accept_licence:
            raise LicenceNotAccepted(
                f"Model {manifest.id!r} is licensed {manifest.licence!r}, which does not allow commercial "
                "use. Install it only if you hold a licence that covers your use, with --accept-licence."
            )
        problems = check_files(source, manifest.files)
        if problems:
            raise StoreError(f"{source}: {'; '.join(problems[:10])}")
        with self._locked():
            staging = Path(tempfile.mkdtemp(prefix=f".install-{manifest.id}-", dir=self.models_dir))
            try:
                for entry in manifest.files:
                    dest = staging / entry.path
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source / entry.path, dest)
                (staging / MANIFEST_NAME).write_text(manifest.dumps(), encoding="utf-8")
                _readable(staging)
                problems = check_files(staging, manifest.files)
                if problems:
                    raise StoreError(f"copy into {self.models_dir} failed its check: {'; '.join(problems)}")
                final = self.models_dir / manifest.id
                old = None
                if final.exists():
                    old = self.models_dir / f".old-{manifest.id}-{os.getpid()}"
                    os.replace(final, old)
                os.replace(staging, final)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
            models = self._read()
            models[manifest.id] = {
                "id": manifest.id,
                "name": manifest.name,
                "role": manifest.role,
                "family": manifest.family,
                "licence": manifest.licence,
                "commercial_ok": manifest.commercial_ok,
                "licence_accepted": bool(accept_licence and not manifest.commercial_ok),
                "styles": list(manifest.styles),
                "priority": manifest.priority,
                "size_bytes": manifest.total_size,
                "files": len(manifest.files),
                # microseconds: the install's identity in every process's session cache (evict_stale); a
                # reinstall within the same second must not look like the install it replaced
                "installed_at": datetime.now(UTC).isoformat(timespec="microseconds"),
                "source": manifest.source,
            }
            self._write(models)
        self._forget_sessions()
        return self.get(manifest.id)

    def verify(self, model_id: str | None = None) -> builtins.list[VerifyResult]:
        """Re-check every installed file (or one model's) against its manifest's sha256."""
        records = self._records()
        if model_id is not None and model_id not in records:
            raise ModelNotFound(f"No installed model {model_id!r}.")
        results = []
        for mid in sorted(records if model_id is None else [model_id]):
            folder = records[mid][0] / mid
            try:
                manifest = Manifest.load(folder)
            except ManifestError as exc:
                results.append(VerifyResult(mid, False, (str(exc),)))
                continue
            problems = check_files(folder, manifest.files)
            results.append(VerifyResult(mid, not problems, tuple(problems)))
        return results

    def remove(self, model_id: str) -> None:
        """Delete an installed model's folder and its registry record."""
        with self._locked():
            models = self._read()
            if model_id not in models:
                shared = self._records().get(model_id)
                if shared is not None:
                    raise StoreError(
                        f"{model_id} is installed for the whole installation in {shared[0]}, not in this data "
                        "folder; remove it there with `models remove --shared`."
                    )
                raise ModelNotFound(f"No installed model {model_id!r}.")
            del models[model_id]
            self._write(models)
            shutil.rmtree(self.models_dir / model_id, ignore_errors=True)
        self._forget_sessions()

    def _forget_sessions(self) -> None:
        evict_stale(self.list())


def _readable(folder: Path) -> None:
    """Folders 0755, files 0644 (mkdtemp makes 0700): the service user reads what root's set-up installed."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def evict_stale(installed: Iterable[InstalledModel]) -> int:
    """Drop this process's cached sessions, segmenters and pipelines of models not installed as they were.

    A model removed or reinstalled (by this process or another: workers call this when a registry changes)
    leaves no session behind. Modules not loaded yet hold nothing, and are not imported. Returns how many
    cache entries were dropped.
    """
    keep = {(str(m.path), m.installed_at) for m in installed}
    dropped = 0
    for name in ("segmenters", "diffusion"):
        module = sys.modules.get(f"{__package__}.{name}")
        if module is not None:
            dropped += module.forget_except(keep)
    sessions = sys.modules.get(f"{__package__}.sessions")
    if sessions is not None:
        dropped += sessions.prune_cache()
    return dropped
