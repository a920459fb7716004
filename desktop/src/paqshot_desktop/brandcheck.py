"""Brand validator, the ``-brand`` console script: ``check DIR [--json] [--strict]`` (pure Python, no Qt).

Checks a brand folder before it is built into a bundle: every key the app reads is set (the built-in defaults are
the reference brand's identity, so a missing key leaks it), assets parse and are big enough, colours are
``#RRGGBB``, every text/background pair the theme paints passes WCAG AA, URLs and names are well formed. Each
problem comes with its fix; the exit status is 1 when there is an error (or a warning, with ``--strict``).

Contrast rules (the pairs are those ``theme.py`` paints; see docs/packaging.md):

* 4.5:1 (AA, normal text) for body text on every background, sidebar text, text on the accent (buttons,
  selection), the accent as text (links, "processing" status) and ``text_muted``: muted text is used at body
  size (status bar, table headers, hints), so the 3:1 large-text allowance does not apply to it.
* Status colours (success, warning, danger) drawn as text: under 3:1 is an error, under 4.5:1 a warning.
* Disabled controls and decorative borders are exempt (WCAG 1.4.3 and 1.4.11 exempt inactive components).
"""

from __future__ import annotations

import argparse
import colorsys
import io
import json
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .branding import COLOR_TOKENS, FONT_SUFFIXES, FONTS_FOLDER, Brand, BrandError, ServerIdentity, load_brand
from .fontfiles import font_families, installed_font_families
from .labels import counted

Severity = Literal["error", "warning"]
FontLister = Callable[[], "set[str] | None"]

# Brand fields whose brand.toml key differs from the field name; fields not under [app] are excluded.
_APP_KEY_OF_FIELD = {"app_name": "name", "about_text": "about", "icon_path": "icon", "logo_path": "logo"}
_NOT_APP_FIELDS = {"id", "colors", "features", "server", "folder"}
APP_KEYS: tuple[str, ...] = tuple(
    _APP_KEY_OF_FIELD.get(f.name, f.name) for f in fields(Brand) if f.name not in _NOT_APP_FIELDS
)
SERVER_KEYS: tuple[str, ...] = tuple(f.name for f in fields(ServerIdentity))

AA_TEXT = 4.5
AA_LARGE = 3.0
# (foreground token, background token, what the theme paints with it): held to 4.5:1.
TEXT_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("text", "window", "page text"),
    ("text", "surface", "text in cards, fields, buttons and tables"),
    ("text", "surface_alt", "text on alternate rows and the drop zone"),
    ("text_muted", "window", "muted labels on pages"),
    ("text_muted", "surface", "status bar, placeholders and hints"),
    ("text_muted", "surface_alt", "table headers"),
    ("sidebar_text", "sidebar", "sidebar navigation"),
    ("accent_text", "accent", "primary buttons, selected sidebar item, selection"),
    ("accent", "window", "links"),
    ("accent", "surface", "'processing' status in the jobs table"),
)
STATUS_PAIRS: tuple[tuple[str, str, str], ...] = tuple(
    (status, background, f"{status} messages and job states")
    for status in ("success", "warning", "danger")
    for background in ("window", "surface")
)
ICON_MIN_PX = 256
LOGO_MIN_HEIGHT_PX = 112  # shown 56 px high in the about dialog; twice that for HiDPI screens

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_HOST = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")
_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "id": (re.compile(r"^[a-z0-9][a-z0-9-]*$"), "lower-case letters, digits and dashes, e.g. acme-photo"),
    "server.slug": (re.compile(r"^[a-z][a-z0-9-]*$"), "lower-case letters, digits and dashes, e.g. acme"),
    "server.env_prefix": (re.compile(r"^[A-Z][A-Z0-9_]*_$"), "upper-case, ending in '_', e.g. ACME_"),
    "server.key_prefix": (re.compile(r"^[a-z][a-z0-9_]*_$"), "lower-case, ending in '_', e.g. acme_live_"),
    "server.webhook_secret_prefix": (re.compile(r"^[a-z][a-z0-9_]*_$"), "lower-case, ending in '_', e.g. acmesec_"),
    "server.signature_header": (re.compile(r"^X-[A-Za-z0-9-]+-Signature$"), "X-<Brand>-Signature"),
}
_LICENCE = re.compile(r"^(OFL|LICEN[CS]E|COPYING|COPYRIGHT)", re.IGNORECASE)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SVG_NS = "{http://www.w3.org/2000/svg}"
_SVG_SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "image", "use"}


