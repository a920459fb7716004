"""``generate``: render images from local files in one process, as the API would.

Every request field of the API (extensions included) is a flag of the same name. Each file is decoded
with the same door check as the API (settings' size and pixel limits) and rendered through the engine
registry, so any style that is installed works here too.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ..errors import AppError
from ..imaging.options import (
    ASPECT_RATIOS,
    LOCATIONS,
    OUTPUT_FORMATS,
    PEOPLE,
    SCENE_TYPES,
    SHADOWS,
    STYLES,
    RenderOptions,
)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def register(subparsers: Any) -> None:
    """Add the ``generate`` parser."""
    p = subparsers.add_parser(
        "generate",
        help="render product images from local files (many files, one process)",
        description=__doc__,
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", type=Path, help="product photos (JPEG, PNG, WebP)")
    p.add_argument(
        "-o",
        "--output",
        "--out",
        dest="output",
        type=Path,
        required=True,
        metavar="OUTDIR",
        help="folder for the results (created if missing)",
    )
    p.add_argument("--style", choices=STYLES, default="studio_packshot")
    p.add_argument("--scene-type", choices=SCENE_TYPES, default="auto")
    p.add_argument(
        "--background",
        default=None,
        help="white | off_white | light_gray | black | #RRGGBB | transparent (default white)",
    )
    p.add_argument("--aspect-ratio", choices=ASPECT_RATIOS, default="1:1")
    p.add_argument("--people", choices=PEOPLE, default="none")
    p.add_argument("--location", choices=LOCATIONS, default=None)
    p.add_argument("--prompt", default=None)
    p.add_argument("--negative-prompt", default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--shadow", choices=SHADOWS, default="soft")
    p.add_argument("--reflection", action=argparse.BooleanOptionalAction, default=False, help="add a floor reflection")
    p.add_argument(
        "--padding",
        type=float,
        default=None,
        help="margin: ratio of the short side (< 1) or pixels (>= 1); default: product fills ~82%%",
    )
    p.add_argument(
        "--output-format", choices=OUTPUT_FORMATS, default=None, help="default jpeg, png for a transparent background"
    )
    p.add_argument("--num-variants", type=int, default=1)
    p.add_argument("--long-side", type=int, default=None, help="output long side in px (default: settings)")
    p.add_argument("--jpeg-quality", type=int, default=None, help="default: settings")
    p.add_argument(
        "--save-matte",
        action="store_true",
        help="also write each cut-out as a greyscale PNG at input resolution (<stem>.matte.png)",
    )
    p.add_argument("--thumbnails", action="store_true", help="also write <stem>.thumb.<ext>")
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace, long_side: int, jpeg_quality: int) -> RenderOptions:
    """The RenderOptions a set of parsed flags asks for."""
    return RenderOptions(
        style=args.style,
        scene_type=args.scene_type,
        background=args.background,
        aspect_ratio=args.aspect_ratio,
        people=args.people,
        location=args.location,
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        seed=args.seed,
        shadow=args.shadow,
        reflection=args.reflection,
        padding=args.padding,
        output_format=args.output_format,
        num_variants=args.num_variants,
        long_side=args.long_side or long_side,
        jpeg_quality=args.jpeg_quality or jpeg_quality,
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


def run(args: argparse.Namespace) -> int:
    """Render every input; exit 0 when all succeeded, 1 when any failed, 2 on bad options."""
    from ..engines import Engines
    from ..imaging.decode import decode_image
    from ..settings import load_settings

    settings = load_settings()
    options = options_from_args(args, settings.output_long_side, settings.jpeg_quality)
    engines = Engines(settings)
    try:
        engines.check_options(options)
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(args.images), sys.stderr)
    failed = 0
    for path in args.images:
        started = time.perf_counter()
        try:
            data = path.read_bytes()
            decoded = decode_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
            result = engines.render(decoded.image, options)
            written = _write(result, path, args)
        except (AppError, OSError) as exc:
            failed += 1
            message = exc.message if isinstance(exc, AppError) else str(exc)
            progress.error(f"{path}: failed: {message}")
            continue
        except Exception as exc:  # a bug on one file must not lose the rest of the batch: report it
            failed += 1
            progress.error(f"{path}: failed: internal error ({type(exc).__name__}: {exc})")
            continue
        ms = (time.perf_counter() - started) * 1000
        notes = "; ".join((*decoded.notes, *result.notes))
        conf = f", confidence {result.confidence:.2f}" if result.confidence is not None else ""
        progress.report(
            f"{path} -> {written[0]} ({result.images[0].width}x{result.images[0].height}, "
            f"{result.engine}{conf}, {ms:.0f} ms){f' [{notes}]' if notes else ''}"
        )
    if failed:
        print(f"{failed} of {len(args.images)} failed", file=sys.stderr)
    return 1 if failed else 0


def _write(result: Any, path: Path, args: argparse.Namespace) -> list[Path]:
    stem = path.stem
    written: list[Path] = []
    many = len(result.images) > 1
    for i, image in enumerate(result.images, start=1):
        ext = EXTENSIONS[image.mime]
        name = f"{stem}_{i}" if many else stem
        target = args.output / f"{name}.{ext}"
        target.write_bytes(image.data)
        written.append(target)
        if args.thumbnails:
            (args.output / f"{name}.thumb.{EXTENSIONS[image.thumbnail_mime]}").write_bytes(image.thumbnail)
    if args.save_matte:
        matte = result.meta.get("matte")
        if matte is None:
            raise OSError(f"engine {result.engine} returned no matte for --save-matte")
        matte.save(args.output / f"{stem}.matte.png", "PNG")
    return written
