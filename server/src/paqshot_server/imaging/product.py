"""The cut-out product as every engine places it: its layout box, and the notes every result carries about it
(the studio packshot and the scenes share these, so they cannot drift apart)."""

from __future__ import annotations

from collections.abc import Iterable

from .cutout import Cutout, alpha_bbox
from .layout import MAX_SILENT_UPSCALE, Box, Placement

LOW_CONFIDENCE = 0.5  # below this a result's notes start with the cut-out's confidence
LAYOUT_ALPHA_FLOOR = 12  # faint alpha (8-bit) up to this does not widen the product's box for layout


def layout_box(cut: Cutout) -> Box:
    """(left, top, right, bottom) in source pixels of the product as laid out: the pixels with alpha above
    :data:`LAYOUT_ALPHA_FLOOR` (a faint halo does not shrink the product), else the whole cut-out's box."""
    inner = alpha_bbox(cut.rgba[..., 3], LAYOUT_ALPHA_FLOOR)
    if inner is None:
        return cut.bbox
    return inner[0] + cut.box[0], inner[1] + cut.box[1], inner[2] + cut.box[0], inner[3] + cut.box[1]


def product_notes(cut: Cutout, placement: Placement, extra: Iterable[str] = ()) -> list[str]:
    """The notes about the product, in order: low cut-out confidence, the cut-out's own notes, ``extra``, and
    an upscale beyond :data:`~.layout.MAX_SILENT_UPSCALE`."""
    notes = [f"low cut-out confidence ({cut.confidence:.2f})"] if cut.confidence < LOW_CONFIDENCE else []
    notes += [*cut.notes, *extra]
    if placement.scale > MAX_SILENT_UPSCALE:
        notes.append(f"upscaled {placement.scale:.1f}x: the product has fewer pixels in the photo than in the output")
    return notes
