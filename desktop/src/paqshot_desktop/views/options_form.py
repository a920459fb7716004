"""The generation options form, built from the appliance's field list (plain data in, plain data out)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..options import InputSpec
from ..wire import StyleInfo
from .common import repolish
from .editors import Editor, make_editor


class OptionsForm(QWidget):
    """One row per input the appliance offers; ``values()`` returns the request fields."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self._editors: dict[str, Editor] = {}
        self._errors: dict[str, QLabel] = {}

    def editor(self, name: str) -> Editor:
        """The widget editing field ``name``."""
        return self._editors[name]

    def names(self) -> list[str]:
        """Field names in form order."""
        return list(self._editors)

    def set_inputs(self, inputs: list[InputSpec], styles: tuple[StyleInfo, ...], prompt_limit: int) -> None:
        """Rebuild the form for an appliance's fields and styles."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors.clear()
        self._errors.clear()
        for spec in inputs:
            editor = make_editor(spec, styles, prompt_limit)
            editor.changed.connect(self.changed)
            error = QLabel()
            error.setProperty("role", "error")
            error.setWordWrap(True)
            error.hide()
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(editor)
            column.addWidget(error)
            extension = spec.field.extension
            label = QLabel(spec.label + (" ✦" if extension else ""))
            tip = (spec.field.description + (" (extension of this appliance)" if extension else "")).strip()
            label.setToolTip(tip)
            editor.setToolTip(tip)
            self.form.addRow(label, box)
            self._editors[spec.name] = editor
            self._errors[spec.name] = error

    def values(self) -> dict[str, Any]:
        """Current values of every input (None/empty means "server default")."""
        return {name: editor.value() for name, editor in self._editors.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill inputs from a previous request (unknown keys are ignored)."""
        for name, value in values.items():
            editor = self._editors.get(name)
            if editor is not None:
                editor.set_value(value)

    def show_problems(self, problems: dict[str, str]) -> None:
        """Show each field's problem under it (empty dict clears them)."""
        for name, label in self._errors.items():
            text = problems.get(name, "")
            label.setText(text)
            label.setVisible(bool(text))
            for field in self._editors[name].findChildren(QWidget):
                if isinstance(field, QLineEdit | QComboBox | QPlainTextEdit | QAbstractSpinBox):
                    field.setProperty("invalid", bool(text))
                    repolish(field)