@dataclass(frozen=True)
class Problem:
    """One finding: where (a brand.toml key or file), what is wrong and how to fix it."""

    severity: Severity
    where: str
    message: str
    fix: str


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB``."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#RRGGBB`` colours (1 to 21)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def suggest_foreground(foreground: str, backgrounds: Sequence[str], target: float) -> str | None:
    """The closest colour of the same hue that reaches ``target`` on every background (None when none does).

    Lightness moves away from the first background: darker on a light one, lighter on a dark one.
    """
    r, g, b = (int(foreground[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    step = -0.01 if relative_luminance(backgrounds[0]) > 0.18 else 0.01
    while 0.0 <= lightness <= 1.0:
        rgb = colorsys.hls_to_rgb(hue, lightness, saturation)
        candidate = "#" + "".join(f"{round(c * 255):02x}" for c in rgb)
        if min(contrast_ratio(candidate, background) for background in backgrounds) >= target:
            return candidate
        lightness += step
    return None


def _read_toml(file: Path) -> tuple[dict[str, Any], list[Problem]]:
    if not file.is_file():
        return {}, [Problem("error", str(file), "brand.toml not found", "copy the reference brand folder and edit it")]
    try:
        return tomllib.loads(file.read_text(encoding="utf-8")), []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [Problem("error", str(file), f"cannot be read: {exc}", "fix the TOML syntax (UTF-8 text)")]


def _table(data: dict[str, Any], name: str) -> tuple[dict[str, Any], list[Problem]]:
    value = data.get(name, {})
    if isinstance(value, dict):
        return value, []
    return {}, [Problem("error", f"[{name}]", "must be a table", f"write it as a [{name}] section")]


def _missing_and_unknown(
    table: dict[str, Any], section: str, keys: Sequence[str], optional: Sequence[str] = ()
) -> list[Problem]:
    """Every key must be set (the defaults are the reference identity); unknown keys are likely typos."""
    problems = [
        Problem(
            "error",
            f"{section}.{key}",
            "is not set",
            f"set {key} in [{section}]; unset keys fall back to the"
            " reference brand's value, which would show another brand's identity",
        )
        for key in keys
        if key not in table
    ]
    problems += [
        Problem("warning", f"{section}.{key}", "is not a key the app reads", f"check the spelling ({', '.join(keys)})")
        for key in table
        if key not in keys and key not in optional
    ]
    return problems


def _check_colors(colors: dict[str, Any]) -> tuple[dict[str, str], list[Problem]]:
    valid: dict[str, str] = {}
    problems = _missing_and_unknown(colors, "colors", COLOR_TOKENS)
    for key, value in colors.items():
        if key in COLOR_TOKENS and isinstance(value, str) and _HEX.match(value):
            valid[key] = value.lower()
        elif key in COLOR_TOKENS:
            problems.append(
                Problem("error", f"colors.{key}", f"{value!r} is not a colour", 'write it as "#RRGGBB", e.g. "#1a2b3c"')
            )
    return valid, problems


def _contrast_problem(fg: str, bg: str, use: str, colors: dict[str, str], target: float, severity: Severity) -> Problem:
    ratio = contrast_ratio(colors[fg], colors[bg])
    # One suggestion that works on every background this foreground is painted on.
    backgrounds = [bg] + [colors[b] for f, b, _ in TEXT_PAIRS + STATUS_PAIRS if f == fg and b != bg and b in colors]
    better = suggest_foreground(colors[fg], [colors[bg], *backgrounds[1:]], target)
    fix = f"set {fg} to {better}" if better else f"change {bg} or {fg}"
    return Problem(
        severity,
        f"colors.{fg} on colors.{bg}",
        f"contrast {ratio:.2f}:1 ({colors[fg]} on {colors[bg]}, {use}) is below {target}:1 (WCAG AA)",
        f"{fix} (or move {bg} further from it)",
    )


def check_contrast(colors: dict[str, str]) -> list[Problem]:
    """WCAG AA contrast of every text/background pair the theme paints (pairs with an invalid colour skipped)."""
    problems = []
    for fg, bg, use in TEXT_PAIRS:
        if fg in colors and bg in colors and contrast_ratio(colors[fg], colors[bg]) < AA_TEXT:
            problems.append(_contrast_problem(fg, bg, use, colors, AA_TEXT, "error"))
    for fg, bg, use in STATUS_PAIRS:
        if fg in colors and bg in colors:
            ratio = contrast_ratio(colors[fg], colors[bg])
            if ratio < AA_LARGE:
                problems.append(_contrast_problem(fg, bg, use, colors, AA_TEXT, "error"))
            elif ratio < AA_TEXT:
                problems.append(_contrast_problem(fg, bg, use, colors, AA_TEXT, "warning"))
    return problems


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG after Pillow checked every chunk's CRC and decoded the pixels in full.

    Raises:
        ValueError: not a PNG, or a damaged one (the message says what is wrong).
    """
    from PIL import Image, UnidentifiedImageError

    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG file (bad signature)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # every chunk's CRC
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # the pixels decompress in full (a truncated file fails here)
            return image.size
    except (UnidentifiedImageError, SyntaxError, OSError, ValueError) as exc:
        raise ValueError(f"damaged PNG (bad CRC or truncated data): {exc}") from exc


def svg_size(data: bytes) -> tuple[float, float]:
    """Width and height of an SVG (from viewBox, else width/height) after checking that it parses and draws.

    Raises:
        ValueError: not an SVG, unparsable, or nothing to draw.
    """
    try:
        root = ET.fromstring(data)  # noqa: S314 (the partner's own file; expat limits entity expansion)
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from exc
    if root.tag not in (f"{_SVG_NS}svg", "svg"):
        raise ValueError(f"root element is <{root.tag}>, not <svg>")
    if not any(el.tag.removeprefix(_SVG_NS) in _SVG_SHAPES for el in root.iter()):
        raise ValueError("draws nothing (no path, shape, text or image element)")
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        if len(box) == 4:
            return float(box[2]), float(box[3])
        return float(re.sub(r"px$", "", root.get("width", ""))), float(re.sub(r"px$", "", root.get("height", "")))
    except ValueError as exc:
        raise ValueError("has no usable viewBox or width/height") from exc


def _image_size(path: Path) -> tuple[float, float]:
    """Size of a PNG or SVG file (ValueError when unreadable or another format)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot be read: {exc.strerror}") from exc
    suffix = path.suffix.lower()
    if suffix == ".png":
        return png_size(data)
    if suffix == ".svg":
        return svg_size(data)
    raise ValueError(f"{suffix or 'no extension'} is not supported")


def check_asset(folder: Path, app: dict[str, Any], key: str) -> list[Problem]:
    """The icon (square, PNG of at least 256 px or SVG) or logo (PNG/SVG, PNG at least 112 px high)."""
    where, name = f"app.{key}", app.get(key)
    if not isinstance(name, str) or not name:
        return []  # reported as a missing key
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        return [Problem("error", where, f"{name} is outside the brand folder", "copy the file into the brand folder")]
    if not path.is_file():
        return [Problem("error", where, f"{name} not found in {folder}", f"add {name} to the folder or fix the name")]
    try:
        width, height = _image_size(path)
    except ValueError as exc:
        return [Problem("error", where, f"{name}: {exc}", "export it again as PNG or SVG (SVG preferred)")]
    vector = path.suffix.lower() == ".svg"
    if key == "icon" and abs(width - height) > 0.01 * max(width, height):
        return [Problem("error", where, f"{name} is {width:g}x{height:g}, not square", "make the canvas square")]
    if key == "icon" and not vector and width < ICON_MIN_PX:
        return [Problem("error", where, f"{name} is {width:g}x{height:g} px", f"use at least {ICON_MIN_PX} px or SVG")]
    if key == "logo" and not vector and height < LOGO_MIN_HEIGHT_PX:
        return [
            Problem("warning", where, f"{name} is {height:g} px high", f"use at least {LOGO_MIN_HEIGHT_PX} px or SVG")
        ]
    return []


def check_url(where: str, value: Any, server: bool = False) -> list[Problem]:
    """A public link (https preferred) or, with ``server``, the appliance's base URL (http or https, a port)."""
    example = "http://127.0.0.1:8000" if server else "https://example.com/support"
    if not isinstance(value, str):
        return []  # reported by load_brand
    parts = urlsplit(value)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or any(c.isspace() for c in value):
        return [Problem("error", where, f"{value!r} is not a valid URL", f"write a full URL, e.g. {example}")]
    if server and parts.path not in ("", "/"):
        return [Problem("error", where, f"{value!r} has a path", "give only scheme, host and port")]
    if not server and parts.scheme != "https":
        return [Problem("warning", where, f"{value!r} is not https", "use an https:// address")]
    return []


def check_identity(data: dict[str, Any], app: dict[str, Any], server: dict[str, Any], folder: Path) -> list[Problem]:
    """Names, domains and prefixes: formats the app, the bundle and the server rely on."""
    problems: list[Problem] = []
    values = {"id": data.get("id", folder.name)} | {f"server.{k}": v for k, v in server.items()}
    for where, (pattern, hint) in _FORMATS.items():
        value = values.get(where)
        if isinstance(value, str) and not pattern.match(value):
            problems.append(Problem("error", where, f"{value!r} is not valid", f"use {hint}"))
    name = app.get("name")
    if isinstance(name, str) and (not name.strip() or re.search(r"[/\\:*?\"<>|\x00-\x1f]", name)):
        problems.append(Problem("error", "app.name", f"{name!r} cannot name the bundle", "use letters, digits, spaces"))
    domain = app.get("organisation_domain")
    if isinstance(domain, str) and not _HOST.match(domain):
        problems.append(Problem("error", "app.organisation_domain", f"{domain!r} is not a domain", "e.g. example.com"))
    for key in ("font_family", "tagline", "about", "organisation"):
        if isinstance(app.get(key), str) and not app[key].strip():
            problems.append(Problem("error", f"app.{key}", "is empty", f"set {key} to the text the app should show"))
    for key in ("support_url", "website_url", "default_server_url"):
        problems += check_url(f"app.{key}", app.get(key), server=key == "default_server_url")
    problems += check_url("server.website", server.get("website"))
    return problems


def check_reference_leaks(brand: Brand) -> list[Problem]:
    """A partner brand that still carries the reference brand's names (copied and not edited)."""
    reference = Brand()
    if brand.id == reference.id:
        return []
    same = [
        (where, ours)
        for where, ours, theirs in (
            ("app.name", brand.app_name, reference.app_name),
            ("app.organisation", brand.organisation, reference.organisation),
            ("app.organisation_domain", brand.organisation_domain, reference.organisation_domain),
            ("app.website_url", brand.website_url, reference.website_url),
            ("app.support_url", brand.support_url, reference.support_url),
            ("server.product_name", brand.server.product_name, reference.server.product_name),
            ("server.signature_header", brand.server.signature_header, reference.server.signature_header),
        )
        if ours == theirs
    ]
    return [Problem("warning", w, f"{v!r} is the reference brand's value", "set your own") for w, v in same]


def check_font(folder: Path, family: Any, installed: FontLister = installed_font_families) -> list[Problem]:
    """The font the app asks for is shipped in ``fonts/`` (readable, with its licence) or installed here.

    Qt silently substitutes a family it does not know, so a named font that is neither bundled nor installed is a
    warning; ``installed`` lists the machine's families (None when it cannot tell), injectable for tests.
    """
    problems: list[Problem] = []
    bundled: set[str] = set()
    font_dir = folder / FONTS_FOLDER
    files = [p for p in sorted(font_dir.iterdir()) if p.is_file()] if font_dir.is_dir() else []
    for path in files:
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        try:
            bundled |= {name.lower() for name in font_families(path.read_bytes())}
        except (OSError, ValueError) as exc:
            where = f"{FONTS_FOLDER}/{path.name}"
            problems.append(Problem("error", where, f"cannot be used: {exc}", "replace it with a TTF or OTF file"))
    if any(p.suffix.lower() in FONT_SUFFIXES for p in files) and not any(_LICENCE.match(p.name) for p in files):
        problems.append(
            Problem(
                "error",
                f"{FONTS_FOLDER}/",
                "ships fonts without their licence",
                "add the licence file of the fonts beside them (e.g. OFL.txt); fonts may only be bundled with it",
            )
        )
    if not isinstance(family, str) or not family.strip():
        return problems  # reported as unset or empty
    wanted = family.strip().lower()
    if bundled and wanted not in bundled:
        problems.append(
            Problem(
                "warning",
                "app.font_family",
                f"{family!r} is not one of the fonts in {FONTS_FOLDER}/ ({', '.join(sorted(bundled))})",
                "set font_family to the family of the bundled files, or remove the unused files",
            )
        )
    elif not bundled and wanted not in (installed() or set()):
        problems.append(
            Problem(
                "warning",
                "app.font_family",
                f"{family!r} is not bundled in {FONTS_FOLDER}/ and not installed on this machine; "
                "Qt substitutes another font",
                f"put its TTF/OTF files and their licence in {FONTS_FOLDER}/ of the brand folder, or name a font "
                "that the set-up installs",
            )
        )
    return problems


def check_brand(folder: Path, installed_fonts: FontLister = installed_font_families) -> list[Problem]:
    """Every problem of a brand folder (or its brand.toml), errors first (``installed_fonts``: see check_font)."""
    folder = folder.parent if folder.is_file() else folder
    data, problems = _read_toml(folder / "brand.toml")
    if problems:
        return problems
    app, app_problems = _table(data, "app")
    server, server_problems = _table(data, "server")
    colors_table, colors_problems = _table(data, "colors")
    problems += app_problems + server_problems + colors_problems
    problems += _missing_and_unknown(data, "brand", ("id", "app", "colors", "server"), optional=("features",))
    problems += _missing_and_unknown(app, "app", APP_KEYS) + _missing_and_unknown(server, "server", SERVER_KEYS)
    colors, color_problems = _check_colors(colors_table)
    problems += color_problems + check_contrast(colors)
    problems += check_asset(folder, app, "icon") + check_asset(folder, app, "logo")
    problems += check_identity(data, app, server, folder)
    problems += check_font(folder, app.get("font_family"), installed_fonts)
    try:
        problems += check_reference_leaks(load_brand(folder))
    except BrandError as exc:
        # The app's own loader refuses the file; its message names the key (often already reported above).
        problems.append(Problem("error", "brand.toml", f"the app refuses it: {exc}", "fix the key named"))
    return sorted(problems, key=lambda p: p.severity != "error")


def render(folder: Path, problems: Sequence[Problem]) -> str:
    """Human-readable report: one problem per line with its fix below."""
    errors = sum(p.severity == "error" for p in problems)
    lines = [f"{p.severity.upper():8}{p.where}: {p.message}\n        fix: {p.fix}" for p in problems]
    summary = f"{folder}: {counted(errors, 'error')}, {counted(len(problems) - errors, 'warning')}"
    return "\n".join([*lines, summary if problems else f"{folder}: ok"])


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (the program name is the console script's, so no product name is spelled here)."""
    parser = argparse.ArgumentParser(description="Check a desktop brand folder.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a brand folder (brand.toml + assets)")
    check.add_argument("folder", type=Path, help="brand folder, e.g. packaging/brands/<id>")
    check.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    problems = check_brand(args.folder)
    errors = sum(p.severity == "error" for p in problems)
    failed = errors > 0 or (args.strict and bool(problems))
    if args.json:
        report = {
            "folder": str(args.folder),
            "ok": not failed,
            "errors": errors,
            "warnings": len(problems) - errors,
            "problems": [asdict(p) for p in problems],
        }
        print(json.dumps(report, indent=2))
    else:
        print(render(args.folder, problems))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
