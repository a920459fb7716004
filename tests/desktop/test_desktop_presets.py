"""Marketplace presets in the desktop (issue 13): the picker, sending only what the user set, the report in words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from desktop_support import RunningAppliance, product_bytes
from paqshot_desktop.options import explicit_values, form_inputs
from paqshot_desktop.views.editors import PresetEditor, PresetsEditor
from paqshot_desktop.views.rerun import RerunDialog
from paqshot_desktop.views.viewer import compliance_html, settings_rows
from paqshot_desktop.wire import Capabilities, Job, PresetInfo, decode

FIXTURES = Path(__file__).parent / "fixtures"
AMAZON = PresetInfo(
    "amazon_main",
    "Amazon main image",
    "Pure white, product fills 85 %",
    {"aspect_ratio": "1:1", "background": "white", "shadow": "none", "padding": 0.05, "long_side": 2000},
)
EBAY = PresetInfo("ebay", "eBay", "", {"aspect_ratio": "1:1", "output_format": "jpeg"})


@pytest.fixture
def ext_caps() -> Capabilities:
    return decode(Capabilities, json.loads((FIXTURES / "capabilities-extensions.json").read_text()))


def test_preset_fields_come_right_after_the_style_as_pickers(ext_caps: Capabilities) -> None:
    inputs = form_inputs(ext_caps, True, (AMAZON, EBAY))
    names = [i.name for i in inputs]
    assert names[:3] == ["style", "preset", "compliance_check"]
    kinds = {i.name: i.kind for i in inputs}
    assert kinds["preset"] == "preset" and kinds["compliance_check"] == "presets"
    # Without the appliance's list they stay plain inputs, where extensions go.
    plain = {i.name: i.kind for i in form_inputs(ext_caps, True)}
    assert plain["preset"] == "text" and "presets" not in plain.values()


def test_with_a_preset_only_what_the_user_set_is_sent(ext_caps: Capabilities) -> None:
    shown = {
        "style": "studio_packshot",
        "preset": "amazon_main",
        "compliance_check": None,
        "aspect_ratio": "1:1",  # the preset's value
        "background": "white",  # the preset's value
        "shadow": "hard",  # the user's: differs from the preset's "none"
        "padding": 0.05,  # the preset's value
        "output_format": "png",  # the user's: the preset does not set it and it is not the default
        "reflection": False,  # the appliance's default, which the preset leaves alone
    }
    sent = explicit_values(shown, ext_caps, (AMAZON, EBAY))
    assert sent == {
        "style": "studio_packshot",
        "preset": "amazon_main",
        "compliance_check": None,
        "shadow": "hard",
        "output_format": "png",
    }
    # No preset (or one the appliance does not list): everything shown is sent, as before.
    assert explicit_values({**shown, "preset": None}, ext_caps, (AMAZON,)) == {**shown, "preset": None}


def test_picking_a_preset_shows_its_values_and_restoring_does_not(qapp: Any, ext_caps: Capabilities) -> None:
    from paqshot_desktop.views.options_form import OptionsForm

    form = OptionsForm()
    form.set_inputs(form_inputs(ext_caps, True, (AMAZON, EBAY)), ext_caps.styles, 500)
    picker = form.editor("preset")
    assert isinstance(picker, PresetEditor)
    assert [picker.combo.itemText(i) for i in range(picker.combo.count())] == ["None", "Amazon main image", "eBay"]
    form.set_values({"preset": "amazon_main", "shadow": "hard"})  # restored: the user's own shadow stays
    assert form.values()["shadow"] == "hard"
    picker.combo.setCurrentIndex(1)
    picker.combo.activated.emit(1)  # the user picks it: the form shows what the preset sets
    values = form.values()
    assert values["preset"] == "amazon_main" and values["shadow"] == "none" and values["aspect_ratio"] == "1:1"
    checks = form.editor("compliance_check")
    assert isinstance(checks, PresetsEditor)
    checks.set_value(["ebay", "amazon_main"])
    assert sorted(checks.value()) == ["amazon_main", "ebay"] and checks.button.text() == "2 presets"


def _checked_job() -> Job:
    return decode(
        Job,
        {
            "id": "gen_1",
            "status": "completed",
            "style": "studio_packshot",
            "aspect_ratio": "1:1",
            "created_at": "2026-06-09T14:00:00Z",
            "options": {"preset": "amazon_main", "compliance_check": ["ebay"], "shadow": "hard"},
            "compliance": [
                {
                    "preset": "amazon_main",
                    "passed": False,
                    "rules": [
                        {"rule": "background_purity", "passed": True, "message": "99.8% is exactly white"},
                        {
                            "rule": "shadow",
                            "passed": False,
                            "measured": 41,
                            "required": "at most 6 levels",
                            "message": "shadow next to the product darkens the background by 41 levels",
                        },
                        {"rule": "cropped_at_edge", "passed": False, "message": "product touches the left edge"},
                    ],
                },
                {"preset": "ebay", "passed": True, "rules": [{"rule": "long_side", "passed": True, "message": ""}]},
            ],
        },
    )


def test_the_compliance_report_is_in_words_with_the_rule_labels() -> None:
    titles = {"amazon_main": "Amazon main image", "ebay": "eBay"}
    text = compliance_html(_checked_job(), titles)
    assert "<b>Amazon main image</b>: fails 2 of 3 rules" in text
    assert "<b>Shadow</b>: Shadow next to the product darkens the background by 41 levels." in text
    assert "<b>Product whole in the frame</b>: Product touches the left edge." in text
    assert "Met: Background." in text
    assert "<b>eBay</b>" in text and "meets every rule" in text
    assert "cropped_at_edge" not in text and "amazon_main" not in text  # ids never shown
    rows = dict(settings_rows(_checked_job(), titles))
    assert rows["Marketplace"] == "Amazon main image" and rows["Also check for"] == "eBay"
    assert compliance_html(decode(Job, {**_minimal(), "compliance": []})) == ""


def _minimal() -> dict[str, Any]:
    return {"id": "gen_2", "status": "completed", "style": "studio_packshot", "aspect_ratio": "1:1", "created_at": ""}


@pytest.mark.e2e
@pytest.mark.slow
def test_a_preset_picked_in_the_form_renders_and_its_report_shows_in_the_viewer(
    qtbot: Any, make_app: Any, appliance: RunningAppliance, tmp_path: Path
) -> None:
    """Against a real appliance: its preset list fills the picker; amazon_main with the user's own hard shadow
    renders 2000 px square (the preset's size) and its report names the shadow in words in the viewer."""
    photo = tmp_path / "bottle.jpg"
    photo.write_bytes(product_bytes("JPEG", (480, 360)))
    app = make_app()
    controller, window = app.controller, app.window
    controller.connect_to(appliance.url, appliance.key)
    qtbot.waitUntil(lambda: window.current_page == "create", timeout=20_000)
    form = window.create_view.form
    picker = form.editor("preset")
    assert isinstance(picker, PresetEditor)
    titles = [picker.combo.itemText(i) for i in range(picker.combo.count())]
    assert "Amazon main image" in titles and len(titles) >= 8  # "None" and the seven built-in presets
    index = picker.combo.findData("amazon_main")
    picker.combo.setCurrentIndex(index)
    picker.combo.activated.emit(index)
    assert form.values()["shadow"] == "none"
    form.editor("shadow").set_value("hard")  # the user's own choice wins over the preset's

    controller.batch.add_files([photo])
    qtbot.waitUntil(window.create_view.submit_button.isEnabled, timeout=10_000)
    controller.poll_timer.setInterval(300)
    window.create_view.submit_button.click()
    qtbot.waitUntil(lambda: window.results_view.grid.count() >= 1, timeout=120_000)
    job = window.results_view.jobs()[0]
    assert job.status == "completed" and (job.width, job.height) == (2000, 2000)
    assert job.options["preset"] == "amazon_main" and job.options["shadow"] == "hard"
    report = {r.preset: r for r in job.compliance}["amazon_main"]
    assert not report.passed and any(r.rule == "shadow" and not r.passed for r in report.rules)

    controller.results.open_viewer(job)
    viewer = controller.results.viewer
    assert viewer is not None
    info = viewer.info.text()
    assert "<b>Amazon main image</b>: fails" in info and "<b>Shadow</b>:" in info
    viewer.reject()

    # "Change options…" and "Generate again" re-run the stored photo; the preset's size (an option no request
    # sends) is kept (breaker13 B13-5: both were refused for every preset job).
    feedback = window.queue_view.message

    def shown(results: int) -> None:
        def done() -> bool:
            return window.results_view.grid.count() >= results or "not" in feedback.text()

        qtbot.waitUntil(done, timeout=120_000)
        assert "not" not in feedback.text(), feedback.text()  # "Could not start it: …"

    controller.results.ask_rerun(job)
    dialog = controller.results.dialog
    assert isinstance(dialog, RerunDialog)
    dialog.form.editor("shadow").set_value("soft")
    dialog.accept()
    shown(2)
    controller.results.generate_again(job)
    shown(3)
    reruns = [j for j in window.results_view.jobs() if j.rerun_of == job.id]
    assert sorted(j.options["shadow"] for j in reruns) == ["hard", "soft"]
    assert all(j.status == "completed" and (j.width, j.height) == (2000, 2000) for j in reruns)

    # "Change options…" with another Marketplace: that preset's values replace the source's (its user-set hard
    # shadow and amazon's white, 1:1 included), so the result meets the new preset (breaker13 B13-17).
    controller.results.ask_rerun(job)
    dialog = controller.results.dialog
    assert isinstance(dialog, RerunDialog)
    picker = dialog.form.editor("preset")
    assert isinstance(picker, PresetEditor)
    index = picker.combo.findData("fashion_packshot")
    picker.combo.setCurrentIndex(index)
    picker.combo.activated.emit(index)
    dialog.accept()
    shown(4)
    (fashion,) = [j for j in window.results_view.jobs() if j.options.get("preset") == "fashion_packshot"]
    assert fashion.status == "completed" and (fashion.width, fashion.height) == (1467, 2200)
    assert fashion.options["shadow"] == "none" and fashion.options["background"] == "light_gray"
    assert [r.passed for r in fashion.compliance if r.preset == "fashion_packshot"] == [True]
