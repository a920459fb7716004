"""One small widget per kind of option; each has ``value()``, ``set_value()`` and a ``changed`` signal."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from ..labels import counted, value_label
from ..options import COLOR_RE, InputSpec, choices
from ..wire import PresetInfo, StyleInfo
from .common import set_role

AUTO = "Auto"  # shown for optional numbers left to the server
INT_MAX = 2_147_483_647


class Editor(QWidget):
    """Base of the option editors."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:
        """The request value (None or "" means "server default")."""
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        """Show a previous value."""
        raise NotImplementedError


class StyleEditor(Editor):
    """Styles, with the ones this appliance cannot render marked and explained."""

    def __init__(self, styles: tuple[StyleInfo, ...], default: Any) -> None:
        super().__init__()
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(10)
        for style in styles:
            text = value_label(style.name)
            self.combo.addItem(text if style.available else f"{text} (unavailable)", style.name)
            if not style.available:
                tip = style.reason or "Not available on this appliance"
                self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        first_available = next((s.name for s in styles if s.available), None)
        self.set_value(default if default is not None else first_available)
        self.combo.currentIndexChanged.connect(self.changed)
        self.row.addWidget(self.combo, 1)

    def value(self) -> Any:
        """The style name."""
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        """Select a style by name (unknown names keep the current one)."""
        index = self.combo.findData(value)
        if index >= 0:
            self.combo.setCurrentIndex(index)


class ChoiceEditor(Editor):
    """A fixed list shown in words (values kept as item data), or, when ``open_text``, suggestions plus free
    text (e.g. location, whose words go into the prompt as typed)."""

    def __init__(self, choices: tuple[str, ...], default: Any, open_text: bool) -> None:
        super().__init__()
        self.open_text = open_text
        self.combo = QComboBox()
        self.combo.setEditable(open_text)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        if open_text or default is None:
            self.combo.addItem("" if open_text else "Default", "")
        for choice in choices:
            self.combo.addItem(choice if open_text else value_label(choice), choice)
        self.set_value(default)
        self.combo.currentTextChanged.connect(self.changed)
        self.row.addWidget(self.combo, 1)

    def value(self) -> Any:
        """The chosen value (or the typed text)."""
        if self.open_text:
            return self.combo.currentText().strip()
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        """Select or type a value."""
        text = "" if value is None else str(value)
        if self.open_text:
            self.combo.setCurrentText(text)
            return
        index = self.combo.findData(text)
        if index >= 0:
            self.combo.setCurrentIndex(index)


class ColorEditor(ChoiceEditor):
    """Named backgrounds in words plus any colour from a picker (shown as its own item), as the spec allows."""

    def __init__(self, choices: tuple[str, ...], default: Any) -> None:
        super().__init__(choices, default, open_text=False)
        self.combo.setMinimumContentsLength(5)  # shares its row with the picker button
        if self.combo.findData("") < 0:
            self.combo.insertItem(0, "Default", "")
        self.pick = QPushButton("…")
        self.pick.setToolTip("Choose any colour")
        self.pick.clicked.connect(self._pick)
        self.row.addWidget(self.pick)

    def set_value(self, value: Any) -> None:
        """Select a named background, or add and select a #RRGGBB colour."""
        text = "" if value is None else str(value)
        if COLOR_RE.match(text) and self.combo.findData(text.upper()) < 0:
            self.combo.addItem(value_label(text), text.upper())
            text = text.upper()
        super().set_value(text)

    def _pick(self) -> None:
        current = str(self.value() or "")
        chosen = QColorDialog.getColor(QColor(current if COLOR_RE.match(current) else "#ffffff"), self)
        if chosen.isValid():
            self.set_value(chosen.name().upper())


class BoolEditor(Editor):
    """A checkbox."""

    def __init__(self, default: Any) -> None:
        super().__init__()
        self.check = QCheckBox()
        self.check.setChecked(bool(default))
        self.check.toggled.connect(self.changed)
        self.row.addWidget(self.check)

    def value(self) -> Any:
        """True or False."""
        return self.check.isChecked()

    def set_value(self, value: Any) -> None:
        """Tick or untick."""
        self.check.setChecked(bool(value))


