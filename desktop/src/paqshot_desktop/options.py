"""The generation form as data: which inputs to show and how to validate them (no Qt).

The input list comes from the appliance's ``GET /v1/capabilities``; only when an appliance does not offer
that extension does the form fall back to the fields the public v1 spec documents. Validation mirrors the
server's so a batch is not uploaded only to be refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .labels import PACKSHOT, SCENE_ONLY, field_label
from .wire import Capabilities, FieldInfo, Limits, PresetInfo, StyleInfo

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
# Fields the desktop never shows: the image is the dropped file, webhooks are for servers, the repair brush
# makes the mask hint (and offers remove_photo_shadow) and the file name is the dropped file's.
HIDDEN_FIELDS = frozenset({"product_image", "webhook_url", "mask_hint", "filename", "remove_photo_shadow"})

# Suggestions the public spec documents for free-text fields (the user may still type anything).
SPEC_SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "location": ("office", "outdoor", "cafe", "studio", "urban", "nature"),
}
# Marketplace presets (issue 13): right after the style, since a preset sets several of the fields below it.
PRESET_FIELDS = ("preset", "compliance_check")
_BACKGROUND_PATTERN = "^(white|off_white|light_gray|black|#[0-9A-Fa-f]{6})$"

# The public v1 spec's request fields: the form for an appliance without the capabilities extension.
SPEC_FIELDS: tuple[FieldInfo, ...] = (
    FieldInfo("style", "string", ("studio_packshot", "lifestyle", "editorial", "mockup"), required=True),
    FieldInfo("scene_type", "string", ("auto", "action", "abstract", "product_packshot"), "auto"),
    FieldInfo("background", "string", pattern=_BACKGROUND_PATTERN),
    FieldInfo("aspect_ratio", "string", ("1:1", "4:3", "16:9", "9:16", "3:2", "2:3"), "1:1"),
    FieldInfo("people", "string", ("none", "with_people", "without_people"), "none"),
    FieldInfo("location", "string", max_length=200),
    FieldInfo("prompt", "string", max_length=500),
)
_WORD_ALTERNATIVES = re.compile(r"[A-Za-z_]+")


def spec_capabilities() -> Capabilities:
    """Capabilities of a plain v1 appliance (no extension endpoint): the spec's fields only."""
    style = SPEC_FIELDS[0]
    return Capabilities(styles=tuple(StyleInfo(s) for s in style.enum), fields=SPEC_FIELDS, limits=Limits())


@dataclass(frozen=True)
class InputSpec:
    """One form input: the field plus the kind of widget that edits it."""

    field: FieldInfo
    kind: str  # "choice", "open_choice", "color", "text", "long_text", "bool", "int", "number", "preset", "presets"
    presets: tuple[PresetInfo, ...] = ()  # what a "preset"/"presets" input offers (GET /v1/presets)

    @property
    def name(self) -> str:
        """The request field name."""
        return self.field.name

    @property
    def label(self) -> str:
        """Human label from the one label table ("aspect_ratio" -> "Shape")."""
        return field_label(self.field.name)


def _kind(f: FieldInfo, presets: tuple[PresetInfo, ...] = ()) -> str:
    if presets and f.name == "preset":
        return "preset"  # one preset, picked by its title
    if presets and f.name == "compliance_check":
        return "presets"  # any number of presets, picked by their titles
    t = f.type.lower()
    if t in ("bool", "boolean"):
        return "bool"
    if t in ("int", "integer"):
        return "int"
    if t in ("number", "float"):
        return "number"
    if f.name == "background":
        return "color"  # the spec allows a named colour or any #RRGGBB
    if f.enum:
        return "choice"
    if f.name in SPEC_SUGGESTIONS:
        return "open_choice"
    if "prompt" in f.name:
        return "long_text"
    return "text"


def choices(f: FieldInfo) -> tuple[str, ...]:
    """Values to offer for a field: its enum, the named alternatives of its pattern, or spec suggestions.

    A pattern such as ``^(white|black|#[0-9A-F]{6})$`` yields ("white", "black"): the appliance's own
    list of named backgrounds, so an extension value like ``transparent`` appears without hard-coding.
    """
    if f.enum:
        return f.enum
    if f.pattern:
        body = f.pattern.strip("^$")
        if body.startswith("(") and body.endswith(")"):
            body = body[1:-1]
        words = tuple(p for p in body.split("|") if _WORD_ALTERNATIVES.fullmatch(p))
        if words:
            return words
    return SPEC_SUGGESTIONS.get(f.name, ())


def form_inputs(
    caps: Capabilities, include_extensions: bool = True, presets: tuple[PresetInfo, ...] = ()
) -> list[InputSpec]:
    """The inputs to show, in the appliance's order; extensions last when the brand allows them, except the
    marketplace presets, which come right after the style. ``presets`` (the appliance's list) make the preset
    fields pickers; without them they are plain inputs."""
    spec = [f for f in caps.fields if f.name not in HIDDEN_FIELDS and not f.extension]
    ext = [f for f in caps.fields if f.name not in HIDDEN_FIELDS and f.extension]
    chosen = spec + (ext if include_extensions else [])
    first = [f for f in chosen if f.name == "style"] + [f for f in chosen if f.name in PRESET_FIELDS]
    chosen = first + [f for f in chosen if f not in first]
    return [InputSpec(f, _kind(f, presets), presets if f.name in PRESET_FIELDS else ()) for f in chosen]


