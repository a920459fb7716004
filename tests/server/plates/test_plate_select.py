"""Which library plate a scene uses: tags against the request's location, prompt, scene type and style."""

from __future__ import annotations

from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.plates.plate import PlateInfo
from paqshot_server.imaging.plates.select import choose, eligible

KITCHEN = PlateInfo("bdp_kitchen", tags=("kitchen", "white marble"))
CAFE = PlateInfo("bdp_cafe", tags=("cafe", "wood", "lifestyle"))
SHARED_KITCHEN = PlateInfo("bdp_shared_kitchen", tags=("kitchen", "white marble"), shared=True)
ACTION = PlateInfo("bdp_splash", tags=("action", "water"))
LIBRARY = (CAFE, SHARED_KITCHEN, KITCHEN, ACTION)


def _ids(options: RenderOptions) -> list[str | None]:
    return [plate.id for _score, plate in eligible(LIBRARY, options)]


def test_the_location_picks_its_plates_own_before_shared() -> None:
    assert _ids(RenderOptions(style="lifestyle", location="kitchen")) == ["bdp_kitchen", "bdp_shared_kitchen"]
    assert choose(LIBRARY, RenderOptions(style="lifestyle", location="kitchen"), seed=1) == KITCHEN


def test_a_multi_word_tag_needs_all_its_words() -> None:
    assert _ids(RenderOptions(style="mockup", prompt="on white marble")) == ["bdp_kitchen", "bdp_shared_kitchen"]
    assert _ids(RenderOptions(style="mockup", prompt="on marble")) == []


def test_a_place_nobody_tagged_gets_no_plate_even_when_the_style_matches() -> None:
    # The cafe plate says "lifestyle", but the request asks for a beach: the procedural set draws a beach.
    assert choose(LIBRARY, RenderOptions(style="lifestyle", location="a sunny beach"), seed=3) is None


def test_without_place_words_every_plate_may_serve_best_tag_first() -> None:
    options = RenderOptions(style="lifestyle")
    assert _ids(options)[0] == "bdp_cafe"  # its "lifestyle" tag scores
    assert {p.id for _s, p in eligible(LIBRARY, options)} == {p.id for p in LIBRARY if p.id != "bdp_splash"}


def test_action_and_abstract_scenes_need_a_plate_tagged_so() -> None:
    assert _ids(RenderOptions(style="lifestyle", scene_type="action")) == ["bdp_splash"]
    assert _ids(RenderOptions(style="lifestyle", scene_type="abstract")) == []


def test_equal_plates_are_chosen_by_the_variant_seed_and_reproducibly() -> None:
    twins = tuple(PlateInfo(f"bdp_{i}", tags=("studio",)) for i in range(4))
    options = RenderOptions(style="lifestyle", location="studio")
    picks = [choose(twins, options, seed=s) for s in range(40)]
    assert len({p.id for p in picks if p}) > 1
    assert picks == [choose(twins, options, seed=s) for s in range(40)]
