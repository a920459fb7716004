"""Marketplace presets: data files (one TOML file per preset) that set render values and compliance rules.

A preset has two halves. ``render`` holds request values (aspect ratio, background, shadow, padding, format,
long side, JPEG quality) applied where the request did not give the field itself; ``rules`` holds what
:mod:`.compliance` measures on the finished file. Each file cites the marketplace pages its facts come from
(``[[sources]]`` with URL and the date they were read). The built-in presets live in the package's
``presets/`` folder; operators add their own in the folder named by the ``presets_dir`` setting (a file there
with a built-in's id replaces it). Every file is validated when the appliance starts (:func:`load_presets`).

msgspec does the validation (types, ranges, unknown keys): a well-kept library beats a hand-written checker.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from ..errors import InvalidRequest
from ..patterns import END
from .background import parse_background
from .options import AspectRatio, OutputFormat, Shadow

BUILTIN_DIR = Path(__file__).resolve().parents[1] / "presets"
PRESET_ID_PATTERN = rf"^[a-z][a-z0-9_]{{0,63}}{END}"
MAX_CHECKS = 10  # presets one request may name in compliance_check

PresetId = Annotated[str, Meta(pattern=PRESET_ID_PATTERN)]
PresetIds = Annotated[list[PresetId], Meta(min_length=1, max_length=MAX_CHECKS)]  # a request's compliance_check
Fraction = Annotated[float, Meta(ge=0, le=1)]


class PresetError(ValueError):
    """A preset file that cannot be used (the message names the file and the problem)."""


class Source(Struct, forbid_unknown_fields=True, kw_only=True):
    """Where a preset's facts come from: the page, the day it was read, and what it says (own words)."""

    url: Annotated[str, Meta(pattern=r"^https?://")]
    read: Annotated[str, Meta(pattern=rf"^\d{{4}}-\d\d-\d\d{END}")]
    facts: str


class RenderValues(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Request values a preset sets; a field the request gives itself wins. None: the preset leaves it."""

    aspect_ratio: AspectRatio | None = None
    background: str | None = None
    shadow: Shadow | None = None
    reflection: bool | None = None
    padding: Annotated[float, Meta(ge=0, le=4096)] | None = None
    output_format: OutputFormat | None = None
    long_side: Annotated[int, Meta(ge=64, le=10000)] | None = None
    jpeg_quality: Annotated[int, Meta(ge=50, le=100)] | None = None


class Rules(Struct, forbid_unknown_fields=True, kw_only=True):
    """What the compliance report measures. A rule left None is not checked for this preset.

    ``background`` (named colour or ``#RRGGBB``) and ``min_background_purity`` (share of background pixels
    exactly at that colour) go together. ``min_fill``/``max_fill`` bound the product's bounding box as a share
    of the canvas side it limits (max of width share and height share). ``max_shadow_darkening`` is the
    largest darkening (0–255 levels of the darkest channel) of background touching the product; ``reflection``
    and ``props`` say whether a floor reflection or separate objects are allowed. These three "added content"
    rules are what a marketplace's main-image slot forbids.
    """

    background: str | None = None
    min_background_purity: Fraction | None = None
    min_fill: Fraction | None = None
    max_fill: Fraction | None = None
    allow_crop: bool = True
    min_long_side: Annotated[int, Meta(ge=1)] | None = None
    min_short_side: Annotated[int, Meta(ge=1)] | None = None
    max_long_side: Annotated[int, Meta(ge=1)] | None = None
    max_pixels: Annotated[int, Meta(ge=1)] | None = None
    formats: list[OutputFormat] | None = None
    srgb: bool = True
    max_file_bytes: Annotated[int, Meta(ge=1)] | None = None
    max_shadow_darkening: Annotated[int, Meta(ge=0, le=255)] | None = None
    reflection: bool = True
    props: bool = True


class Preset(Struct, forbid_unknown_fields=True, kw_only=True):
    """One preset file."""

    id: PresetId
    title: str
    description: str
    sources: Annotated[list[Source], Meta(min_length=1)]
    render: RenderValues = msgspec.field(default_factory=RenderValues)
    rules: Rules = msgspec.field(default_factory=Rules)


def _check(preset: Preset, path: Path) -> None:
    for label, value in (
        ("render.background", preset.render.background),
        ("rules.background", preset.rules.background),
    ):
        if value is not None:
            try:
                parse_background(value)
            except InvalidRequest as exc:
                raise PresetError(f"{path}: {label}: {exc.message}") from None
    r = preset.rules
    if (r.background is None) != (r.min_background_purity is None):
        raise PresetError(f"{path}: rules.background and rules.min_background_purity go together")
    if r.min_fill is not None and r.max_fill is not None and r.min_fill > r.max_fill:
        raise PresetError(f"{path}: rules.min_fill is above rules.max_fill")
    if r.min_long_side and r.max_long_side and r.min_long_side > r.max_long_side:
        raise PresetError(f"{path}: rules.min_long_side is above rules.max_long_side")
    if path.stem != preset.id:
        raise PresetError(f"{path}: the file name must be the preset id ({preset.id}.toml)")


def load_preset_file(path: Path) -> Preset:
    """Read and validate one preset file. Raises PresetError naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        preset = msgspec.convert(data, Preset)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise PresetError(f"{path}: {exc}") from None
    _check(preset, path)
    return preset


@dataclass(frozen=True)
class PresetCatalogue:
    """Every preset in force, by id (built-ins, then the operator's folder over them)."""

    presets: Mapping[str, Preset]

    def get(self, preset_id: str) -> Preset:
        """The preset ``preset_id``. Raises InvalidRequest naming the known ids."""
        try:
            return self.presets[preset_id]
        except KeyError:
            known = ", ".join(sorted(self.presets))
            raise InvalidRequest(f"Unknown preset '{preset_id}'. Known presets: {known}.") from None

    def ids(self) -> list[str]:
        return sorted(self.presets)

    def max_file_bytes(self, preset_ids: Iterable[str]) -> int | None:
        """The smallest ``rules.max_file_bytes`` of the presets ``preset_ids`` (a job's preset and
        compliance_check): the file size the image must keep under to meet all of them. None: none sets one.
        Raises InvalidRequest for an unknown id."""
        limits = [self.get(i).rules.max_file_bytes for i in preset_ids]
        return min((n for n in limits if n is not None), default=None)


def load_presets(extra_dir: Path | None = None) -> PresetCatalogue:
    """Load and validate the built-in presets and those in ``extra_dir`` (if given).

    Raises:
        PresetError: a file does not parse or breaks a rule (the message names the file), or ``extra_dir``
            is not a folder.
    """
    presets: dict[str, Preset] = {}
    folders = [BUILTIN_DIR]
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise PresetError(f"presets_dir {extra_dir} is not a folder")
        folders.append(extra_dir)
    for folder in folders:
        for path in sorted(folder.glob("*.toml")):
            preset = load_preset_file(path)
            presets[preset.id] = preset
    return PresetCatalogue(presets)


def resolve_options(preset: Preset | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The request values in force: the preset's render values, then every field the request gave itself.

    ``given`` holds only the fields the client sent (a field left at its default is not "given"), so an
    explicit ``shadow: "soft"`` beats a preset's ``shadow = "none"`` while an omitted one does not.
    """
    values = dict(msgspec.to_builtins(preset.render)) if preset else {}
    values.update({k: v for k, v in given.items() if v is not None})
    return values
