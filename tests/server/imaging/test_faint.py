"""Faint parts (imaging/faint.py): a part the model half believes that carries the product's structure and is in
places lighter than the set (a white stand's rim and shading on a pale set) is evidence, counted where the clean-up
cut it away or left it see-through, and on a pale set it is made solid; a shadow, smooth or striped (a fork's
tines'), is neither."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.cleanup import clean_backdrop
from paqshot_server.imaging.confidence import LIMITS
from paqshot_server.imaging.faint import OPAQUE, faint_parts, faint_share, firmed

STAND = (slice(120, 140), slice(60, 140))
INSIDE = (slice(122, 138), slice(62, 138))  # the stand without its outline
SHARE = 20 * 80 / (80 * 100 + 20 * 80)  # the stand's share of the product


def scene(part: str, set_grey: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """A dark product the model is sure of, on a grey set (pale: 200), above a part it half believes (p 0.6): a
    white stand with a ridged rim (``"stand"``: rows lighter than the set and rows of its colour), a shadow with
    the stripes of a fork's tines (``"striped shadow"``: darker rows), or a smooth shadow (``"shadow"``).
    uint8 (200, 200, 3) photo and float32 (200, 200) model map."""
    rgb = np.full((200, 200, 3), set_grey, np.uint8)
    prob = np.zeros((200, 200), np.float32)
    rgb[40:120, 50:150] = (90, 60, 40) if set_grey > 128 else (230, 200, 180)
    prob[40:120, 50:150] = 1.0
    stripes = (np.arange(120, 140) // 3) % 2 == 0
    values = {"stand": np.where(stripes, set_grey + 26, set_grey - 1), "striped shadow": np.where(stripes, 186, 168)}
    rgb[STAND] = values.get(part, np.full(20, 186))[:, None, None]
    prob[STAND] = 0.6
    return rgb, prob


def test_a_ridged_stand_cut_away_or_left_see_through_is_faint() -> None:
    report = clean_backdrop(*scene("stand"), firm_faint=False)
    assert float(report.prob[INSIDE].max()) < OPAQUE  # its rows of the set's colour cut, the lighter left at 0.6
    assert float(report.prob[INSIDE].min()) == 0.0
    assert report.faint > LIMITS["faint"]
    assert report.faint == pytest.approx(SHARE, abs=0.05)


def test_a_faint_stand_on_a_pale_set_is_made_solid_and_still_counted() -> None:
    report = clean_backdrop(*scene("stand"))
    assert float(report.prob[INSIDE].min()) == 1.0
    assert report.faint == pytest.approx(SHARE, abs=0.05)  # the user still checks it
    dark = clean_backdrop(*scene("stand", set_grey=60))  # a dark set: the model sees a white part there
    assert dark.faint > LIMITS["faint"]
    assert float(dark.prob[INSIDE].max()) < OPAQUE


@pytest.mark.parametrize("part", ["striped shadow", "shadow"])
def test_a_shadow_cut_away_is_not_faint(part: str) -> None:
    report = clean_backdrop(*scene(part))
    assert float(report.prob[INSIDE].max()) == 0.0
    assert report.faint == 0.0


def test_a_part_kept_solid_or_a_thin_soft_band_is_not_faint() -> None:
    _, prob = scene("stand")
    grad = np.zeros(prob.shape, np.float32)
    grad[120:140:2] = 9.0  # every other row on an edge: half the stand's pixels
    ring = prob == 0
    lighter = grad > 0
    parts = faint_parts(prob, grad, ring, lighter)
    assert faint_share(prob, prob, parts) > LIMITS["faint"]  # left at 0.6: see-through
    assert faint_share(prob, np.where(prob > 0, np.float32(1), prob), parts) == 0.0
    assert not faint_parts(prob, grad, ring, np.zeros_like(lighter)).any()  # nowhere lighter: a shadow
    band = np.zeros_like(prob)
    band[40:120, 50:150] = 1.0
    band[120:123, 60:140] = 0.6  # a 3-px soft band along the outline is no part
    assert not faint_parts(band, grad, ring, lighter).any()


def test_without_a_faint_part_nothing_is_made_solid() -> None:
    # The clean-up keeps the larger of this and its own map: zeros (float32, +0.0) leave every value of it as it was.
    before = np.random.default_rng(5).random((40, 30)).astype(np.float32)
    got = firmed(before, np.zeros(before.shape, bool))
    assert got.dtype == np.float32 and got.shape == before.shape
    assert not np.signbit(got).any() and not got.any()
    parts = np.zeros(before.shape, bool)
    parts[5:30, 5:20] = True
    assert firmed(before, parts).any()  # a large part is ramped from the model's map
