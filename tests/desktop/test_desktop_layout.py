"""Layout regressions seen in screenshots: the options form must never be clipped sideways."""

from __future__ import annotations

from typing import Any

from paqshot_desktop.options import form_inputs
from paqshot_desktop.views.create import CreateView
from paqshot_desktop.wire import Capabilities
from PySide6.QtWidgets import QScrollArea


def test_long_batch_summary_does_not_squeeze_the_options_form(make_app: Any, caps: Capabilities, qtbot: Any) -> None:
    app = make_app()
    view = app.window.findChild(CreateView)
    assert view is not None
    view.set_inputs(form_inputs(caps, True), caps.styles, caps.limits.max_prompt_chars)
    view.summary.setText("5 photo(s), 4 ready, 1 cannot be sent (hover for why) " * 2)
    app.window.resize(1280, 800)
    app.window.show_page("create")
    app.window.show()
    qtbot.waitExposed(app.window)
    qtbot.wait(50)
    scroll = view.findChild(QScrollArea, "FormScroll")
    assert scroll is not None
    assert view.isVisible()
    assert not scroll.horizontalScrollBar().isVisible()
    assert scroll.widget().width() >= scroll.widget().minimumSizeHint().width()
