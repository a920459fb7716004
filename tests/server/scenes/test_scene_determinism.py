"""Seeds: the same seed gives the same image, variants differ, a missing seed is chosen and returned."""

from __future__ import annotations

import numpy as np
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.scenes import render_scene
from scene_support import decode


def test_same_seed_same_image(bottle) -> None:
    opts = RenderOptions(style="editorial", location="urban", people="with_people", seed=1234, long_side=256)
    a, b = render_scene(bottle, opts), render_scene(bottle, opts)
    assert a.images[0].data == b.images[0].data
    assert a.meta["seed"] == 1234 and a.meta["scene"] == b.meta["scene"]


def test_variants_differ_and_the_first_is_the_seed_itself(bottle) -> None:
    opts = RenderOptions(style="lifestyle", location="nature", seed=77, num_variants=3, long_side=256)
    result = render_scene(bottle, opts)
    assert len(result.images) == 3
    seeds = result.meta["seeds"]
    assert seeds[0] == 77 and len(set(seeds)) == 3  # type: ignore[arg-type, index]
    pixels = [decode(result, i).astype(np.int16) for i in range(3)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(pixels[i] - pixels[j]).mean() > 2.0
    single = render_scene(bottle, RenderOptions(style="lifestyle", location="nature", seed=77, long_side=256))
    assert single.images[0].data == result.images[0].data


def test_missing_seed_is_chosen_returned_and_reproducible(bottle) -> None:
    first = render_scene(bottle, RenderOptions(style="mockup", long_side=200))
    seed = first.meta["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    again = render_scene(bottle, RenderOptions(style="mockup", long_side=200, seed=seed))
    assert again.images[0].data == first.images[0].data
    assert first.meta["prompt"] and first.meta["negative_prompt"]
    assert {"palette", "set", "surface", "light", "kind"} <= set(first.meta["scene"])  # type: ignore[arg-type]


def test_progress_is_reported_and_can_cancel(bottle) -> None:
    seen: list[float] = []
    render_scene(bottle, RenderOptions(style="lifestyle", seed=1, long_side=128, num_variants=2), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 4

    class Cancelled(Exception):
        pass

    def cancel(fraction: float) -> None:
        if fraction > 0.1:
            raise Cancelled

    try:
        render_scene(bottle, RenderOptions(style="lifestyle", seed=1, long_side=128, num_variants=2), progress=cancel)
    except Cancelled:
        pass
    else:
        raise AssertionError("a raising progress callback must stop the render")
