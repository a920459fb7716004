"""Quality floor on a few generated evaluation images (exact ground truth); the full report is
``bench/eval_cutout.py``."""

from __future__ import annotations

import evalset
import numpy as np
import pytest
from paqshot_server.imaging.classical import ClassicalSegmenter

CASES = [
    ("bottle", "white", 0.95),  # glossy highlight, label, contact shadow
    ("mug", "gradient", 0.95),  # a see-through hole in the handle, on a sweep with vignette
    ("lamp", "grey", 0.93),  # thin stem and wire
    ("ring", "textured", 0.90),  # big hole, lightly textured backdrop
    ("plush", "noisy", 0.90),  # soft edges, sensor noise
]


@pytest.mark.parametrize(("obj", "family", "floor"), CASES)
def test_iou_floor(obj: str, family: str, floor: float) -> None:
    sample = evalset.make_sample(obj, family, size=360)
    matte = ClassicalSegmenter().segment(np.asarray(sample.image))
    assert evalset.iou(matte.alpha, sample.alpha) >= floor
    assert evalset.mae(matte.alpha, sample.alpha) < 0.02
    assert 0.0 <= matte.confidence <= 1.0


def test_hole_is_punched_and_label_survives() -> None:
    mug = evalset.make_sample("mug", "white", size=360)
    alpha = ClassicalSegmenter().segment(np.asarray(mug.image)).alpha
    # the middle of the handle's hole is background in the truth and in the matte
    ys, xs = np.nonzero(mug.alpha[150:260, 230:290] == 0)
    assert ys.size
    cy, cx = int(np.median(ys)) + 150, int(np.median(xs)) + 230
    assert mug.alpha[cy, cx] == 0 and alpha[cy, cx] < 0.5
    bottle = evalset.make_sample("bottle", "white", size=360)
    b_alpha = ClassicalSegmenter().segment(np.asarray(bottle.image)).alpha
    label = bottle.alpha > 0.99
    label[: int(0.58 * 360)] = False
    label[int(0.72 * 360) :] = False  # the pale label band across the bottle
    assert b_alpha[label].mean() > 0.98
