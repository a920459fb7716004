"""``paqshot generate --manifest FILE``: render a catalogue (one row per SKU) and write a summary CSV.

The manifest format, output names, summary columns and skip rule are written once, in docs/presets.md
("Catalogues"); the desktop's "Open catalogue…" (``paqshot_desktop/catalogue.py``) follows the same. Rows are
validated exactly as the API validates a request (the same msgspec type), so a bad row fails alone with the API's
message. ``batch-state.jsonl`` (``cli.batchstate``) remembers, per SKU, the sha256 of the input bytes and of the
resolved options.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from .. import __version__
from ..errors import AppError, InvalidRequest, UnsupportedImage
from ..settings import declared
from ..words import counted
from .batchstate import BatchState
from .common import internal_error, os_error_words, read_bounded
from .manifestrows import MAX_MANIFEST_BYTES, Manifest, parse_manifest
from .outputfiles import OutputGuard
from .skunames import OutputNames
from .summarycsv import write_summary

SUMMARY = "summary.csv"
# Not request fields: the worker takes them from these settings, whose type and bounds they keep.
EXTRA_FIELDS = {"long_side": "output_long_side", "jpeg_quality": "jpeg_quality"}
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
# Request fields the command line does not take as plain values (the photo itself; a hint is a file there).
_NOT_FLAGS = frozenset({"product_image", "webhook_url", "mask_hint", "filename"})


@dataclass(frozen=True)
class Resolved:
    """A request resolved like the API resolves it: validated fields, preset applied."""

    style: str
    aspect_ratio: str
    seed: int | None
    options: dict[str, Any]  # as a job stores them (preset and compliance_check included)

    @property
    def checks(self) -> list[str]:
        from ..jobs.runner import compliance_checks

        return compliance_checks(self.options)


def flag_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The request fields given as flags of the same name (those left at None were not given)."""
    from ..api.request_bodies import GenerateRequest

    names = [f.name for f in msgspec.structs.fields(GenerateRequest) if f.name not in _NOT_FLAGS]
    values = {name: getattr(args, name, None) for name in names}
    for name in EXTRA_FIELDS:
        values[name] = getattr(args, name, None)
    return {k: v for k, v in values.items() if v is not None}


def resolve(fields: dict[str, Any], presets: Any, settings: Any) -> Resolved:
    """Validate ``fields`` as the API's request type and apply the preset. Raises InvalidRequest, in the
    API's words for the field (``api.explain``)."""
    from ..api.request_bodies import GenerateRequest
    from ..jobs.service import request_options

    extra = {name: extra_value(name, fields[name]) for name in EXTRA_FIELDS if name in fields}
    body = {k: v for k, v in fields.items() if k not in EXTRA_FIELDS}
    body.setdefault("style", "studio_packshot")
    try:
        request = msgspec.convert({"product_image": "-", **body}, GenerateRequest, strict=False)
    except msgspec.ValidationError as exc:
        from ..api.explain import conversion_message
        from ..api.openapi import request_schema

        doc = request_schema(GenerateRequest, settings, presets.ids())
        raise InvalidRequest(conversion_message(exc, GenerateRequest, doc)) from None
    options, aspect = request_options(request, set(body), presets)
    options.update(extra)
    return Resolved(request.style, aspect, request.seed, options)


def extra_value(name: str, value: Any) -> int:
    """``value`` of the field ``name`` of :data:`EXTRA_FIELDS` as a whole number within the bounds of the setting it
    overrides (breaker12 B12-13: ``--long-side 0`` was an internal error, 20000 rendered a 20000 px square).

    Raises:
        InvalidRequest: not a whole number, or outside the setting's bounds (the message names both).
    """
    setting = declared(EXTRA_FIELDS[name])
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{name} must be a whole number.") from None
    least, most = setting.minimum, setting.maximum
    if (least is not None and number < least) or (most is not None and number > most):
        raise InvalidRequest(f"{name} must be {least:g} to {most:g} (as the {setting.name} setting), not {number}.")
    return number


def read_manifest(path: Path) -> Manifest:
    """The rows of a CSV or JSON manifest (``cli.manifestrows``), ``placement`` cells as the API's object.
    Raises InvalidRequest naming the problem (ManifestError, a ValueError, for the manifest's content), ImageTooLarge
    over ``manifestrows.MAX_MANIFEST_BYTES``."""
    try:  # a regular file within the limit (breaker15: /dev/zero as the manifest was read whole)
        data = read_bounded(path, MAX_MANIFEST_BYTES, "manifest")
    except OSError as exc:
        raise InvalidRequest(os_error_words(exc, "manifest")) from None
    manifest = parse_manifest(data, path.name)
    for row in manifest.rows:
        if isinstance(row.get("placement"), str):
            row["placement"] = parse_placement(row["placement"])
    return manifest


