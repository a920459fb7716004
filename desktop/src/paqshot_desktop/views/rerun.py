"""Change options and render a result again from the photo the appliance already has (no re-upload)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..icons import icon
from ..options import InputSpec
from ..wire import StyleInfo
from .common import set_role
from .options_form import OptionsForm


class RerunDialog(QDialog):
    """The options form filled with a job's options; :meth:`values` after it is accepted."""

    def __init__(
        self,
        inputs: list[InputSpec],
        styles: tuple[StyleInfo, ...],
        prompt_limit: int,
        current: dict[str, Any],
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(480, 620)
        layout = QVBoxLayout(self)
        intro = QLabel("Change what you like; the appliance renders the same photo again as a new job.")
        intro.setWordWrap(True)
        set_role(intro, "muted")
        layout.addWidget(intro)
        self.form = OptionsForm()
        self.form.set_inputs(inputs, styles, prompt_limit)
        self.form.set_values(current)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.form)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox()
        run = buttons.addButton("Render again", QDialogButtonBox.ButtonRole.AcceptRole)
        run.setIcon(icon("rerun"))
        run.setProperty("role", "primary")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.form.submit.connect(self.accept)
        layout.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        """The options to send (disabled scene-only options left out)."""
        return self.form.values()
