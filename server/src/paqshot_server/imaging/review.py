"""Review flags: whether a result is probably wrong, and why, in words a user can act on.

Every review code is defined here, once (the API, webhooks, CLI and desktop show ``code`` and ``message``).
The imaging layer attaches :class:`ReviewReason` s to a :class:`~.result.RenderResult` while it works (the
cut-out's own checks); :func:`assess` then applies the operator's confidence threshold (the
``review_threshold`` setting) and sets ``needs_review``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import RenderResult

LOW_CONFIDENCE = "low_confidence"
SMALL_PRODUCT = "small_product"
FILLS_FRAME = "fills_frame"
TRANSPARENT = "transparent_product"
FRAGMENTED = "fragmented"
UNSTABLE = "unstable_cutout"
UNCERTAIN_EDGES = "uncertain_edges"
PARTS_LEFT_OUT = "parts_left_out"
CUT_INSIDE = "cut_out_inside"
FAINT_PART = "faint_part"
EXPOSURE = "exposure"
CUT_BY_FRAME = "cut_by_frame"
BACKDROP_KEPT = "backdrop_kept"
PLATE_FLOOR = "plate_floor"
FILE_SIZE = "file_size"
PARTIAL_REPAIR = "partial_repair"

# code -> what it means (the message of a reason may add figures, e.g. the confidence itself).
CODES: dict[str, str] = {
    LOW_CONFIDENCE: "the cut-out is uncertain: check the product's outline before using this image",
    SMALL_PRODUCT: "the product is very small in the photo: the cut-out may hold only part of it, and it was "
    "enlarged a lot",
    FILLS_FRAME: "the product fills the frame: there is little background to separate it from, parts may be "
    "missing or cut by the frame",
    TRANSPARENT: "the product looks transparent or very thin: clear parts may be missing or let the old "
    "background through",
    FRAGMENTED: "the photo holds several separate objects or a busy background: check that only the product was kept",
    UNSTABLE: "the cut-out changed a lot when the model looked closer: the product's outline is uncertain",
    UNCERTAIN_EDGES: "much of the product's outline is blurred or undecided: check its edges",
    PARTS_LEFT_OUT: "parts next to the product that look like it were left out (the model lost them): check "
    "that the whole product is there",
    CUT_INSIDE: "the model cut out a region inside the product as background that does not look like the "
    "backdrop (a reflection or a highlight?): check whether it is part of the product or a real hole",
    FAINT_PART: "a part of the product that the model could hardly tell from the backdrop (white on white?) came "
    "out see-through or cut away: check that the whole product is there and solid; a backdrop that contrasts with "
    "the product, or a mask hint, gives a better cut-out",
    EXPOSURE: "the photo is badly exposed: where it is pure white (over-exposed) or pure black (under-exposed) "
    "next to the product, parts of the product as bright or as dark as the backdrop may be lost; reshoot with the "
    "exposure set on the product, or on a backdrop that contrasts with it",
    CUT_BY_FRAME: "the product seems cut by the photo's edge: the packshot shows it as if whole, with a straight "
    "cut where the photo ends; photograph the whole product with some space around it",
    BACKDROP_KEPT: "part of the product has the coloured backdrop's own colour: an opening in it (a gap, a loop, "
    "the space between legs or tines) seems to keep the old backdrop, which shows on any new background; check the "
    "openings, or send a mask hint",
    PLATE_FLOOR: "the backdrop plate's floor line lies too near the top or bottom of this frame for a product to "
    "stand on it: the product came out very small, or with its base and shadow at the frame's edge; give the "
    "plate's floor_y where its floor really is, or a placement",
    FILE_SIZE: "the image file is larger than a checked preset allows, even at the lowest quality the appliance "
    "steps down to (or in PNG, which has no quality to lower): the marketplace may refuse it; a very finely "
    "textured product makes large files, JPEG makes smaller ones than PNG",
    PARTIAL_REPAIR: "a remove stroke of the mask hint crossed an opening of the backdrop's colour (a loop, a gap) "
    "without covering most of it: only the painted band was removed, and the rest of the opening may keep the old "
    "backdrop around it; paint over most of the opening to remove all of it, or check that the rest is product",
}


@dataclass(frozen=True)
class ReviewReason:
    """One reason to look at a result before using it.

    Attributes:
        code: stable snake_case identifier, a key of :data:`CODES`.
        message: plain words for a user (may carry figures, e.g. the confidence).
    """

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def reason(code: str, detail: str = "") -> ReviewReason:
    """The reason for ``code`` with its standard message, plus ``detail`` in brackets when given.

    Raises:
        KeyError: ``code`` is not defined in :data:`CODES`.
    """
    message = CODES[code]
    return ReviewReason(code, f"{message} ({detail})" if detail else message)


def assess(result: RenderResult, threshold: float) -> RenderResult:
    """``result`` with ``needs_review`` set: any reason already attached, or confidence under ``threshold``.

    Args:
        result: what an engine returned (``confidence`` None when no cut-out ran).
        threshold: confidence in [0, 1] under which a result needs review (setting ``review_threshold``).
    """
    reasons = list(result.review_reasons)
    low = result.confidence is not None and result.confidence < threshold
    if low and all(r.code != LOW_CONFIDENCE for r in reasons):
        reasons.insert(0, reason(LOW_CONFIDENCE, f"confidence {result.confidence:.2f} < {threshold:.2f}"))
    return replace(result, needs_review=bool(reasons), review_reasons=tuple(reasons))


def with_whole_photo(part: RenderResult, whole: RenderResult, threshold: float) -> RenderResult:
    """``part`` (rendered from a crop of the photo around the product) reviewed with ``whole`` (the same job's
    render of the whole photo at working resolution): the lower of the two confidences and every reason either
    gave (a reason about the photo, such as the product's share of it, is seen only in the whole photo; either
    pass's doubt stands), then :func:`assess` again. So a job's review does not depend on whether it was cropped.
    """
    confidences = [c for c in (part.confidence, whole.confidence) if c is not None]
    reasons: dict[str, ReviewReason] = {}
    for r in (*part.review_reasons, *whole.review_reasons):
        if r.code != LOW_CONFIDENCE:  # made again by assess from the confidence kept
            reasons.setdefault(r.code, r)
    kept = replace(part, confidence=min(confidences, default=None), review_reasons=tuple(reasons.values()))
    return assess(kept, threshold)
