"""``bench/eval_real.py`` reports ``needs_review`` as the appliance sets it (``review.assess``), not the False that
``render_packshot`` alone leaves (every photo read "review False" in session 9's first run, the glass included)."""

from __future__ import annotations

import eval_real
import evalset
from paqshot_server.imaging.classical import ClassicalSegmenter


def test_needs_review_follows_the_confidence_threshold() -> None:
    photo = evalset.make_sample("mug", "white", size=240).image
    sure = eval_real.run_packshot(photo, ClassicalSegmenter(), threshold=1.01)  # every confidence is under 1.01
    assert sure["needs_review"] is True
    assert "low_confidence" in sure["reasons"]
    never = eval_real.run_packshot(photo, ClassicalSegmenter(), threshold=0.0)
    assert never["needs_review"] is bool(never["reasons"])  # only a reason of its own flags it then