class IntEditor(Editor):
    """Whole numbers; without a default the lowest position reads "Auto" (the server chooses)."""

    def __init__(self, default: Any, minimum: float | None, maximum: float | None) -> None:
        super().__init__()
        self.spin = QSpinBox()
        low = int(minimum) if minimum is not None else 0
        self.optional = default is None
        # QSpinBox holds 32-bit ints; larger server maxima (e.g. 2**32-1 seeds) are clamped.
        high = min(INT_MAX, int(maximum)) if maximum is not None else INT_MAX
        self.spin.setRange(low - 1 if self.optional else low, high)
        if self.optional:
            self.spin.setSpecialValueText(AUTO)
        self.set_value(default)
        self.spin.valueChanged.connect(self.changed)
        self.row.addWidget(self.spin)

    def value(self) -> Any:
        """The number, or None for "Auto"."""
        if self.optional and self.spin.value() == self.spin.minimum():
            return None
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        """Show a number (None -> "Auto" or the minimum)."""
        self.spin.setValue(self.spin.minimum() if value is None else int(value))


class NumberEditor(Editor):
    """Decimal numbers; the lowest position reads "Auto" (the server's default)."""

    def __init__(self, default: Any, minimum: float | None, maximum: float | None) -> None:
        super().__init__()
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(3)
        self.spin.setSingleStep(0.01)
        low = minimum if minimum is not None else 0.0
        self.spin.setRange(low - 0.001, maximum if maximum is not None else 100000.0)
        self.spin.setSpecialValueText(AUTO)
        self.set_value(default if isinstance(default, int | float) else None)
        self.spin.valueChanged.connect(self.changed)
        self.row.addWidget(self.spin)

    def value(self) -> Any:
        """The number, or None for "Auto"."""
        return None if self.spin.value() == self.spin.minimum() else self.spin.value()

    def set_value(self, value: Any) -> None:
        """Show a number (None -> "Auto")."""
        self.spin.setValue(self.spin.minimum() if value is None else float(value))


class TextEditor(Editor):
    """One line of text."""

    def __init__(self, default: Any, max_length: int | None) -> None:
        super().__init__()
        self.line = QLineEdit()
        if max_length:
            self.line.setMaxLength(max_length)
        self.set_value(default)
        self.line.textChanged.connect(self.changed)
        self.row.addWidget(self.line)

    def value(self) -> Any:
        """The text, stripped."""
        return self.line.text().strip()

    def set_value(self, value: Any) -> None:
        """Replace the text."""
        self.line.setText("" if value is None else str(value))


class PromptEditor(Editor):
    """Multi-line text with a live ``n / limit`` counter that turns red past the limit.

    The text is not cut at the limit: the user sees the count go red and the form refuses to submit,
    which is kinder than silently dropping the end of a pasted prompt.
    """

    def __init__(self, default: Any, limit: int | None) -> None:
        super().__init__()
        self.limit = limit
        column = QVBoxLayout()
        column.setSpacing(2)
        self.edit = QPlainTextEdit()
        # Four lines, and never below the scroll area's own minimum (which counts its scrollbars).
        self.edit.setFixedHeight(max(88, self.edit.fontMetrics().lineSpacing() * 4 + 16))
        self.counter = QLabel()
        column.addWidget(self.edit)
        column.addWidget(self.counter)
        self.row.addLayout(column)
        self.edit.textChanged.connect(self._update)
        self.set_value(default)
        self._update()

    def _update(self) -> None:
        n = len(self.edit.toPlainText())
        over = self.limit is not None and n > self.limit
        self.counter.setText(f"{n} / {self.limit}" if self.limit else counted(n, "character"))
        set_role(self.counter, "error" if over else "muted")
        self.changed.emit()

    def value(self) -> Any:
        """The text, stripped."""
        return self.edit.toPlainText().strip()

    def set_value(self, value: Any) -> None:
        """Replace the text."""
        self.edit.setPlainText("" if value is None else str(value))


class ElidingCombo(QComboBox):
    """A combo box that shortens its chosen item with "…" when the form is narrower than the text, instead of
    cutting it behind the arrow (seen with "Amazon main image" at 1024 px); the tooltip has it whole."""

    def paintEvent(self, event: QPaintEvent) -> None:
        """The style's combo frame and arrow, then the current text elided to the edit field's width."""
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, field.width()
        )
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class ElidingButton(QPushButton):
    """A push button (with a menu) that shortens its text with "…" when narrower than it: it needs only room
    for a few letters and the arrow, like :class:`ElidingCombo`."""

    def minimumSizeHint(self) -> QSize:
        """A few letters, the padding and the menu arrow."""
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("Xxxxx…") + 40), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        """The style's button with the text elided to what is left beside the padding and the arrow."""
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        room = max(0, self.width() - 40)
        option.text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, room)
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)


