"""The generation options form, built from the appliance's field list (plain data in, plain data out)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
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

from ..labels import PACKSHOT, SCENE_ONLY
from ..options import InputSpec, preset_values
from ..wire import PresetInfo, StyleInfo
from .common import repolish
from .editors import Editor, PresetEditor, make_editor

SCENE_ONLY_TIP = "Scene styles only: a studio packshot does not use this."


class OptionsForm(QWidget):
    """One row per input the appliance offers; ``values()`` returns the request fields.

    Return in any one-line field emits :attr:`submit` (the page's main action); options that only scene styles
    use are disabled while the style is a studio packshot, and left out of :meth:`values`.
    """

    changed = Signal()
    submit = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 4, 0)
        # A row whose label and field do not fit side by side puts its field under the label: never clipped.
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._editors: dict[str, Editor] = {}
        self._labels: dict[str, QLabel] = {}
        self._errors: dict[str, QLabel] = {}

    def editor(self, name: str) -> Editor:
        """The widget editing field ``name``."""
        return self._editors[name]

    def label(self, name: str) -> QLabel:
        """The label of field ``name``."""
        return self._labels[name]

    def names(self) -> list[str]:
        """Field names in form order."""
        return list(self._editors)

    def set_inputs(self, inputs: list[InputSpec], styles: tuple[StyleInfo, ...], prompt_limit: int) -> None:
        """Rebuild the form for an appliance's fields and styles."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors.clear()
        self._labels.clear()
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
            self._labels[spec.name] = label
            self._errors[spec.name] = error
            for child in editor.findChildren(QWidget):
                if isinstance(child, QLineEdit | QComboBox | QAbstractSpinBox):
                    child.installEventFilter(self)
        if "style" in self._editors:
            self._editors["style"].changed.connect(self._style_changed)
        preset = self._editors.get("preset")
        if isinstance(preset, PresetEditor):
            preset.picked.connect(self._preset_picked)
        self._style_changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Return/Enter in a one-line field submits (multi-line prompts keep Return for new lines)."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            popup = isinstance(watched, QComboBox) and watched.view().isVisible()
            if plain and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not popup:
                self.submit.emit()
                return True
        return super().eventFilter(watched, event)

    def _style_changed(self) -> None:
        style = self._editors["style"].value() if "style" in self._editors else None
        scene = style != PACKSHOT
        for name in SCENE_ONLY & set(self._editors):
            self._editors[name].setEnabled(scene)
            self._labels[name].setEnabled(scene)
            if not scene:
                self._labels[name].setToolTip(SCENE_ONLY_TIP)

    def _preset_picked(self, preset: PresetInfo | None) -> None:
        """Show what a preset chosen by the user sets (aspect ratio, background, shadow, …): what the form shows is
        what is sent, and a field changed after choosing it wins, as the appliance's explicit fields do."""
        if preset is not None:
            self.set_values(preset_values(preset, set(self._editors)))

    def values(self) -> dict[str, Any]:
        """Current values of the enabled inputs (None/empty means "server default")."""
        return {name: editor.value() for name, editor in self._editors.items() if editor.isEnabled()}

    def all_values(self) -> dict[str, Any]:
        """Every input's value, disabled ones too (what is remembered for next time)."""
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
