"""Every word the app shows for a wire name, in one table: field names, enum values, engines, statuses, times.

The form, the queue, the results grid and the viewer all read these, so each style has one spelling
everywhere and no raw value (``studio_packshot``, ``False``, an ISO time) reaches the user. Names the table
does not know (an appliance's newer extension) are turned into words mechanically. No Qt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

FIELD_LABELS: dict[str, str] = {
    "style": "Style",
    "scene_type": "Scene",
    "background": "Background",
    "aspect_ratio": "Shape",
    "people": "People",
    "location": "Location",
    "prompt": "Prompt",
    "negative_prompt": "Keep out",
    "seed": "Seed",
    "num_variants": "Variants",
    "shadow": "Shadow",
    "reflection": "Reflection",
    "padding": "Margin",
    "output_format": "File format",
    "cutout_engine": "Cut-out engine",
    "on_low_confidence": "If unsure",
    "filename": "File name",
    "priority": "Priority",
    "preset": "Marketplace",
    "compliance_check": "Also check for",
}

# The rules of a marketplace preset's compliance report (issue 13), as the viewer lists them.
RULE_LABELS: dict[str, str] = {
    "background_purity": "Background",
    "product_fill": "Product size in the frame",
    "cropped_at_edge": "Product whole in the frame",
    "long_side": "Long side",
    "short_side": "Short side",
    "pixels": "Pixel count",
    "format": "File format",
    "colour_space": "Colour space",
    "still": "One still image",
    "file_size": "File size",
    "shadow": "Shadow",
    "reflection": "Reflection",
    "props": "Other objects",
}

VALUE_LABELS: dict[str, str] = {
    # styles
    "studio_packshot": "Studio packshot",
    "lifestyle": "Lifestyle",
    "editorial": "Editorial",
    "mockup": "Mock-up",
    # scene types
    "auto": "Automatic",
    "action": "Action",
    "abstract": "Abstract",
    "product_packshot": "Plain set",
    # backgrounds
    "white": "White",
    "off_white": "Off-white",
    "light_gray": "Light grey",
    "black": "Black",
    "transparent": "Transparent (PNG)",
    # people
    "none": "None",
    "with_people": "With people",
    "without_people": "Without people",
    # shadows
    "soft": "Soft",
    "hard": "Hard",
    "floating": "Floating",
    "natural": "The photo's own",
    # formats
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    # on_low_confidence
    "complete": "Finish and flag for review",
    "fail": "Fail the job",
    "classical": "Classical",
    # aspect ratios
    "1:1": "Square 1:1",
    "4:3": "Landscape 4:3",
    "3:2": "Landscape 3:2",
    "16:9": "Wide 16:9",
    "2:3": "Portrait 2:3",
    "9:16": "Tall 9:16",
    # statuses
    "processing": "Processing",
    "completed": "Completed",
    "failed": "Failed",
}

# Options that only change scene styles; the form disables them for a studio packshot.
SCENE_ONLY: frozenset[str] = frozenset(
    {"scene_type", "people", "location", "prompt", "negative_prompt", "num_variants", "seed"}
)
PACKSHOT = "studio_packshot"


def _words(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def field_label(name: str) -> str:
    """The label of a request field ("aspect_ratio" -> "Shape")."""
    return FIELD_LABELS.get(name, _words(name))


def rule_label(rule: str) -> str:
    """A compliance rule in words ("cropped_at_edge" -> "Product whole in the frame")."""
    return RULE_LABELS.get(rule, _words(rule))


def preset_label(preset_id: str, titles: dict[str, str]) -> str:
    """A preset by its title when the appliance gave one, else its id in words."""
    return titles.get(preset_id) or _words(preset_id)


def value_label(value: Any) -> str:
    """A value in words: enum values from the table, booleans as Yes/No, numbers as written."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "Default"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(value_label(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(str(k))}: {value_label(v)}" for k, v in value.items())
    text = str(value)
    if text.startswith("#") and len(text) == 7:
        return f"Colour {text.upper()}"
    return VALUE_LABELS.get(text, _words(text) if "_" in text and text.islower() else text)


def engine_label(engine: str | None) -> str:
    """What produced an image, in words ("onnx:u2netp" -> "Cut-out model u2netp")."""
    if not engine:
        return "Unknown"
    kind, _, name = engine.partition(":")
    if kind == "classical":
        return "Classical cut-out (no model)"
    if kind == "onnx":
        return f"Cut-out model {name}"
    if kind == "procedural":
        return "Procedural set (preview quality)"
    if kind == "diffusion":
        return f"Inpainting model {name}"
    if kind.startswith("plate"):  # plate, or plate+diffusion:<id> (a model blended the contact)
        return "Backdrop photograph" + (f", contact blended by {name}" if name else "")
    return engine


def parse_iso(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp ("Z" accepted; no zone means UTC), or None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def when(iso: str | None, now: datetime | None = None) -> str:
    """An ISO-8601 time as the user reads it, in local time: "Today 14:05", "9 Jun 2026, 14:05"."""
    moment = parse_iso(iso)
    if moment is None:
        return iso or ""
    local = moment.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"Today {clock}"
    return f"{local.day} {local.strftime('%b %Y')}, {clock}"


def duration(seconds: float | None) -> str:
    """A wait in words: "about 40 s", "about 3 min"."""
    if seconds is None:
        return ""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} min"


# Why a completed job whose images the appliance's retention deleted (``expired: true``: no image links left) has
# none (its state's words are ``jobstate.STATES["expired"]``).
EXPIRED_MESSAGE = (
    "The appliance deleted these images when its retention period ended. Submit the photo again to make them anew."
)
# Save pressed with only expired results selected (breaker16 B16-7: it said "Saved 0 image(s)" in green).
EXPIRED_NOTHING_SAVED = "Nothing was saved: the selected results have expired. " + EXPIRED_MESSAGE
# Before what a catalogue run had to guess or could not read (the manifest's encoding, its state file's lines).
RUN_NOTES = "Read with care:"


def counted(count: int, noun: str, plural: str = "") -> str:
    """``count`` and its noun, singular for exactly one: ``counted(1, "photo")`` -> "1 photo", ``counted(0,
    "photo")`` -> "0 photos"; ``plural`` for a noun that does not take an s (``counted(2, "was", "were")``). Never
    "photo(s)" nor "1 photos"."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def sentence(text: str) -> str:
    """A message as a sentence: capital first letter, final full stop (also after a closing bracket: "(confidence
    0.31 < 0.60)" ends a clause, and sentences joined after it ran on; breaker9 F11)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ".)", "!)", "?)")) else text + "."
