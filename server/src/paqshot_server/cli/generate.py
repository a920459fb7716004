"""``generate``: render images from local files in one process, as the API would.

Every request field of the API (extensions included) is a flag of the same name. Each file is decoded
with the same door check as the API (settings' size and pixel limits) and rendered through the engine
registry, so any style that is installed works here too.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..errors import AppError, CutoutRefused, InvalidRequest, UnsupportedImage
from ..imaging.options import (
    ASPECT_RATIOS,
    AUTO_CUTOUT,
    OUTPUT_FORMATS,
    PEOPLE,
    SCENE_TYPES,
    SHADOWS,
    STYLES,
    RenderOptions,
    cutout_choice,
)
from .common import internal_error, os_error_words, read_bounded
from .outputfiles import OutputGuard, distinct_stems

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def register(subparsers: Any) -> None:
    """Add the ``generate`` parser."""
    p = subparsers.add_parser(
        "generate",
        help="render product images from local files (many files, one process)",
        description=__doc__,
    )
    p.add_argument("images", nargs="*", metavar="IMAGE", type=Path, help="product photos (JPEG, PNG, WebP)")
    p.add_argument(
        "--manifest",
        type=Path,
        default=None,
        metavar="FILE",
        help="a catalogue (CSV or JSON: sku, image path or URL, preset, options): outputs named by SKU, a "
        "summary.csv, unchanged rows skipped on a re-run",
    )
    p.add_argument(
        "-o",
        "--output",
        "--out",
        dest="output",
        type=Path,
        required=True,
        metavar="OUTDIR",
        help="folder for the results (created if missing); a file already there is not replaced without "
        "--overwrite, an input never",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files already in OUTDIR that this run did not make (never an input of the run)",
    )
    doc = _field_help()
    p.add_argument("--style", choices=STYLES, default="studio_packshot", help=doc["style"])
    p.add_argument("--scene-type", choices=SCENE_TYPES, default="auto", help=doc["scene_type"])
    p.add_argument("--background", default=None, help=doc["background"])
    p.add_argument("--aspect-ratio", choices=ASPECT_RATIOS, default=None, help=doc["aspect_ratio"])
    p.add_argument("--people", choices=PEOPLE, default="none", help=doc["people"])
    p.add_argument("--location", default=None, metavar="TEXT", help=doc["location"])
    p.add_argument("--prompt", default=None, metavar="TEXT", help=doc["prompt"])
    p.add_argument("--negative-prompt", default=None, metavar="TEXT", help=doc["negative_prompt"])
    p.add_argument("--seed", type=int, default=None, help=doc["seed"])
    p.add_argument("--shadow", choices=SHADOWS, default=None, help=doc["shadow"])
    p.add_argument("--reflection", action=argparse.BooleanOptionalAction, default=None, help=doc["reflection"])
    p.add_argument("--preset", default=None, metavar="ID", help=doc["preset"])
    p.add_argument("--compliance-check", nargs="+", default=None, metavar="ID", help=doc["compliance_check"])
    p.add_argument("--padding", type=float, default=None, help=doc["padding"])
    p.add_argument("--output-format", choices=OUTPUT_FORMATS, default=None, help=doc["output_format"])
    p.add_argument("--num-variants", type=int, default=1, help=doc["num_variants"])
    p.add_argument(
        "--long-side",
        type=_extra_field("long_side"),
        default=None,
        metavar="PX",
        help="long side of the output in px (default: the output_long_side setting, and within its bounds)",
    )
    p.add_argument(
        "--jpeg-quality",
        type=_extra_field("jpeg_quality"),
        default=None,
        metavar="Q",
        help="JPEG quality (default: the jpeg_quality setting, and within its bounds)",
    )
    p.add_argument(
        "--save-matte",
        action="store_true",
        help="also write each cut-out as a greyscale PNG at input resolution (<stem>.matte.png)",
    )
    p.add_argument("--thumbnails", action="store_true", help="also write <stem>.thumb.<ext>")
    p.add_argument(
        "--cutout-engine",
        default=AUTO_CUTOUT,
        type=cutout_choice,
        metavar="ENGINE",
        help="auto (best installed model, else classical) | classical | an installed cut-out model id "
        "(or onnx:<id>, as results name it)",
    )
    p.add_argument(
        "--on-low-confidence",
        choices=("complete", "fail"),
        default="complete",
        help="a result that needs review: write it and flag it (complete), or count it as failed (fail)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per input on stdout: file, outputs, engine, confidence, needs_review, "
        "review_reasons, timings_ms (or error)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help=f"exit {EXIT_NEEDS_REVIEW} when a result needs review (it is still written); a failure still exits 1",
    )
    p.add_argument("--mask-hint", type=Path, default=None, metavar="PNG", help=doc["mask_hint"] + " One IMAGE only.")
    p.add_argument(
        "--background-image", default=None, metavar="FILE|URL", help=doc["background_image"] + " A path here."
    )
    p.add_argument(
        "--backdrop", default=None, metavar="ID", help=doc["backdrop"] + " Here: the operator's shared plates."
    )
    p.add_argument(
        "--placement", type=_placement, default=None, metavar="x=..,y=..,scale=..,floor_y=..", help=doc["placement"]
    )
    p.add_argument("--harmonize", action=argparse.BooleanOptionalAction, default=None, help=doc["harmonize"])
    p.add_argument("--background-blur", type=float, default=None, metavar="0..1", help=doc["background_blur"])
    p.add_argument(
        "--remove-photo-shadow", action=argparse.BooleanOptionalAction, default=None, help=doc["remove_photo_shadow"]
    )
    p.set_defaults(func=run)


def _extra_field(name: str) -> Callable[[str], int]:
    """An argparse type for the manifest's extra field ``name`` (``catalogue.extra_value``): outside the bounds of
    the setting it overrides, argparse refuses it (exit 2) before anything is rendered."""
    from .catalogue import extra_value

    def parse(text: str) -> int:
        try:
            return extra_value(name, text)
        except InvalidRequest as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    return parse


def _placement(text: str) -> dict[str, float]:
    from .catalogue import parse_placement

    try:
        return parse_placement(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _field_help() -> dict[str, str]:
    """Help of each request-field flag: the API field's own description (one text for the API docs and the CLI)."""
    from ..api.wire import request_fields

    docs = {f.name: f.description.removeprefix("Extension: ").replace("%", "%%") for f in request_fields()}
    return {name: text[:1].upper() + text[1:] for name, text in docs.items()}


