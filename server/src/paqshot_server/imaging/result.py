"""What every engine returns: encoded image bytes plus the honest facts of how they were made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .review import ReviewReason

# ``RenderResult.meta`` key: uint8 (H, W) alpha of the product on the main image's canvas (not JSON; the
# compliance report reads it to know exactly where the product is).
PRODUCT_ALPHA = "product_alpha"
# ``RenderResult.meta`` key: True when the image has no background at all (``background: "transparent"``), for
# the provenance's background action.
BACKGROUND_REMOVED = "background_removed"

# Progress callback of a render: called with the fraction done (0..1); it may raise to cancel the render.
ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class RenderedImage:
    """One encoded output image and its thumbnail (long side <= 256 px)."""

    data: bytes
    mime: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_mime: str
    plate: bytes | None = field(default=None, repr=False)  # the backdrop photograph's file it stands on, if any
    quality_lowered: tuple[int, int] | None = None  # (asked, used) quality when a byte limit made it step down
    # :func:`.mapseal.digest` of the pixels ``data`` decodes to, where the encoder knows them without decoding (a
    # PNG is lossless: its canvas); None: the file is decoded for it (JPEG, WebP).
    pixel_digest: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RenderResult:
    """Output of one generation.

    ``images`` holds one entry per variant (the first is the main image). ``engine`` names what ran
    (``classical``, ``onnx:<model id>``, ``procedural``, ``diffusion:<model id>``), ``confidence`` is the
    cut-out's own certainty in [0, 1], ``notes`` are user-facing remarks (e.g. "upscaled 2.6x").
    ``needs_review`` says the result is probably wrong somewhere, ``review_reasons`` why (codes in
    :mod:`.review`; :func:`.review.assess` sets ``needs_review`` from them and the confidence threshold).
    ``meta`` carries engine facts worth returning (seed, final prompts, timings).
    """

    images: tuple[RenderedImage, ...]
    engine: str
    confidence: float | None = None
    notes: tuple[str, ...] = ()
    needs_review: bool = False
    review_reasons: tuple[ReviewReason, ...] = ()
    meta: dict[str, object] = field(default_factory=dict)