def parse_placement(text: str) -> dict[str, float]:
    """``x=0.5,y=0.8,scale=0.4,floor_y=0.82`` (any of the four, separated by ``,`` or ``;``) as the API's
    ``placement`` object. Raises ValueError naming what is wrong (the ranges are the API's to check)."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in re.split(r"[,;]", text) if p.strip()):
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in ("x", "y", "scale", "floor_y"):
            raise ValueError(f"placement {part!r}: write x=, y=, scale= or floor_y= followed by a fraction")
        out[name.strip()] = float(value)
    return out


def run_manifest(args: argparse.Namespace) -> int:
    """Render every row; exit 0 when none failed, 1 when any failed, 2 when the manifest itself is unusable."""
    from ..engines import Engines, LocalResources
    from ..finishing import Finisher
    from ..settings import load_settings

    settings = load_settings()
    res = LocalResources(settings)
    try:
        manifest = read_manifest(args.manifest)
        presets = res.presets
    except (AppError, ValueError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    if manifest.note:
        print(f"note: {manifest.note}", file=sys.stderr)
    rows = manifest.rows
    args.output.mkdir(parents=True, exist_ok=True)
    engines: Engines = res.engines
    finisher = Finisher(settings, presets)
    defaults = flag_fields(args)
    summary: list[dict[str, Any]] = []
    names = OutputNames()
    with BatchState(args.output) as state:
        for note in state.notes:
            print(f"note: {note}", file=sys.stderr)
        # a re-run replaces the outputs its journal lists; any other file only with --overwrite (B17-5)
        ours = [str(line.get("output", "")) for line in state.lines.values()]
        guard = OutputGuard(args.output, _local_inputs(rows, args.manifest.parent), overwrite=args.overwrite, ours=ours)
        for number, row in enumerate(rows, start=1):
            line = _one_row(number, row, defaults, args, res, engines, finisher, state, names, guard)
            if line["sku"] and line["status"] != "skipped":
                state.record(_remembered(line, state.get(line["sku"])))  # after every row: a crash loses none
            summary.append(line)
            print(
                f"{line['sku'] or f'row {number}'}: {line['status']}"
                + (f" ({line['error']})" if line["error"] else "")
                + (f" [{line['compliance']}]" if line["compliance"] else ""),
                file=sys.stderr,
                flush=True,
            )
    write_summary(args.output / SUMMARY, SUMMARY_COLUMNS, summary, ours=("output",))
    ended = {status: sum(1 for s in summary if s["status"] == status) for status in ("completed", "skipped", "failed")}
    print(  # what each row did, counted as the desktop's catalogue dialog counts it
        f"{counted(len(summary), 'row')}: {ended['completed']} rendered, {ended['skipped']} unchanged, "
        f"{ended['failed']} failed; summary in {args.output / SUMMARY}",
        file=sys.stderr,
    )
    return 1 if ended["failed"] else 0


def _remembered(line: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """The journal's line for a row: a failed row keeps the output name an earlier run wrote for its SKU, so the
    next run may still replace that file (the summary shows the failed row without it)."""
    if line["status"] == "failed" and before and before.get("output"):
        return {**line, "output": before["output"]}
    return line


def _one_row(
    number: int,
    row: dict[str, Any],
    defaults: dict[str, Any],
    args: argparse.Namespace,
    res: Any,
    engines: Any,
    finisher: Any,
    state: BatchState,
    names: OutputNames,
    guard: OutputGuard,
) -> dict[str, Any]:
    line: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS, "")
    sku = str(row.get("sku", "")).strip()
    line["sku"] = sku
    try:
        if not sku:
            raise InvalidRequest(f"row {number} has no sku.")
        try:
            name = names.claim(sku)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        image = str(row.get("image", "")).strip()
        if not image:
            raise InvalidRequest(f"sku {sku!r} has no image.")
        fields = {**defaults, **{k: v for k, v in row.items() if k not in ("sku", "image")}}
        resolved = resolve(fields, res.presets, res.settings)
        data = _load(image, args.manifest.parent, res)
        where = fields.get("background_image")
        background = _load(str(where), args.manifest.parent, res, "background_image") if where else None
        input_hash = hashlib.sha256(data + (background or b"")).hexdigest()
        key = json.dumps(
            [resolved.style, resolved.aspect_ratio, resolved.seed, resolved.options, __version__],
            sort_keys=True,
            default=str,
        )
        options_hash = hashlib.sha256(key.encode()).hexdigest()
        line.update(input_sha256=input_hash, options_sha256=options_hash)
        before = state.get(sku)
        if (
            before
            and before.get("input_sha256") == input_hash
            and before.get("options_sha256") == options_hash
            and before.get("status") == "completed"
            and (args.output / before.get("output", "")).is_file()
        ):
            return {**before, "status": "skipped"}
        fields, image_bytes = _render(data, background, name, resolved, res, engines, finisher)
        guard.check([fields["output"]])
        # the name is claimed in the journal before the file exists: a kill between the two leaves a journal
        # that still knows the file as this catalogue's, and the next run replaces it (B17-5)
        state.record({**line, **fields, "status": "writing"})
        guard.write(fields["output"], image_bytes)
        line.update(fields)
        line["status"] = "completed"
    except (AppError, OSError) as exc:
        line.update(status="failed", error=exc.message if isinstance(exc, AppError) else os_error_words(exc))
    except Exception as exc:  # one broken row must not lose the catalogue: report it and go on
        line.update(status="failed", error=internal_error(exc))
    return line


def _local_inputs(rows: list[dict[str, Any]], base: Path) -> list[Path]:
    """The local files the rows read (images and background images; URLs are not files), as ``_load`` finds them."""
    named = (str(row.get(field) or "").strip() for row in rows for field in ("image", "background_image"))
    paths = (Path(text).expanduser() for text in named if text and not re.match(r"^https?://", text, re.I))
    return [path if path.is_absolute() else base / path for path in paths]


def _load(image: str, base: Path, res: Any, field: str = "image") -> bytes:
    """The bytes of a local path (relative to ``base``) or of an http(s) URL (the appliance's SSRF-safe fetcher)."""
    if re.match(r"^https?://", image, re.I):
        import anyio

        from ..jobs.intake import load_image

        return anyio.run(load_image, res, image, field)
    path = Path(image).expanduser()
    what = f"{field.replace('_', ' ')} file"
    try:
        return read_bounded(path if path.is_absolute() else base / path, res.settings.max_image_bytes, what)
    except OSError as exc:
        raise InvalidRequest(os_error_words(exc, what)) from None  # in words


def plates_for(res: Any, background: bytes | None, options: Any) -> Any:
    """The plates a local render may stand on: ``background`` (image bytes, through the door check), the plate
    ``options.backdrop`` names, or the operator's shared plates (the CLI acts as no API key)."""
    from ..errors import ImageTooLarge
    from ..imaging.decode import decode_image
    from ..jobs.backdrops import StoredPlates, check_plate_file, refuse_transparent

    image = None
    if background is not None:
        settings = res.settings
        try:
            check_plate_file(background)  # what the API's door refuses for a plate, the command refuses too
            image = decode_image(background, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
            refuse_transparent(image.image)
        except (ImageTooLarge, UnsupportedImage, InvalidRequest) as exc:
            raise type(exc)(f"background_image: {exc.message}") from exc
    given = (image.image, background) if image is not None and background is not None else None
    return StoredPlates(res, None, background=given, backdrop=options.backdrop)


def _render(
    data: bytes,
    background: bytes | None,
    name: str,
    resolved: Resolved,
    res: Any,
    engines: Any,
    finisher: Any,
) -> tuple[dict[str, Any], bytes]:
    """The row's summary fields (``output``: the file name to write) and the output file's bytes."""
    from ..imaging.decode import decode_image
    from ..imaging.smallest import check_photo_size
    from ..jobs.runner import options_for_engine

    settings = res.settings
    options = options_for_engine(
        resolved.options, resolved.style, resolved.aspect_ratio, resolved.seed, settings, presets=res.presets
    )
    engines.check_options(options, background_image=background is not None)
    decoded = decode_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    check_photo_size(decoded.source_size)
    result = engines.render(decoded.image, options, plates=plates_for(res, background, options))
    if result.needs_review and resolved.options.get("on_low_confidence") == "fail":
        reasons = "; ".join(r.message for r in result.review_reasons)
        raise UnsupportedImage(f"the result needs review (on_low_confidence: fail): {reasons}")
    finished = finisher.finish(
        result, product_photo=data, title=name, checks=resolved.checks, find_product=engines.find_product
    )
    result = finished.result  # finishing may flag it too (``file_size``)
    image = result.images[0]
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[image.mime]
    reports = finished.compliance
    fields = {
        "output": f"{name}.{ext}",
        "width": image.width,
        "height": image.height,
        "engine": result.engine,
        "needs_review": result.needs_review,
        "review_reasons": "; ".join(r.code for r in result.review_reasons),
        "compliance": "; ".join(f"{r['preset']}:{'pass' if r['passed'] else 'fail'}" for r in reports),
        "failed_rules": "; ".join(
            f"{r['preset']}:{rule['rule']}" for r in reports for rule in r["rules"] if not rule["passed"]
        ),
    }
    return fields, image.data
