"""The form as data: inputs from capabilities, validation like the server's, file checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop_support import product_bytes
from paqshot_desktop.options import (
    build_request,
    check_file,
    choices,
    collect_images,
    form_inputs,
    spec_capabilities,
    validate_values,
)
from paqshot_desktop.wire import Capabilities, Limits


def base_values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "style": "studio_packshot",
        "aspect_ratio": "1:1",
        "background": "",
        "prompt": "",
    }
    values.update(changes)
    return values


def test_inputs_come_from_the_appliance_with_extensions_marked(caps: Capabilities) -> None:
    inputs = {spec.name: spec for spec in form_inputs(caps)}
    assert "product_image" not in inputs and "webhook_url" not in inputs
    for name in ("style", "scene_type", "background", "aspect_ratio", "people", "location", "prompt"):
        assert not inputs[name].field.extension
    # Extensions are whatever the server lists: none of them is known to the desktop in advance.
    extensions = {n for n, s in inputs.items() if s.field.extension}
    assert extensions == {f.name for f in caps.fields if f.extension}
    assert inputs["seed"].kind == "int" and inputs["reflection"].kind == "bool"
    assert inputs["padding"].kind == "number" and inputs["shadow"].kind == "choice"
    assert inputs["background"].kind == "color" and inputs["location"].kind == "open_choice"
    assert inputs["prompt"].kind == "long_text"


def test_a_brand_can_hide_extensions(caps: Capabilities) -> None:
    names = {spec.name for spec in form_inputs(caps, include_extensions=False)}
    assert "seed" not in names and "shadow" not in names and "prompt" in names


def test_named_backgrounds_come_from_the_servers_pattern(caps: Capabilities) -> None:
    background = caps.field("background")
    assert background is not None
    assert choices(background) == ("white", "off_white", "light_gray", "black", "transparent")


def scene_problems(caps: Capabilities, **changes: Any) -> dict[str, str]:
    """Problems other than the style's (the recorded appliance has no scene engine)."""
    problems = validate_values(base_values(style="mockup", **changes), caps)
    problems.pop("style", None)
    return problems


def test_valid_values_pass(caps: Capabilities) -> None:
    values = {"background": "#1A2B3C", "prompt": "on oak", "seed": 7, "num_variants": 4, "location": "a rooftop bar"}
    assert scene_problems(caps, **values) == {}


def test_prompt_over_the_limit_is_refused(caps: Capabilities) -> None:
    assert scene_problems(caps, prompt="x" * 501) == {"prompt": "501 characters; the limit is 500."}
    assert scene_problems(caps, prompt="x" * 500) == {}


def test_scene_only_options_are_neither_checked_nor_sent_for_a_packshot(caps: Capabilities) -> None:
    values = base_values(prompt="x" * 900, num_variants=9, people="with_people", shadow="hard")
    assert validate_values(values, caps) == {}
    body = build_request(values, "data:image/png;base64,AA", caps)
    assert "prompt" not in body and "num_variants" not in body and "people" not in body
    assert body["shadow"] == "hard"


def test_background_must_be_a_name_or_a_hex_colour(caps: Capabilities) -> None:
    assert "background" in validate_values(base_values(background="red"), caps)
    assert "background" in validate_values(base_values(background="#12345"), caps)
    assert validate_values(base_values(background="transparent"), caps) == {}


def test_numbers_respect_the_servers_range(caps: Capabilities) -> None:
    assert scene_problems(caps, num_variants=5) == {"num_variants": "Must be at most 4."}
    assert validate_values(base_values(padding=-1.0), caps) == {"padding": "Must be at least 0."}
    assert "seed" in scene_problems(caps, seed=2**32)


def test_unknown_enum_value_and_unavailable_style(caps: Capabilities) -> None:
    assert "aspect_ratio" in validate_values(base_values(aspect_ratio="5:4"), caps)
    problems = validate_values(base_values(style="lifestyle"), caps)
    assert "not installed" in problems["style"]  # the server's own reason is shown
    assert validate_values(base_values(style=None), caps) == {"style": "Choose a style."}


def test_spec_only_appliance_gets_the_spec_fields() -> None:
    caps = spec_capabilities()
    assert [s.name for s in caps.styles] == ["studio_packshot", "lifestyle", "editorial", "mockup"]
    assert not any(f.extension for f in caps.fields)
    assert validate_values(base_values(background="off_white"), caps) == {}
    assert "background" in validate_values(base_values(background="transparent"), caps)


def test_request_has_only_known_non_empty_fields(caps: Capabilities) -> None:
    body = build_request(base_values(seed=None, shadow="hard", bogus="x"), "data:image/png;base64,AA", caps)
    assert body == {
        "product_image": "data:image/png;base64,AA",
        "style": "studio_packshot",
        "aspect_ratio": "1:1",
        "shadow": "hard",
    }


def test_file_checks_in_plain_words(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    good.write_bytes(product_bytes())
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    assert check_file(good, Limits()) is None
    assert check_file(fake, Limits()) == "Not a JPEG, PNG or WebP image."
    big = check_file(good, Limits(max_image_bytes=100))
    assert big is not None and "too large" in big
    assert "Cannot read" in (check_file(tmp_path / "missing.jpg", Limits()) or "")


def test_folders_expand_to_images_only(tmp_path: Path) -> None:
    (tmp_path / "shoot" / "sub").mkdir(parents=True)
    for name in ("a.jpg", "sub/b.PNG", "c.webp", "notes.txt"):
        (tmp_path / "shoot" / name).write_bytes(b"x")
    single = tmp_path / "single.jpeg"
    single.write_bytes(b"x")
    found = collect_images([tmp_path / "shoot", single, single])
    assert [p.name for p in found] == ["a.jpg", "c.webp", "b.PNG", "single.jpeg"]