class PresetEditor(Editor):
    """A marketplace preset by its title (the appliance's list), or none; the description is each item's tooltip.

    :attr:`picked` fires when the user chooses one (not when a value is restored), with the preset or None, so
    the form can show the values it sets.
    """

    picked = Signal(object)

    def __init__(self, presets: tuple[PresetInfo, ...], default: Any) -> None:
        super().__init__()
        self.presets = {p.id: p for p in presets}
        self.combo = ElidingCombo()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(6)
        self.combo.addItem("None", "")
        for preset in presets:
            self.combo.addItem(preset.title or value_label(preset.id), preset.id)
            self.combo.setItemData(self.combo.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.set_value(default)
        self.combo.currentIndexChanged.connect(self.changed)
        self.combo.activated.connect(lambda _index: self.picked.emit(self.presets.get(self.combo.currentData())))
        self.row.addWidget(self.combo, 1)

    def value(self) -> Any:
        """The preset id, or None for none."""
        return self.combo.currentData() or None

    def set_value(self, value: Any) -> None:
        """Select a preset by id (None or an unknown id: none)."""
        self.combo.setCurrentIndex(max(0, self.combo.findData(value or "")))


class PresetsEditor(Editor):
    """Any number of marketplace presets, ticked in a menu; the button says which."""

    def __init__(self, presets: tuple[PresetInfo, ...], default: Any) -> None:
        super().__init__()
        # A push button with a menu: its size hint holds its text and the menu arrow (a tool button's arrow was
        # drawn over the text), and it grows with the form like the combo boxes above it.
        self.button = ElidingButton()
        self.button.setStyleSheet("text-align: left")
        self.menu = QMenu(self.button)
        self.ticks: list[QAction] = []
        for preset in presets:
            action = self.menu.addAction(preset.title or value_label(preset.id))
            action.setCheckable(True)
            action.setData(preset.id)
            action.setToolTip(preset.description)
            action.toggled.connect(self._update)
            self.ticks.append(action)
        self.button.setMenu(self.menu)
        self.set_value(default)
        self._update()
        self.row.addWidget(self.button, 1)

    def _update(self) -> None:
        chosen = [a.text() for a in self.ticks if a.isChecked()]
        self.button.setText("None" if not chosen else chosen[0] if len(chosen) == 1 else f"{len(chosen)} presets")
        self.button.setToolTip("\n".join(chosen) or "Check the result against other marketplaces' rules too")
        self.changed.emit()

    def value(self) -> Any:
        """The ticked preset ids, or None for none."""
        return [str(a.data()) for a in self.ticks if a.isChecked()] or None

    def set_value(self, value: Any) -> None:
        """Tick exactly the presets in ``value`` (a list of ids; None: none)."""
        wanted = set(value or ())
        for action in self.ticks:
            action.setChecked(action.data() in wanted)


def make_editor(spec: InputSpec, styles: tuple[StyleInfo, ...], prompt_limit: int) -> Editor:
    """The editor for one input of the appliance's field list."""
    f = spec.field
    if spec.name == "style":
        return StyleEditor(styles or tuple(StyleInfo(s) for s in f.enum), f.default)
    if spec.kind == "preset":
        return PresetEditor(spec.presets, f.default)
    if spec.kind == "presets":
        return PresetsEditor(spec.presets, f.default)
    if spec.kind == "color":
        return ColorEditor(choices(f), f.default)
    if spec.kind in ("choice", "open_choice"):
        return ChoiceEditor(choices(f), f.default, open_text=spec.kind == "open_choice")
    if spec.kind == "bool":
        return BoolEditor(f.default)
    if spec.kind == "int":
        return IntEditor(f.default, f.minimum, f.maximum)
    if spec.kind == "number":
        return NumberEditor(f.default, f.minimum, f.maximum)
    if spec.kind == "long_text":
        limit = f.max_length
        if spec.name == "prompt":
            limit = min(limit or prompt_limit, prompt_limit)
        return PromptEditor(f.default, limit)
    return TextEditor(f.default, f.max_length)
