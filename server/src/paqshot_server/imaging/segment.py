"""The segmenter interface: anything that turns an RGB photo into an alpha matte of its product.

The classical segmenter (:mod:`.classical`) implements it with no model weights; an ONNX segmenter in
``inference/`` implements the same protocol, and :func:`.cutout.cutout` / :func:`.packshot.render_packshot`
take either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np

from .review import ReviewReason

# What an output makes of the product: a box (left, top, right, bottom; photo px) -> output px per photo px.
OutputScale = Callable[[tuple[int, int, int, int]], float]


@dataclass(frozen=True)
class PhotoShadow:
    """The photo's own cast shadow, measured when first read (:attr:`layer`): only ``shadow: "natural"`` draws
    it, and measuring it (:func:`.shadow.estimate_photo_shadow`) cost every other cut-out ~6 ms of a ~170 ms
    classical packshot (docs/progress/issue-14.md, session 12). ``measure`` must read only arrays nothing writes
    to after it is made (the segmenters' local planes).
    """

    measure: Callable[[], np.ndarray | None] = field(repr=False)

    @cached_property
    def layer(self) -> np.ndarray | None:
        """The multiply layer (float32, 1 = no shadow, on a grid covering the whole photo), or None where the
        shadow could not be told from the backdrop's shading."""
        return self.measure()

    def mapped(self, onto: Callable[[np.ndarray], np.ndarray]) -> PhotoShadow:
        """This shadow with ``onto`` applied to its layer (another grid), when it is read."""
        return PhotoShadow(lambda: None if self.layer is None else onto(self.layer))


@dataclass(frozen=True)
class Matte:
    """A segmenter's answer.

    Attributes:
        alpha: float32 array (H, W) in [0, 1] at the resolution of the RGB it was given (or of the reduced grid
            a segmenter given ``output_scale`` chose: :class:`Segmenter`); 1 = product.
        confidence: how sure the segmenter is of this matte, in [0, 1] (1 = certain). Reported to the
            user, never used to hide a result.
        notes: short user-facing remarks on why confidence is low (e.g. "product touches the frame").
        rgba: optional uint8 (h, w, 4) over ``box``: decontaminated colours (original pixels where
            alpha == 1) and the alpha rounded to 8 bits, from a segmenter that estimates them anyway
            (everything outside ``box`` must have alpha 0); when None, the cut-out computes them.
        box: (left, top, right, bottom) of the image that ``rgba`` covers; None = the whole image.
        shadow: the photo's own cast shadow (:class:`PhotoShadow`: a float32 multiply layer, 1 = none, on any
            grid covering the whole image, measured when read), or None (both segmenters measure it against a
            backdrop model); used by ``shadow: "natural"``.
        reasons: why the result should be looked at before use (codes in :mod:`.review`).
        facts: the measurements the confidence was computed from (JSON-friendly numbers, for the result's
            ``meta`` and the evaluation scripts).
    """

    alpha: np.ndarray
    confidence: float
    notes: tuple[str, ...] = ()
    rgba: np.ndarray | None = field(default=None, repr=False)
    box: tuple[int, int, int, int] | None = None
    shadow: PhotoShadow | None = field(default=None, repr=False)
    reasons: tuple[ReviewReason, ...] = ()
    facts: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Segmenter(Protocol):
    """What every segmenter provides. ``name`` is recorded as the cut-out's ``source`` and the engine name.

    A segmenter that can take a mask hint into its own work says so with a true ``takes_hint`` attribute and
    accepts ``segment(rgb, hint=...)`` (:class:`.hint.HintedSegmenter` then passes the hint in instead of
    constraining the matte afterwards); its matte must then honour the hint exactly.

    A segmenter may also offer ``segment_image(image)`` for the decoded PIL image (mode RGB) itself, with the same
    result as ``segment(np.asarray(image))``: :func:`.cutout.cutout` then calls it and never copies the whole photo
    into numpy (the classical segmenter reads only the product's box at full resolution).

    A segmenter that can compute its matte at the detail an output needs says so with a true
    ``takes_output_scale`` attribute and accepts ``segment(rgb, output_scale=...)`` (a callable: product box in
    photo px -> output px per photo px); its matte (``alpha``, ``rgba``, ``box``) may then be on a grid smaller
    than the photo by the same factor on both axes (to rounding), whose size is ``alpha``'s.
    """

    name: str

    def segment(self, rgb: np.ndarray) -> Matte:
        """Return the product's matte for ``rgb`` (uint8, H x W x 3, sRGB)."""
        ...


def default_segmenter() -> Segmenter:
    """The segmenter used when none is given: the classical one (no model weights)."""
    from .classical import ClassicalSegmenter

    return ClassicalSegmenter()
