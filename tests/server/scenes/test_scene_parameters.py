"""Every request field does something: changing any one of them changes the image or the final prompts."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paqshot_server.imaging.options import ASPECT_RATIOS, LOCATIONS, PEOPLE, SCENE_TYPES, RenderOptions
from paqshot_server.imaging.scenes import SCENE_STYLES, render_scene
from PIL import Image
from scene_support import decode

FREE_LOCATIONS = ("a sunny beach", "marble bathroom", "rooftop bar at night", "grandmother's attic")
BACKGROUNDS = (None, "white", "off_white", "light_gray", "black", "#3366aa", "#c4a1d9")
PROMPTS = (None, "pink marble, bright", "moody and dark", "with autumn leaves", "blue neon glow")
FIELDS = {
    "style": st.sampled_from(SCENE_STYLES),
    "scene_type": st.sampled_from(SCENE_TYPES),
    "people": st.sampled_from(PEOPLE),
    "location": st.sampled_from((None, *LOCATIONS, *FREE_LOCATIONS)),
    "aspect_ratio": st.sampled_from(ASPECT_RATIOS),
    "background": st.sampled_from(BACKGROUNDS),
    "prompt": st.sampled_from(PROMPTS),
    "negative_prompt": st.sampled_from((None, "plastic", "clutter, cables")),
    "seed": st.integers(0, 2**32 - 1),
}
PRODUCT = Image.new("RGBA", (60, 100), (0, 0, 0, 0))
PRODUCT.paste((200, 60, 40, 255), (10, 10, 50, 95))


def canonical(field: str, value: object) -> object:
    """Values that mean the same by definition: an omitted location is the studio (docs/scenes.md)."""
    return "studio" if field == "location" and value is None else value


def fingerprint(opts: RenderOptions) -> tuple[bytes, str, str, tuple[int, int]]:
    result = render_scene(PRODUCT, opts)
    pixels = decode(result)
    return pixels.tobytes(), str(result.meta["prompt"]), str(result.meta["negative_prompt"]), pixels.shape[:2]


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.fixed_dictionaries(FIELDS), field=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_changing_any_field_changes_the_image_or_the_prompt(base: dict, field: str, data: st.DataObject) -> None:
    same = canonical(field, base[field])
    other = data.draw(FIELDS[field].filter(lambda v: canonical(field, v) != same), label=f"other {field}")
    a = RenderOptions(**base, long_side=96, output_format="png")
    b = dataclasses.replace(a, **{field: other})
    fa, fb = fingerprint(a), fingerprint(b)
    assert fa != fb, f"changing {field} from {base[field]!r} to {other!r} changed nothing"


def test_visible_fields_change_pixels() -> None:
    """The fields the procedural engine draws change pixels themselves, not only the prompt."""
    base = RenderOptions(style="lifestyle", location="cafe", seed=4, long_side=128, output_format="png")
    ref = decode(render_scene(PRODUCT, base)).astype(np.int16)
    changes = {
        "style": "editorial",
        "scene_type": "abstract",
        "people": "with_people",
        "location": "nature",
        "background": "#3366aa",
        "prompt": "pink marble",
        "seed": 5,
        "shadow": "hard",
        "reflection": True,
    }
    for field, value in changes.items():
        out = decode(render_scene(PRODUCT, dataclasses.replace(base, **{field: value}))).astype(np.int16)
        changed = (np.abs(out - ref).max(axis=2) > 6).mean()
        assert changed > 0.005, f"{field}={value!r} made no visible difference ({changed:.4f} of pixels changed)"


def test_free_text_location_is_in_the_prompt_verbatim() -> None:
    opts = RenderOptions(style="lifestyle", location="grandmother's attic", seed=1, long_side=96)
    result = render_scene(PRODUCT, opts)
    assert "grandmother's attic" in str(result.meta["prompt"])
    assert any("matched no known place" in n for n in result.notes)


def test_user_prompt_is_appended_and_people_rules_reach_the_prompts() -> None:
    with_people = render_scene(
        PRODUCT, RenderOptions(style="lifestyle", people="with_people", prompt="on a picnic", seed=1, long_side=96)
    )
    prompt = str(with_people.meta["prompt"])
    assert prompt.endswith("on a picnic") and "hands" in prompt
    assert "person" not in str(with_people.meta["negative_prompt"])
    for people in ("none", "without_people"):
        neg = str(
            render_scene(PRODUCT, RenderOptions(style="lifestyle", people=people, seed=1, long_side=96)).meta[
                "negative_prompt"
            ]
        )
        assert "people" in neg and "hands" in neg
