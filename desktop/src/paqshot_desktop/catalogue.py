"""A catalogue manifest rendered on the connected appliance: the desktop's side of the command line's
``generate --manifest``.

The manifest format, the output names, ``summary.csv``'s columns and the skip rule are the command's, written
once in docs/presets.md ("Catalogues"); ``tests/desktop/test_desktop_catalogue.py`` runs both on one manifest and
compares their summaries. The desktop must not import the server (docs/architecture.md), so the few lines that
read a manifest are repeated here. One difference, by necessity: the command hashes the options after resolving
them itself; the desktop cannot resolve them without the appliance, so it hashes the row's own fields with the
values of the preset it names and the appliance's version (a changed preset or appliance renders again).

Every function here blocks (files, HTTP) and runs on a worker; none touches a widget.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from .batchstate import BatchState
from .boundedread import NotARegularFile, TooLarge, read_bounded
from .client import ApiClient, ApiError, describe
from .manifestrows import MAX_MANIFEST_BYTES, Manifest, ManifestError, parse_manifest
from .model import image_extension
from .skunames import OutputNames, output_name
from .summarycsv import write_summary
from .transfers import data_uri
from .wire import Capabilities, Job, PresetInfo

SUMMARY = "summary.csv"
SUMMARY_COLUMNS = (
    "sku",
    "status",
    "output",
    "width",
    "height",
    "engine",
    "needs_review",
    "review_reasons",
    "compliance",
    "failed_rules",
    "error",
    "input_sha256",
    "options_sha256",
)
NOT_FIELDS = ("sku", "image")  # a row's cells that are not request fields
# JSON Schema types of the appliance's fields (``Capabilities.fields``) a CSV cell's text is converted to.
_CELL_TYPES: dict[str, type] = {"integer": int, "number": float, "boolean": bool}
POLL_S = 1.0
# A row whose job the run stopped following (the job goes on on the appliance; sent again unchanged, with the same
# idempotency key, it is the same job).
STOPPED = "Stopped before the appliance finished this row."
Report = Callable[[Any], None]


def read_manifest(path: Path) -> Manifest:
    """Rows of a CSV (header row) or JSON (list of objects) manifest (``manifestrows``: the encodings, separators
    and header spellings spreadsheets write), empty cells dropped, and the reader's note; in CSV,
    ``compliance_check`` is ids separated by ``;`` or ``|`` and ``placement`` is ``x=…,y=…,scale=…,floor_y=…``.
    Raises ManifestError naming the problem."""
    try:  # a regular file within the limit (breaker15: /dev/zero as the manifest was read whole)
        data = read_bounded(path, MAX_MANIFEST_BYTES)
    except NotARegularFile:
        raise ManifestError(f"The manifest {path} is not a regular file (a device, pipe or socket).") from None
    except TooLarge as exc:
        raise ManifestError(
            f"The manifest {path} is {exc.size / 1e6:.0f} MB; the limit is {MAX_MANIFEST_BYTES / 1e6:.0f} MB."
        ) from None
    except OSError as exc:
        raise ManifestError(f"Cannot read the manifest {path}: {exc.strerror}.") from None
    manifest = parse_manifest(data, path.name)
    for row in manifest.rows:
        if isinstance(row.get("placement"), str):
            row["placement"] = _placement(row["placement"])
    return manifest


def _placement(text: str) -> dict[str, float] | str:
    """``x=0.5,y=0.8`` as the API's object; anything else is sent as written (the appliance explains it)."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in re.split(r"[,;]", text) if p.strip()):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            return text
    return out


@dataclass
class Row:
    """One manifest row on its way: its summary line, and the job rendering it."""

    sku: str
    line: dict[str, Any]
    job_id: str | None = None
    name: str = ""


@dataclass(frozen=True)
class RunNotes:
    """What the run had to guess or could not read (the manifest's encoding, lines of its state), reported once
    before the rows: each a sentence."""

    notes: tuple[str, ...]


