"""The smallest product photo the cut-out works on, refused at submission below it (breaker11 B11-2, breaker12
B12-7: an 8x8 photo completed as a pink square at confidence 0.00, and 1x1..4x4 were refused as "background").

``MIN_SIDE`` is measured (docs/progress/issue-14.md, "Breaker12's API faults, session 13"; bench/smallest_photo.py):
the 27 real photos of bench/realeval_build.py scaled down to a short side of 16..192 px and cut out by the default
model (u2netp-int8), each matte brought back to full size and compared with the full-size photo's own (IoU at alpha
128). Of the 11 photos whose full-size cut-out is sure (confidence >= 0.8), an IoU >= 0.7 was kept by 9 at a short
side of 48 and 64 px, by 5 at 32 and by 4 at 24; over all 27 the median IoU was 0.32 at 24, 0.55 at 32, 0.71 at 48,
0.78 at 64 (at 16 px 14 of 27 were found to be all background). Between 48 px and ~200 px the cut-out's confidence
stays low (median 0.01 at 48, 0.36 at 128), so those results complete flagged for review.

The limit counts pixels, not the shorter side: a long, thin product shot as a 2500x40 strip is cut out (the model
sees every photo squeezed to its square input; ``shared/cases/api/extreme-aspect-ratio-server-error``), while a
64x4 photo is not. ``MIN_PIXELS`` is the measured side squared, the least any photo of those proportions had there.
"""

from __future__ import annotations

from ..errors import InvalidRequest

MIN_SIDE = 48  # px: the shorter side measured above
MIN_PIXELS = MIN_SIDE * MIN_SIDE  # 2,304; photos as shown (after their EXIF orientation)


def check_photo_size(size: tuple[int, int], min_pixels: int = MIN_PIXELS) -> None:
    """Refuse a product photo of ``size`` (width, height in px, as shown) with fewer than ``min_pixels`` pixels.

    Raises:
        InvalidRequest: the message names the photo's size and the minimum.
    """
    width, height = size
    if width * height < min_pixels:
        side = round(min_pixels**0.5)
        raise InvalidRequest(
            f"The photo is {width}x{height} pixels: too small to cut the product out; send one of at least "
            f"{min_pixels:,} pixels ({side}x{side}; the original photo, not a thumbnail)."
        )