def options_from_args(args: argparse.Namespace, settings: Any, presets: Any) -> tuple[RenderOptions, list[str]]:
    """The RenderOptions a set of parsed flags asks for (preset applied, flags given win) and the presets the
    compliance report covers. Raises InvalidRequest like the API would."""
    from ..jobs.runner import options_for_engine
    from .catalogue import flag_fields, resolve

    resolved = resolve(flag_fields(args), presets, settings)
    return (
        options_for_engine(
            resolved.options, resolved.style, resolved.aspect_ratio, resolved.seed, settings, presets=presets
        ),
        resolved.checks,
    )


class Progress:
    """A one-line bar on a terminal; one line per file otherwise (logs, pipes, CI)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty()

    def report(self, line: str) -> None:
        self.done += 1
        if not self.tty:
            print(line, file=self.stream, flush=True)
            return
        width = 30
        filled = round(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r\x1b[2K[{bar}] {self.done}/{self.total} {line[:80]}", end="", file=self.stream, flush=True)
        if self.done == self.total:
            print(file=self.stream, flush=True)

    def error(self, line: str) -> None:
        if self.tty:
            print("\r\x1b[2K", end="", file=self.stream)
        print(line, file=self.stream, flush=True)


EXIT_NEEDS_REVIEW = 3  # with --strict; 1 (a failure) and 2 (bad options) take precedence


def run(args: argparse.Namespace) -> int:
    """Render every input; exit 0 when all succeeded, 1 when any failed, 2 on bad options, 3 (``--strict``) when
    a result needs review."""
    from ..engines import LocalResources
    from ..imaging.presets import PresetError
    from ..settings import load_settings
    from .catalogue import plates_for, run_manifest

    if args.manifest is not None:
        return run_manifest(args)
    if not args.images:
        print("error: name product photos (IMAGE ...) or a catalogue (--manifest FILE)", file=sys.stderr)
        return 2
    if args.mask_hint is not None and len(args.images) != 1:
        print("error: --mask-hint is drawn for one photo: name exactly one IMAGE", file=sys.stderr)
        return 2
    settings = load_settings()
    res = LocalResources(settings)
    engines = res.engines
    try:
        options, checks = options_from_args(args, settings, res.presets)
        engines.check_options(options, background_image=args.background_image is not None)
        engines.check_cutout_engine(options.cutout_engine)
        plates = plates_for(res, _background(args, res), options)
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except PresetError as exc:
        print(f"error: preset: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {os_error_words(exc, 'background image')}", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(args.images), sys.stderr)
    guard = OutputGuard(args.output, [*args.images, *filter(None, [args.mask_hint])], overwrite=args.overwrite)
    failed = review = 0
    for path, stem in zip(args.images, distinct_stems(args.images), strict=True):
        record = _render_one(path, stem, args, res, options, checks, progress, guard, plates)
        failed += "error" in record
        review += bool(record.get("needs_review"))
        if args.json:
            print(json.dumps(record), flush=True)
    if failed:
        print(f"{failed} of {len(args.images)} failed", file=sys.stderr)
    if review and args.strict:
        print(f"{review} of {len(args.images)} need review (--strict)", file=sys.stderr)
    return 1 if failed else EXIT_NEEDS_REVIEW if review and args.strict else 0


def _background(args: argparse.Namespace, res: Any) -> bytes | None:
    """The bytes of ``--background-image`` (a path, or a URL fetched under the SSRF policy), once for all files."""
    if args.background_image is None:
        return None
    from .catalogue import _load

    return _load(args.background_image, Path.cwd(), res, "background_image")


def _render_one(
    path: Path,
    stem: str,
    args: argparse.Namespace,
    res: Any,
    options: RenderOptions,
    checks: list[str],
    progress: Progress,
    guard: OutputGuard,
    plates: Any = None,
) -> dict[str, Any]:
    """Render one file and write its outputs named ``stem…`` where ``guard`` allows (labelled: IPTC/XMP and
    Content Credentials); the JSON record of what happened (``error`` when it failed), with the compliance
    reports of ``checks``."""
    from ..imaging.decode import decode_image
    from ..imaging.hint import read_hint
    from ..imaging.smallest import check_photo_size

    engines, settings = res.engines, res.settings

    started = time.perf_counter()
    record: dict[str, Any] = {"file": str(path)}
    try:
        data = read_bounded(path, settings.max_image_bytes, "image file")
        decoded = decode_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
        check_photo_size(decoded.source_size)
        decode_ms = (time.perf_counter() - started) * 1000
        hint_bytes = read_bounded(args.mask_hint, settings.max_image_bytes, "mask hint") if args.mask_hint else None
        hint = read_hint(hint_bytes, decoded.image.size) if hint_bytes is not None else None
        result = engines.render(decoded.image, options, hint=hint, plates=plates)
        record.update(_review_record(result))
        if result.needs_review and args.on_low_confidence == "fail":
            reasons = "; ".join(r.message for r in result.review_reasons)
            raise UnsupportedImage(f"the result needs review (on_low_confidence: fail): {reasons}")
        finished = res.finisher.finish(
            result, product_photo=data, title=path.stem, checks=checks, find_product=engines.find_product
        )
        result = finished.result
        record.update(_review_record(result))  # finishing may flag it too (``file_size``)
        if finished.compliance:
            record["compliance"] = finished.compliance
        written = _write(result, stem, args, guard)
    except (AppError, OSError) as exc:
        code, message = (exc.code, exc.message) if isinstance(exc, AppError) else ("io_error", os_error_words(exc))
        if isinstance(exc, CutoutRefused):  # refused after the cut-out ran: which engine, how sure
            record.update(engine=exc.engine, cutout_engine=exc.cutout_engine, confidence=exc.confidence)
        progress.error(f"{path}: failed: {message}")
        return {**record, "error": {"code": code, "message": message}}
    except Exception as exc:  # a bug on one file must not lose the rest of the batch: report it
        message = internal_error(exc)
        progress.error(f"{path}: failed: {message}")
        return {**record, "error": {"code": "server_error", "message": message}}
    ms = (time.perf_counter() - started) * 1000
    timings = dict(result.meta.get("timings_ms") or {})
    record.update(outputs=[str(p) for p in written], timings_ms={**timings, "decode": round(decode_ms, 1)})
    record["timings_ms"]["total"] = round(ms, 1)
    # the API's ``notes``, in the same order (breaker15 B15-7: --json left them to the text on stderr)
    record["notes"] = [*decoded.notes, *result.notes]
    notes = "; ".join(record["notes"])
    conf = f", confidence {result.confidence:.2f}" if result.confidence is not None else ""
    # the reasons in words, as the API's review_reasons (breaker6, F3: the line said NEEDS REVIEW and no why)
    reasons = "; ".join(r.message for r in result.review_reasons)
    review = f" NEEDS REVIEW: {reasons}" if result.needs_review else ""
    review += "".join(f" {r['preset']}:{'pass' if r['passed'] else 'FAIL'}" for r in record.get("compliance", []))
    progress.report(
        f"{path} -> {written[0]} ({result.images[0].width}x{result.images[0].height}, "
        f"{result.engine}{conf}, {ms:.0f} ms){review}{f' [{notes}]' if notes else ''}"
    )
    return record


def _review_record(result: Any) -> dict[str, Any]:
    record = {
        "engine": result.engine,
        "cutout_engine": result.meta.get("cutout_engine"),
        "confidence": result.confidence,
        "needs_review": result.needs_review,
        "review_reasons": [r.as_dict() for r in result.review_reasons],
    }
    if isinstance(result.meta.get("backdrop"), dict):  # the plate it stands on and the gains applied to it
        record["backdrop"] = result.meta["backdrop"]
    return record


def _write(result: Any, stem: str, args: argparse.Namespace, guard: OutputGuard) -> list[Path]:
    """Write the result's files as ``stem…``; none of them when one name is refused (``OutputTaken``)."""
    files: list[tuple[str, bytes]] = []
    images: list[str] = []
    many = len(result.images) > 1
    for i, image in enumerate(result.images, start=1):
        name = f"{stem}_{i}" if many else stem
        images.append(f"{name}.{EXTENSIONS[image.mime]}")
        files.append((images[-1], image.data))
        if args.thumbnails:
            files.append((f"{name}.thumb.{EXTENSIONS[image.thumbnail_mime]}", image.thumbnail))
    if args.save_matte:
        matte = result.meta.get("matte")
        if matte is None:
            raise OSError(f"engine {result.engine} returned no matte for --save-matte")
        png = io.BytesIO()
        matte.save(png, "PNG")
        files.append((f"{stem}.matte.png", png.getvalue()))
    guard.check([name for name, _ in files])
    written = {name: guard.write(name, data) for name, data in files}
    return [written[name] for name in images]  # the images, as before (thumbnails and matte not listed)