@dataclass
class CatalogueRun:
    """Renders ``manifest`` on the appliance into ``out``: outputs ``<sku>.<ext>``, ``summary.csv`` and
    ``batch-state.jsonl`` (``batchstate``: hashes per SKU; a re-run skips a row whose hashes match and whose
    output is there).

    :meth:`run` blocks until every row has ended (or :attr:`stop` is set). It reports ``(done, total, index,
    line)``: once for every row when all are sent (``status`` empty while the appliance renders it), then again
    for each row that ends; before them, a :class:`RunNotes` when the manifest's reader or the state had a note.
    """

    client: ApiClient
    caps: Capabilities
    presets: tuple[PresetInfo, ...]
    manifest: Path
    out: Path
    stop: threading.Event = field(default_factory=threading.Event)
    poll_s: float = POLL_S
    overwrite: bool = False  # the user answered Replace: files already in ``out`` may be replaced (never a photo)
    # the outputs the journal names, and those this run wrote: replaced without asking
    _ours: set[Path] = field(default_factory=set, init=False, repr=False)
    _inputs: set[Path] = field(default_factory=set, init=False, repr=False)

    def run(self, report: Report) -> list[dict[str, Any]]:
        """Every row's summary line, in manifest order. Raises ManifestError when the manifest is unusable."""
        manifest = read_manifest(self.manifest)
        rows = manifest.rows
        self.out.mkdir(parents=True, exist_ok=True)
        with BatchState(self.out) as state:  # what it could not read is left out (a note), never an error
            self._ours = _journalled(self.out, state)
            self._inputs = {p.resolve() for p in _local_inputs(rows, self.manifest.parent)}
            notes = tuple(filter(None, (manifest.note, *state.notes)))
            if notes:
                report(RunNotes(notes))
            names = OutputNames()
            lines = [self._start(number, row, state, names) for number, row in enumerate(rows, start=1)]
            done = sum(1 for r in lines if r.job_id is None)
            for index, row in enumerate(lines):
                if row.job_id is None:
                    _ended(row, state)
                report((done, len(lines), index, row.line))
            pending = [(i, r) for i, r in enumerate(lines) if r.job_id is not None]
            while pending and not self.stop.is_set():
                time.sleep(self.poll_s)
                for index, row in list(pending):
                    if self._poll(row, state):
                        pending.remove((index, row))
                        done += 1
                        _ended(row, state)
                        report((done, len(lines), index, row.line))
            for index, row in pending:  # stopped: the jobs go on on the appliance; the row says so, not "Rendering…"
                row.line.update(status="failed", error=STOPPED)
                report((done, len(lines), index, row.line))
        summary = [r.line for r in lines]
        write_summary(self.out / SUMMARY, SUMMARY_COLUMNS, summary, ours=("output",))
        return summary

    def _start(self, number: int, row: dict[str, Any], state: BatchState, names: OutputNames) -> Row:
        """Check the row, hash it, skip it when unchanged, else submit it (the row fails alone)."""
        sku = str(row.get("sku", "")).strip()
        item = Row(sku, dict.fromkeys(SUMMARY_COLUMNS, ""))
        item.line["sku"] = sku
        try:
            if not sku:
                raise ValueError(f"row {number} has no sku.")
            item.name = names.claim(sku)
            image = str(row.get("image", "")).strip()
            if not image:
                raise ValueError(f"sku {sku!r} has no image.")
            fields = {"style": "studio_packshot", **{k: v for k, v in row.items() if k not in NOT_FIELDS}}
            unknown = sorted(set(fields) - {f.name for f in self.caps.fields} - {"style"})
            if unknown:
                raise ValueError(f"this appliance does not take {', '.join(unknown)} (a preset sets the size).")
            fields = typed_cells(fields, self.caps)
            data = self._load(image)
            background = self._load(str(fields["background_image"])) if fields.get("background_image") else None
            item.line["input_sha256"] = hashlib.sha256(data + (background or b"")).hexdigest()
            item.line["options_sha256"] = self._options_hash(fields)
            before = state.get(sku)
            if before and self._unchanged(before, item.line):
                item.line = {**before, "status": "skipped"}
                return item
            body = {**fields, "product_image": data_uri(data), "filename": f"{item.name}{Path(image).suffix}"}
            if background is not None:
                body["background_image"] = data_uri(background)
            if "filename" not in {f.name for f in self.caps.fields}:
                body.pop("filename")
            # The same row unchanged gets the same key: sent again (a re-run after a crash), it is the same job.
            seed = f"{sku}:{item.line['input_sha256']}:{item.line['options_sha256']}"
            key = uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32])
            item.job_id = self.client.generate(body, f"catalogue-{key}").id
        except ValueError as exc:
            item.line.update(status="failed", error=str(exc))
        except ApiError as exc:
            item.line.update(status="failed", error=describe(exc))
        return item

    def _unchanged(self, before: dict[str, Any], now: dict[str, Any]) -> bool:
        same = all(before.get(k) == now[k] for k in ("input_sha256", "options_sha256"))
        return same and before.get("status") == "completed" and (self.out / str(before.get("output", ""))).is_file()

    def _options_hash(self, fields: dict[str, Any]) -> str:
        render = next((p.render for p in self.presets if p.id == fields.get("preset")), {})
        key = json.dumps([fields, render, self.caps.product, self.caps.version], sort_keys=True, default=str)
        return hashlib.sha256(key.encode()).hexdigest()

    def _load(self, image: str) -> bytes:
        """A local path (relative to the manifest's folder) or an http(s) URL, as bytes."""
        if re.match(r"^https?://", image, re.IGNORECASE):
            try:
                return self.client.download(image)
            except ApiError as exc:
                raise ValueError(f"cannot fetch {image}: {describe(exc)}") from None
        path, limit = Path(image).expanduser(), self.caps.limits.max_image_bytes
        try:
            return read_bounded(path if path.is_absolute() else self.manifest.parent / path, limit)
        except NotARegularFile:
            raise ValueError(f"cannot read {image}: not a regular file (a device, pipe or socket).") from None
        except TooLarge as exc:
            raise ValueError(
                f"{image} is {exc.size / 1e6:.1f} MB; this appliance takes images up to {limit / 1e6:.0f} MB."
            ) from None
        except OSError as exc:
            raise ValueError(f"cannot read {image}: {exc.strerror}.") from None

    def _poll(self, row: Row, state: BatchState) -> bool:
        """Whether the row's job has ended; a completed one's image is downloaded and its line filled in."""
        assert row.job_id is not None
        try:
            job = self.client.job(row.job_id)
            if not job.finished:
                return False
            row.line.update(result_line(job))
            if job.status == "completed" and job.all_images:
                image = job.all_images[0]
                name = f"{row.name}.{image_extension(job, image)}"
                refusal = self._refusal(self.out / name)
                if refusal:
                    row.line.update(status="failed", error=refusal)
                    return True
                # the name journalled before the file exists (as the command does): a kill between the two leaves
                # a journal that still knows the file as this catalogue's
                state.record({**row.line, "output": name, "status": "writing"})
                (self.out / name).write_bytes(self.client.download(image.image_url))
                self._ours.add((self.out / name).resolve())
                row.line["output"] = name
        except (ApiError, OSError) as exc:
            row.line.update(status="failed", error=describe(exc))
        return True

    def _refusal(self, target: Path) -> str:
        """Why ``target`` must not be written, in words ("" when it may): a photo the catalogue reads never is; a
        file already there only when the journal names it as this catalogue's or the user said Replace (B17-5, the
        command's rule: docs/presets.md, "Files already there")."""
        key = target.resolve()
        if key in self._inputs:
            return f"Not saved: {target} is a photo this catalogue reads; it is never replaced. Choose another folder."
        if target.exists() and not self.overwrite and key not in self._ours:
            return f"Not saved: {target} was already there and this catalogue did not make it; it was kept."
        return ""


