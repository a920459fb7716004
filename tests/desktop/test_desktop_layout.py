"""Layout at the app's default window size and at 1024×700: no field, button or label may be clipped.

A control is clipped when it is narrower or shorter than its own minimum size hint (a combo without its arrow,
a button without its text), when it reaches outside the visible part of its page or of a scroll area's
viewport, or when a scroll area needs a horizontal scrollbar. The screenshots of issue 12 showed the options
form clipped at the default size; these tests fail on that layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from desktop_support import BRANDS
from paqshot_desktop.branding import load_brand
from paqshot_desktop.options import form_inputs
from paqshot_desktop.views.mainwindow import DEFAULT_SIZE
from paqshot_desktop.wire import Capabilities, PresetInfo, decode
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QWidget,
)

SIZES = [DEFAULT_SIZE, (1024, 700)]
# The appliance's built-in presets as GET /v1/presets titles them (the picker shows the titles).
PRESETS = tuple(
    PresetInfo(preset_id, title)
    for preset_id, title in (
        ("amazon_main", "Amazon main image"),
        ("amazon_additional", "Amazon additional image"),
        ("ebay", "eBay listing photo"),
        ("etsy", "Etsy listing photo"),
        ("fashion_packshot", "Fashion catalogue packshot"),
        ("google_shopping", "Google Shopping main image"),
        ("shopify", "Shopify product image"),
    )
)
FIXTURES = Path(__file__).parent / "fixtures"
CONTROLS = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QPlainTextEdit)


def _visible_rect(widget: QWidget, page: QWidget) -> QRect:
    """The part of ``page`` where ``widget`` may show: the page, or the viewport of the scroll area it is in."""
    parent = widget.parentWidget()
    while parent is not None and parent is not page:
        if isinstance(parent, QScrollArea):
            viewport = parent.viewport()
            return QRect(viewport.mapTo(page, QPoint(0, 0)), viewport.size())
        parent = parent.parentWidget()
    return page.rect()


def clipped(page: QWidget) -> list[str]:
    """Every visible control of ``page`` that is cut off, with why."""
    problems = []
    for area in page.findChildren(QAbstractScrollArea):
        if area.isVisible() and area.horizontalScrollBar().isVisible():
            problems.append(f"{type(area).__name__} {area.objectName()!r} scrolls sideways")
    for widget in page.findChildren(QWidget):
        if not widget.isVisible() or not isinstance(widget, (*CONTROLS, QLabel)):
            continue
        if isinstance(widget, QLabel) and (widget.wordWrap() or not widget.text()):
            continue
        if isinstance(widget.parentWidget(), QAbstractSpinBox | QComboBox | QLineEdit):
            continue  # a spin box's or combo's own line edit, a line edit's clear button
        name = f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r} {widget.toolTip()[:30]!r}"
        need = widget.minimumSizeHint()
        if widget.width() < need.width() or widget.height() < need.height():
            problems.append(f"{name}: {widget.width()}×{widget.height()} < its minimum {need.width()}×{need.height()}")
            continue
        rect = QRect(widget.mapTo(page, QPoint(0, 0)), widget.size())
        visible = _visible_rect(widget, page)
        if rect.left() < visible.left() or rect.right() > visible.right():
            problems.append(f"{name}: x {rect.left()}..{rect.right()} outside {visible.left()}..{visible.right()}")
    return problems


def _show(app: Any, qtbot: Any, size: tuple[int, int], page: str) -> None:
    app.window.resize(*size)
    app.window.show()
    qtbot.waitExposed(app.window)
    app.window.show_page(page)
    qtbot.wait(80)  # layouts settle
    assert (app.window.width(), app.window.height()) == size


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("brand_id", ["paqshot", "noir"])
@pytest.mark.parametrize("fields", ["spec-and-early-extensions", "all-extensions"])
def test_the_options_form_is_not_clipped(
    make_app: Any, caps: Capabilities, qtbot: Any, size: tuple[int, int], brand_id: str, fields: str
) -> None:
    if fields == "all-extensions":  # the appliance's whole field list today, scene engines available
        caps = decode(Capabilities, json.loads((FIXTURES / "capabilities-extensions.json").read_text()))
    app = make_app(load_brand(BRANDS / brand_id))
    view = app.window.create_view
    view.set_inputs(form_inputs(caps, True, PRESETS), caps.styles, caps.limits.max_prompt_chars)
    view.form.editor("style").set_value("lifestyle")  # the first-run hint (scenes only), when it applies,
    app.controller._procedural_hint(caps)  # sits above the form
    view.form.editor("background").set_value("#A0B0C0")  # the longest background item
    if "preset" in view.form.names():  # the longest preset title ("Amazon main image" was cut at 1024 px)
        view.form.set_values({"preset": "amazon_main", "compliance_check": ["amazon_additional"]})
    view.summary.setText("125 photos · 124 ready · 1 cannot be sent " * 3)
    app.window.set_connected(True, "Connected to\n127.0.0.1:8000")
    _show(app, qtbot, size, "create")
    assert clipped(view) == []
    assert not view.form_scroll.horizontalScrollBar().isVisible()
    for name in view.form.names():  # every field is at least as wide as it needs, inside the panel
        editor = view.form.editor(name)
        assert editor.width() >= editor.minimumSizeHint().width(), name


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("page", ["connect", "queue", "results"])
def test_the_other_pages_are_not_clipped(make_app: Any, qtbot: Any, size: tuple[int, int], page: str) -> None:
    app = make_app(load_brand(BRANDS / "noir"))
    app.window.set_connected(True, "Connected to\n127.0.0.1:8000")
    _show(app, qtbot, size, page)
    widget = {"connect": app.window.connect_view, "queue": app.window.queue_view, "results": app.window.results_view}
    assert clipped(widget[page]) == []


def test_a_batchs_counts_keep_to_two_lines_and_leave_the_tiles_room(
    make_app: Any, caps: Capabilities, qtbot: Any, tmp_path: Path
) -> None:
    """breaker13 B13-8: at 1024x700 the counts of a batch of 10 shared a row with the two buttons, wrapped into 7
    lines and squeezed the tile grid to about one row."""
    app = make_app()
    view = app.window.create_view
    view.set_inputs(form_inputs(caps, True, PRESETS), caps.styles, caps.limits.max_prompt_chars)
    view.summary.setText("10 photos · 0 ready · 3 cannot be sent · 2 refused by the appliance")
    app.window.set_connected(True, "Connected to\n127.0.0.1:8000")
    _show(app, qtbot, (1024, 700), "create")
    assert view.summary.height() <= 2 * view.summary.fontMetrics().lineSpacing() + 4  # two lines at most
    assert view.files.height() >= view.height() // 2  # the tiles keep half the page
    assert clipped(view) == []


def test_the_check_sees_a_clipped_combo(qtbot: Any) -> None:
    """The check itself: a combo squeezed below its minimum is reported."""
    from PySide6.QtWidgets import QHBoxLayout

    page = QWidget()
    row = QHBoxLayout(page)
    combo = QComboBox()
    combo.addItem("Transparent (PNG) background")
    combo.setMinimumWidth(1)
    combo.setMaximumWidth(40)
    row.addWidget(combo)
    page.resize(300, 60)
    page.show()
    qtbot.waitExposed(page)
    assert any("QComboBox" in p for p in clipped(page))
