"""Palettes, layout rules per style, and people that never cover the product."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.options import LOCATIONS, RenderOptions
from paqshot_server.imaging.scenes.backdrop import Stage
from paqshot_server.imaging.scenes.canvas import Canvas
from paqshot_server.imaging.scenes.layout_rules import place_product, plan_scene
from paqshot_server.imaging.scenes.palettes import match_palette
from paqshot_server.imaging.scenes.sets import figures, reaching_hand
from paqshot_server.imaging.scenes.textures import MATERIALS, Noise, texture


@pytest.mark.parametrize(
    ("text", "palette"),
    [
        ("a sunny beach in Portugal", "beach"),
        ("coffee shop", "cafe"),
        ("forest clearing", "nature"),
        ("city rooftop", "urban"),
        ("marble bathroom", "bathroom"),
        ("co-working desk", "office"),
    ],
)
def test_free_text_picks_the_nearest_palette(text: str, palette: str) -> None:
    found, matched = match_palette(text)
    assert found.name == palette and matched


def test_presets_map_to_themselves_and_unknown_text_falls_back() -> None:
    for name in LOCATIONS:
        assert match_palette(name)[0].name == name
    assert match_palette("zqxv") == (match_palette("studio")[0], False)


def test_product_share_and_position_per_style() -> None:
    tall = (0, 0, 100, 300)
    for seed in range(6):
        life = plan_scene(RenderOptions(style="lifestyle"), None, seed)
        p = place_product(life, tall, (1024, 1024), None)
        assert 0.4 <= (p.dest_box[3] - p.dest_box[1]) / 1024 <= 0.6
        edit = plan_scene(RenderOptions(style="editorial"), None, seed)
        e = place_product(edit, tall, (1024, 1024), None)
        centre = (e.dest_box[0] + e.dest_box[2]) / 2 / 1024
        assert centre < 0.35 or centre > 0.65, "editorial leaves negative space on one side"
    mock = plan_scene(RenderOptions(style="mockup", location="studio"), None, 1)
    assert mock.set_piece == "podium"
    held = plan_scene(RenderOptions(style="mockup", people="with_people"), None, 1)
    assert held.set_piece == "hand"


def test_padding_sets_the_margin() -> None:
    plan = plan_scene(RenderOptions(style="lifestyle"), None, 0)
    p = place_product(plan, (0, 0, 100, 100), (1000, 1000), 0.2)
    assert p.dest_box[2] - p.dest_box[0] == 600


@pytest.mark.parametrize("style", ["lifestyle", "editorial"])
def test_people_never_reach_the_product(style: str) -> None:
    for seed in range(4):
        cv = Canvas((512, 512))
        cv.rgb[:] = 0.5
        before = cv.rgb.copy()
        plan = plan_scene(RenderOptions(style=style, people="with_people"), None, seed)
        box = place_product(plan, (0, 0, 80, 200), (512, 512), None).dest_box
        stage = Stage(horizon=300.0, floor_y=float(box[3]), product=tuple(float(v) for v in box))  # type: ignore[arg-type]
        rng = np.random.default_rng(seed)
        figures(cv, plan, stage, rng)
        reaching_hand(cv, plan, stage, rng)
        x0, y0, x1, y1 = box
        inside = np.abs(cv.rgb[y0:y1, x0:x1] - before[y0:y1, x0:x1]).max()
        assert inside < 0.02, "hands and figures must stay clear of the product's box"
        assert np.abs(cv.rgb - before).max() > 0.05, "and they are drawn somewhere"


@pytest.mark.parametrize("material", MATERIALS)
def test_textures_are_seeded_and_textured(material: str) -> None:
    u, v = np.meshgrid(np.linspace(0, 8, 64, dtype=np.float32), np.linspace(1, 4, 48, dtype=np.float32))
    a = texture(material, Noise(np.random.default_rng(3)), u, v, (200, 180, 150), (120, 90, 60))
    b = texture(material, Noise(np.random.default_rng(3)), u, v, (200, 180, 150), (120, 90, 60))
    c = texture(material, Noise(np.random.default_rng(4)), u, v, (200, 180, 150), (120, 90, 60))
    assert a.shape == (48, 64, 3) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.std() > 0.005


@pytest.mark.parametrize("light_side", [-1, 1])
def test_key_light_shadow_falls_away_from_the_light(light_side: int) -> None:
    from paqshot_server.imaging.compose import ProductLayer
    from paqshot_server.imaging.scenes.procedural import cast_shadow_layer

    alpha = np.ones((200, 60), np.float32)
    layer = ProductLayer(np.zeros((200, 60, 3), np.uint8), alpha, 220, 200)
    shade = cast_shadow_layer(layer, (500, 500), (220, 200, 280, 400), light_side, 0.8)
    assert shade is not None
    left, right = shade[:, :220].mean(), shade[:, 280:].mean()
    if light_side < 0:
        assert right < left - 0.005, "light from the left casts to the right"
    else:
        assert left < right - 0.005, "light from the right casts to the left"


def test_prompt_keywords_steer_the_procedural_set() -> None:
    plain = plan_scene(RenderOptions(style="lifestyle", location="cafe"), None, 1)
    steered = plan_scene(RenderOptions(style="lifestyle", location="cafe", prompt="on dark marble, moody"), None, 1)
    assert plain.surface == "wood" and steered.surface == "marble"
    assert steered.exposure < plain.exposure
    tinted = plan_scene(RenderOptions(style="lifestyle", location="studio", prompt="terracotta tones"), None, 1)
    assert tinted.tint == "terracotta" and tinted.palette.wall_top != plain.palette.wall_top
    hex_tint = plan_scene(RenderOptions(style="mockup", background="#336699"), (0x33, 0x66, 0x99), 1)
    assert hex_tint.tint == "#336699"


def test_lifestyle_scenes_get_a_supporting_prop_and_editorial_keeps_its_space() -> None:
    from paqshot_server.imaging.scenes import render_scene
    from PIL import Image

    img = Image.new("RGBA", (60, 160), (0, 0, 0, 0))
    img.paste((30, 120, 60, 255), (5, 5, 55, 155))
    life = render_scene(img, RenderOptions(style="lifestyle", location="cafe", seed=3, long_side=256))
    assert "prop:cup" in life.meta["scene"]["drawn"]  # type: ignore[index]
    edit = render_scene(img, RenderOptions(style="editorial", location="cafe", seed=3, long_side=256))
    assert not any(d.startswith("prop:") for d in edit.meta["scene"]["drawn"])  # type: ignore[index, union-attr]