def files_in_the_way(manifest: Path, out: Path) -> list[Path]:
    """The files in ``out`` that a run of ``manifest`` would replace and did not make: a row's output name (any
    extension, case-folded as Windows and macOS compare names) that the folder's journal does not name, and no
    photo the catalogue reads (those are never replaced). For the question asked before the run.

    Raises:
        ManifestError: the manifest cannot be used (as :func:`read_manifest`).
        OSError: the manifest or the folder cannot be read.
    """
    rows = read_manifest(manifest).rows
    if not out.is_dir():
        return []
    stems = {output_name(str(row.get("sku", "")).strip()).casefold() for row in rows if str(row.get("sku", "")).strip()}
    with BatchState(out) as state:
        ours = _journalled(out, state)
    inputs = {p.resolve() for p in _local_inputs(rows, manifest.parent)}
    return sorted(
        p
        for p in out.iterdir()
        if p.suffix.lower() in (".jpg", ".png", ".webp")
        and p.stem.casefold() in stems
        and p.resolve() not in ours | inputs
    )


def _journalled(out: Path, state: BatchState) -> set[Path]:
    return {(out / str(line["output"])).resolve() for line in state.lines.values() if line.get("output")}


def _local_inputs(rows: list[dict[str, Any]], base: Path) -> list[Path]:
    """The local files the rows read (images and background images; URLs are not files)."""
    named = (str(row.get(field) or "").strip() for row in rows for field in ("image", "background_image"))
    paths = (Path(text).expanduser() for text in named if text and not re.match(r"^https?://", text, re.IGNORECASE))
    return [path if path.is_absolute() else base / path for path in paths]


def _ended(row: Row, state: BatchState) -> None:
    """Remember the row's line (after every row: a crash loses none); a skipped row keeps its earlier one."""
    if row.sku and row.line["status"] != "skipped":
        state.record(row.line)


def typed_cells(fields: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    """A row's text cells as the types of the appliance's fields (a CSV cell is text: ``"2"`` for num_variants,
    ``"true"`` for reflection), converted as the command converts them (msgspec's lax conversion; breaker13 B13-16:
    the desktop sent them as text and the appliance refused every such row). A cell that does not convert is sent
    as written, for the appliance to explain."""
    out = dict(fields)
    for name, value in fields.items():
        info = caps.field(name)
        target = _CELL_TYPES.get(info.type) if info is not None else None
        if isinstance(value, str) and target is not None:
            with contextlib.suppress(msgspec.ValidationError):
                out[name] = msgspec.convert(value, target, strict=False)
    return out


def result_line(job: Job) -> dict[str, Any]:
    """A finished job's columns of the summary (as the command line's ``generate --manifest`` writes them)."""
    reports = job.compliance
    return {
        "status": job.status,
        "width": job.width or "",
        "height": job.height or "",
        "engine": job.engine or "",
        "needs_review": job.needs_review if job.status == "completed" else "",
        "review_reasons": "; ".join(r.code for r in job.review_reasons),
        "compliance": "; ".join(f"{r.preset}:{'pass' if r.passed else 'fail'}" for r in reports),
        "failed_rules": "; ".join(f"{r.preset}:{rule.rule}" for r in reports for rule in r.rules if not rule.passed),
        "error": job.error.message if job.error else "",
    }
