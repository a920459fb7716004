"""The viewer's before/after: the photo is mapped onto the result so that the product lands on itself."""

from __future__ import annotations

from typing import Any

from paqshot_desktop.views.viewer import before_transform, settings_rows
from paqshot_desktop.wire import Job, ProductBox, decode
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage


def test_the_products_box_in_the_photo_lands_on_its_box_in_the_result(qapp: Any) -> None:
    photo, result = QImage(900, 700, QImage.Format.Format_RGB32), QImage(2048, 2048, QImage.Format.Format_RGB32)
    box = ProductBox(input=(380, 200, 160, 400), output=(624, 224, 800, 2000))  # scaled 5x, moved
    transform, aligned = before_transform(photo, result, box)
    assert aligned
    top_left = transform.map(QPointF(380, 200))
    bottom_right = transform.map(QPointF(540, 600))
    assert (round(top_left.x()), round(top_left.y())) == (624, 224)
    assert (round(bottom_right.x()), round(bottom_right.y())) == (1424, 2224)


def test_without_a_box_the_photo_is_fitted_and_says_so(qapp: Any) -> None:
    photo, result = QImage(900, 700, QImage.Format.Format_RGB32), QImage(2048, 2048, QImage.Format.Format_RGB32)
    transform, aligned = before_transform(photo, result, None)
    assert not aligned
    corner = transform.map(QPointF(900, 700))
    assert round(corner.x()) == 2048 and 0 < corner.y() < 2048  # fitted inside, centred vertically


def test_settings_are_in_words() -> None:
    job = decode(
        Job,
        {
            "id": "gen_1",
            "status": "completed",
            "style": "studio_packshot",
            "aspect_ratio": "1:1",
            "created_at": "2026-06-09T14:00:00Z",
            "engine": "onnx:u2netp",
            "options": {"reflection": False, "background": "light_gray", "people": "none", "output_format": "png"},
        },
    )
    rows = dict(settings_rows(job))
    assert rows["Style"] == "Studio packshot" and rows["Made by"] == "Cut-out model u2netp"
    assert rows["Reflection"] == "No" and rows["Background"] == "Light grey" and rows["File format"] == "PNG"
    assert "People" not in rows  # a scene-only option is not listed for a packshot
    assert "T14" not in rows["Created"] and "2026" in rows["Created"]
    assert not any(v in ("False", "True", "studio_packshot", "light_gray") for v in rows.values())


def test_a_plate_engine_is_named_in_words() -> None:
    from paqshot_desktop.labels import engine_label

    assert engine_label("plate") == "Backdrop photograph"
    assert engine_label("plate+diffusion:sd15-inpainting") == "Backdrop photograph, contact blended by sd15-inpainting"


def test_the_repair_dialog_shows_the_shadow_option_only_where_the_appliance_has_it(qapp: Any) -> None:
    from paqshot_desktop.views.repair import RepairDialog

    photo = QImage(300, 200, QImage.Format.Format_RGB32)
    photo.fill(0xFFDDCCBB)
    older = RepairDialog(photo, None, False, "Repair")
    older.show()
    assert older.shadow.isHidden()  # no box the user can never tick on an appliance without the field
    assert older.shadow_note.isVisible() and "paint Remove over any shadow left" in older.shadow_note.text()
    older.render_button.click()  # nothing painted, nothing ticked: nothing to send
    assert older.result() == 0 and "Paint at least one stroke" in older.status.text()
    assert older.hint() is None
    older.close()
    current = RepairDialog(photo, None, True, "Repair")
    current.show()
    assert current.shadow.isVisible() and current.shadow.isEnabled() and current.shadow_note.isVisible()
    current.shadow.setChecked(True)
    current.render_button.click()  # the option alone is a repair
    assert current.result() == 1
