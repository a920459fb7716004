"""A job rendered again from a crop around a small product is reviewed as the whole photo shows it."""

from __future__ import annotations

from paqshot_server.imaging.result import RenderResult
from paqshot_server.imaging.review import FRAGMENTED, LOW_CONFIDENCE, SMALL_PRODUCT, reason, with_whole_photo


def result(confidence: float | None, *codes: str) -> RenderResult:
    return RenderResult(
        images=(), engine="onnx:u2netp", confidence=confidence, review_reasons=tuple(map(reason, codes))
    )


def test_the_whole_photos_reasons_and_doubt_stand_for_the_crop() -> None:
    # breaker, session 2: a bottle at 0.6 % of a 7000x5000 photo was flagged small_product when the job used the
    # whole photo, and not at all (confidence 0.928) when it was cut out again from a crop around it
    part = result(0.928)
    whole = result(0.909, SMALL_PRODUCT)
    merged = with_whole_photo(part, whole, threshold=0.6)
    assert merged.needs_review and [r.code for r in merged.review_reasons] == [SMALL_PRODUCT]
    assert merged.confidence == 0.909


def test_the_lower_confidence_is_kept_and_low_confidence_said_once_with_it() -> None:
    merged = with_whole_photo(result(0.55, LOW_CONFIDENCE, FRAGMENTED), result(0.4, FRAGMENTED), threshold=0.6)
    codes = [r.code for r in merged.review_reasons]
    assert merged.confidence == 0.4 and codes.count(LOW_CONFIDENCE) == 1 and codes.count(FRAGMENTED) == 1
    assert "0.40" in next(r.message for r in merged.review_reasons if r.code == LOW_CONFIDENCE)


def test_a_clean_crop_of_a_clean_photo_needs_no_review() -> None:
    merged = with_whole_photo(result(0.93), result(0.91), threshold=0.6)
    assert not merged.needs_review and merged.review_reasons == () and merged.confidence == 0.91
    assert not with_whole_photo(result(None), result(None), threshold=0.6).needs_review
