"""Repair a cut-out: paint over the photo what is product (keep) and what is not (remove), then render again.

The strokes become the job's ``mask_hint``: an 8-bit grey image the size of the stored photo, 255 where the
user painted "keep", 0 where "remove", 128 (unknown: the cut-out decides) everywhere else. The current matte,
when the appliance exposes it, is shown under the strokes (the background dimmed) so the user sees what to fix.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from .common import set_role

KEEP, REMOVE, UNKNOWN = 255, 0, 128
_STROKE = {KEEP: QColor(40, 200, 90, 150), REMOVE: QColor(230, 50, 50, 150)}


def dimmed_background(matte: QImage) -> QImage:
    """An overlay that darkens what the matte calls background (alpha below one half)."""
    grey = matte.convertToFormat(QImage.Format.Format_Grayscale8)
    overlay = QImage(grey.size(), QImage.Format.Format_ARGB32_Premultiplied)
    overlay.fill(QColor(0, 0, 0, 0))
    inverted = QImage(grey)
    inverted.invertPixels()
    shade = QImage(grey.size(), QImage.Format.Format_ARGB32)
    shade.fill(QColor(0, 0, 0))
    shade.setAlphaChannel(inverted)  # black where the matte says background, clear on the product
    painter = QPainter(overlay)
    painter.setOpacity(0.6)
    painter.drawImage(0, 0, shade)
    painter.end()
    return overlay


class HintCanvas(QWidget):
    """The photo, fitted, with the matte's background dimmed and the user's strokes in green/red."""

    def __init__(self, photo: QImage, matte: QImage | None) -> None:
        super().__init__()
        self.photo = photo.convertToFormat(QImage.Format.Format_RGB32)
        self.overlay = dimmed_background(matte.scaled(photo.size())) if matte is not None else None
        self.hint = QImage(photo.size(), QImage.Format.Format_Grayscale8)
        self.hint.fill(UNKNOWN)
        self.strokes = QImage(photo.size(), QImage.Format.Format_ARGB32_Premultiplied)
        self.strokes.fill(QColor(0, 0, 0, 0))
        self.value = REMOVE
        self.radius = max(4.0, max(photo.width(), photo.height()) / 40)
        self.painted = False
        self._last: QPointF | None = None
        self.setMinimumSize(320, 240)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def frame(self) -> QRectF:
        """Where the photo is drawn in the widget (fitted, centred)."""
        scale = min(self.width() / max(1, self.photo.width()), self.height() / max(1, self.photo.height()))
        rect = QRectF(0, 0, self.photo.width() * scale, self.photo.height() * scale)
        rect.moveCenter(QRectF(self.rect()).center())
        return rect

    def to_image(self, point: QPointF) -> QPointF:
        """A widget position in photo pixels."""
        frame = self.frame()
        scale = self.photo.width() / max(1.0, frame.width())
        return QPointF((point.x() - frame.left()) * scale, (point.y() - frame.top()) * scale)

    def stroke(self, start: QPointF, end: QPointF) -> None:
        """Paint the current value along a segment (photo pixels) into the hint and the visible strokes."""
        for target, color in ((self.hint, QColor(self.value, self.value, self.value)), (self.strokes, None)):
            painter = QPainter(target)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, target is self.strokes)
            if color is None:
                if self.value == UNKNOWN:
                    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
                    color = QColor(0, 0, 0, 0)
                else:
                    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
                    color = _STROKE[self.value]
            pen = QPen(color, self.radius * 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawLine(start, end)
            painter.end()
        self.painted = True
        self.update()

    def clear(self) -> None:
        """Forget every stroke."""
        self.hint.fill(UNKNOWN)
        self.strokes.fill(QColor(0, 0, 0, 0))
        self.painted = False
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a stroke."""
        self._last = self.to_image(event.position())
        self.stroke(self._last, self._last)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Continue the stroke."""
        if self._last is not None:
            point = self.to_image(event.position())
            self.stroke(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """End the stroke."""
        self._last = None

    def paintEvent(self, event: QPaintEvent) -> None:
        """Photo, dimmed background, strokes."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        frame = self.frame()
        painter.drawImage(frame, self.photo)
        if self.overlay is not None:
            painter.drawImage(frame, self.overlay)
        painter.drawImage(frame, self.strokes)
        painter.end()


class RepairDialog(QDialog):
    """The brush over the photo; accepted with strokes (or the shadow option), it asks for a re-render."""

    def __init__(
        self, photo: QImage, matte: QImage | None, can_remove_shadow: bool, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(980, 720)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Paint over the photo: <b>Keep</b> on parts of the product the cut-out lost, <b>Remove</b> on "
            "background it kept. Unpainted areas are left to the cut-out."
            + ("" if matte is not None else " (This appliance does not show its current cut-out, so paint by eye.)")
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.canvas = HintCanvas(photo, matte)
        layout.addWidget(self.canvas, 1)

        tools = QHBoxLayout()
        self.tools = QButtonGroup(self)
        for value, name, text in ((KEEP, "keep", "Keep"), (REMOVE, "erase", "Remove"), (UNKNOWN, "remove", "Unpaint")):
            button = QPushButton(icon(name), text)
            button.setCheckable(True)
            self.tools.addButton(button, value)
            tools.addWidget(button)
        self.tools.idToggled.connect(self._tool)
        self.tools.button(REMOVE).setChecked(True)
        tools.addWidget(QLabel("Brush"))
        self.brush_size = QSlider(Qt.Orientation.Horizontal)
        self.brush_size.setRange(2, 200)
        self.brush_size.setValue(round(self.canvas.radius))
        self.brush_size.valueChanged.connect(lambda v: setattr(self.canvas, "radius", float(v)))
        tools.addWidget(self.brush_size, 1)
        clear = QPushButton("Clear strokes")
        clear.clicked.connect(self.canvas.clear)
        tools.addWidget(clear)
        layout.addLayout(tools)

        # The cut-out already treats the photo's cast shadow as background where it can tell; what it kept, the
        # user paints away (the one way on every appliance).
        self.shadow_note = QLabel("The photo's shadow goes with the background: paint Remove over any shadow left.")
        self.shadow_note.setWordWrap(True)
        set_role(self.shadow_note, "muted")
        layout.addWidget(self.shadow_note)
        # KEEP this option (issue 12 names it): the appliance offers `remove_photo_shadow` since 4fd738b (the cast
        # shadow becomes background even where the cut-out model was sure of it). Older appliances do not list it:
        # then it is not shown at all (a disabled box the user can never tick only confuses).
        self.shadow = QCheckBox("Remove the photo's shadow, even where the cut-out took it for product")
        self.shadow.setVisible(can_remove_shadow)
        layout.addWidget(self.shadow)
        self.status = QLabel()
        set_role(self.status, "muted")
        layout.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.render_button = buttons.addButton("Render again", QDialogButtonBox.ButtonRole.AcceptRole)
        self.render_button.setIcon(icon("rerun"))
        self.render_button.setProperty("role", "primary")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _tool(self, value: int, checked: bool) -> None:
        if checked:
            self.canvas.value = value

    def _accept(self) -> None:
        if not self.canvas.painted and not self.shadow.isChecked():
            self.status.setText("Paint at least one stroke (or tick the shadow option) first.")
            set_role(self.status, "warn")
            return
        self.accept()

    def hint(self) -> QImage | None:
        """The mask hint to send (None when nothing was painted)."""
        return QImage(self.canvas.hint) if self.canvas.painted else None
