"""The backdrop kept in a product's openings on a strongly coloured backdrop (:func:`.seethrough.backdrop_kept`)."""

from __future__ import annotations

import numpy as np
from paqshot_server.imaging.seethrough import KEPT_MIN, backdrop_kept
from paqshot_server.imaging.spill import SPILL_FROM


def ring_product() -> tuple[np.ndarray, np.ndarray]:
    """A 100 x 100 grid: a solid 60 x 60 product whose middle 20 x 20 (a hole the model filled) is the backdrop's
    colour, and the backdrop's colour all around it."""
    kept = np.zeros((100, 100), bool)
    kept[20:80, 20:80] = True
    backdrop = ~kept
    backdrop[40:60, 40:60] = True
    return kept, backdrop


def test_an_opening_left_filled_on_a_coloured_backdrop_is_its_share_of_the_product() -> None:
    kept, backdrop = ring_product()
    assert backdrop_kept(kept, backdrop, chroma=SPILL_FROM + 20) == 400 / 3600


def test_nothing_is_counted_on_a_neutral_backdrop() -> None:
    # Paper, a sweep or a wall: a product's pale parts have the backdrop's colour too.
    kept, backdrop = ring_product()
    assert backdrop_kept(kept, backdrop, chroma=SPILL_FROM - 1) == 0.0


def test_the_outlines_mixed_colours_and_specks_are_not_counted() -> None:
    kept, _ = ring_product()
    backdrop = ~kept
    backdrop[20:22, 20:80] = True  # the outline's band, 2 px deep
    backdrop[50:51, 50 : 50 + KEPT_MIN - 1] = True  # a speck one pixel short of counting
    assert backdrop_kept(kept, backdrop, chroma=SPILL_FROM + 20) == 0.0