def preset_values(preset: PresetInfo, names: set[str]) -> dict[str, Any]:
    """The values ``preset`` sets for the form inputs ``names`` (its size and JPEG quality are not inputs: the
    appliance applies them from the preset)."""
    return {k: v for k, v in preset.render.items() if k in names}


def explicit_values(values: dict[str, Any], caps: Capabilities, presets: tuple[PresetInfo, ...]) -> dict[str, Any]:
    """What to send when a preset is chosen: the style, the preset fields, and the values the user set, i.e.
    those that differ from what the preset sets (or, for a field it does not set, from the appliance's default).
    The appliance applies the preset to everything else, and a field sent explicitly wins over it
    (docs/presets.md, "For the desktop"). Without a known preset ``values`` is returned as it is."""
    preset = next((p for p in presets if p.id == values.get("preset")), None)
    if preset is None:
        return values
    defaults = {f.name: f.default for f in caps.fields}
    return {
        name: value
        for name, value in values.items()
        if name == "style" or name in PRESET_FIELDS or value != preset.render.get(name, defaults.get(name))
    }


def validate_values(values: dict[str, Any], caps: Capabilities) -> dict[str, str]:
    """Check form values as the server would; returns ``{field: problem}`` (empty when valid)."""
    problems: dict[str, str] = {}
    style = values.get("style")
    styles = {s.name: s for s in caps.styles}
    if not style:
        problems["style"] = "Choose a style."
    elif styles and style not in styles:
        problems["style"] = f"This appliance does not offer the style {style!r}."
    elif styles and not styles[style].available:
        problems["style"] = styles[style].reason or f"The style {style!r} is not available on this appliance."
    for f in caps.fields:
        value = values.get(f.name)
        if f.required and f.name not in HIDDEN_FIELDS and f.name != "style" and value in (None, ""):
            problems[f.name] = "Required."
            continue
        if f.name in HIDDEN_FIELDS or value is None or value == "" or f.name == "style":
            continue
        if style == PACKSHOT and f.name in SCENE_ONLY:
            continue  # disabled in the form and left out of the request
        problem = _check_field(f, value, caps.limits)
        if problem:
            problems[f.name] = problem
    return problems


def _check_field(f: FieldInfo, value: Any, limits: Limits) -> str | None:
    kind = _kind(f)
    if kind == "color":
        ok = re.search(f.pattern, str(value)) if f.pattern else value in choices(f) or COLOR_RE.match(str(value))
        return None if ok else "Use a named background or a colour like #1A2B3C."
    if f.pattern and isinstance(value, str) and not re.search(f.pattern, value):
        return "This value is not accepted by the appliance."
    if kind == "choice" and str(value) not in f.enum:
        return f"Choose one of: {', '.join(f.enum)}."
    if kind == "presets" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "Choose presets from the list."
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "Enter a number."
        if kind == "int" and not isinstance(value, int):
            return "Enter a whole number."
        upper = f.maximum
        if f.name == "num_variants":
            upper = limits.max_variants if upper is None else min(upper, limits.max_variants)
        if f.minimum is not None and value < f.minimum:
            return f"Must be at least {f.minimum:g}."
        if upper is not None and value > upper:
            return f"Must be at most {upper:g}."
    if isinstance(value, str):
        limit = f.max_length
        if f.name == "prompt":
            limit = min(limit or limits.max_prompt_chars, limits.max_prompt_chars)
        if limit is not None and len(value) > limit:
            return f"{len(value)} characters; the limit is {limit}."
    return None


def sendable_values(values: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    """The fields of ``values`` a request sends: only fields the appliance knows (a job's stored options also
    hold some no request takes, such as a preset's ``long_side``), empty ones left out; scene-only options are
    left out of a studio packshot. Also the body of a re-run (``POST /v1/generate/{id}/rerun``)."""
    known = {f.name for f in caps.fields} | {"style"}
    packshot = values.get("style") == PACKSHOT
    return {
        name: value
        for name, value in values.items()
        if name in known
        and name not in HIDDEN_FIELDS
        and value is not None
        and value != ""
        and not (packshot and name in SCENE_ONLY)
    }


def build_request(
    values: dict[str, Any], product_image: str, caps: Capabilities, filename: str | None = None
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/generate``: :func:`sendable_values` and the photo; ``filename`` (the local
    file's name) when the appliance keeps it."""
    body: dict[str, Any] = {"product_image": product_image}
    if filename and caps.field("filename") is not None:
        body["filename"] = filename
    body.update(sendable_values(values, caps))
    return body


def sniff_image_type(head: bytes) -> str | None:
    """``"jpeg"``, ``"png"`` or ``"webp"`` from a file's first bytes; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def check_file(path: Path, limits: Limits) -> str | None:
    """Why a file cannot be sent (plain words), or None when it looks sendable."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        return f"Cannot read the file: {exc.strerror or exc}."
    if size > limits.max_image_bytes:
        return (
            f"The image is too large: {size / 1_048_576:.1f} MB, "
            f"the limit is {limits.max_image_bytes / 1_048_576:.0f} MB."
        )
    if sniff_image_type(head) is None:
        return "Not a JPEG, PNG or WebP image."
    return None


def collect_images(paths: list[Path]) -> list[Path]:
    """Expand dropped files and folders into image files (by extension), sorted, without duplicates."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES:
                    found[child] = None
        elif path.is_file():
            found[path] = None
    return list(found)
