"""Result viewer: before/after with a split handle, zoom, and the settings the job used."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from ..wire import Job
from .common import set_role


class CompareCanvas(QWidget):
    """Paints the result, with the original over the left part up to the split handle."""

    def __init__(self) -> None:
        super().__init__()
        self.before: QImage | None = None
        self.after: QImage | None = None
        self.split = 0.5
        self.zoom = 1.0
        self.setMouseTracking(False)

    def set_images(self, before: QImage | None, after: QImage | None) -> None:
        """The original (may be None) and the result."""
        self.before, self.after = before, after
        self._resize()

    def set_zoom(self, zoom: float) -> None:
        """Scale factor of the result (1.0 = actual pixels)."""
        self.zoom = max(0.05, min(8.0, zoom))
        self._resize()

    def _resize(self) -> None:
        base = self.after or self.before
        if base is not None:
            self.setFixedSize(QSize(max(1, round(base.width() * self.zoom)), max(1, round(base.height() * self.zoom))))
        self.update()

    def set_split(self, split: float) -> None:
        """Fraction of the width (0..1) showing the original."""
        self.split = max(0.0, min(1.0, split))
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Move the split handle to the click."""
        self.set_split(event.position().x() / max(1, self.width()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Drag the split handle."""
        self.set_split(event.position().x() / max(1, self.width()))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Result everywhere, original left of the handle (fitted into the same frame)."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        frame = self.rect()
        self._checker(painter, frame)
        if self.after is not None:
            painter.drawImage(frame, self.after)
        if self.before is not None and self.split > 0:
            split_x = round(frame.width() * self.split)
            painter.save()
            painter.setClipRect(QRect(0, 0, split_x, frame.height()))
            painter.fillRect(frame, self.palette().window())
            painter.drawImage(self._fit(self.before, frame), self.before)
            painter.restore()
            painter.setPen(QPen(QColor("#ffffff"), 2))
            painter.drawLine(QPoint(split_x, 0), QPoint(split_x, frame.height()))
        painter.end()

    @staticmethod
    def _fit(image: QImage, frame: QRect) -> QRect:
        scale = min(frame.width() / max(1, image.width()), frame.height() / max(1, image.height()))
        w, h = round(image.width() * scale), round(image.height() * scale)
        return QRect(frame.x() + (frame.width() - w) // 2, frame.y() + (frame.height() - h) // 2, w, h)

    @staticmethod
    def _checker(painter: QPainter, frame: QRect) -> None:
        # Transparent results (cut-outs) are shown on a checkerboard, as image editors do.
        step = 12
        for y in range(0, frame.height(), step):
            for x in range(0, frame.width(), step):
                shade = "#e6e6e6" if (x // step + y // step) % 2 else "#ffffff"
                painter.fillRect(x, y, step, step, QColor(shade))


def settings_rows(job: Job) -> list[tuple[str, str]]:
    """The job's settings as (label, value) rows: what was asked and what the appliance did."""
    rows: list[tuple[str, str]] = [("Job", job.id), ("Style", job.style), ("Aspect ratio", job.aspect_ratio)]
    if job.width and job.height:
        rows.append(("Size", f"{job.width} × {job.height}"))
    if job.engine:
        rows.append(("Engine", job.engine))
    if job.seed is not None:
        rows.append(("Seed", str(job.seed)))
    if job.confidence is not None:
        rows.append(("Cut-out confidence", f"{job.confidence:.0%}"))
    for key, value in sorted(job.options.items()):
        shown = json.dumps(value) if isinstance(value, dict | list) else str(value)
        rows.append((key.replace("_", " ").capitalize(), shown))
    rows.append(("Created", job.created_at))
    if job.completed_at:
        rows.append(("Completed", job.completed_at))
    if job.expires_at:
        rows.append(("Download until", job.expires_at))
    rows.extend(("Note", note) for note in job.notes)
    return rows


class ViewerDialog(QDialog):
    """Shows one job. After it closes, :attr:`action` says what the user chose ("save", "again" or "")."""

    variant_requested = Signal(int)  # index into job.all_images

    def __init__(self, job: Job, title: str, allow_copy: bool, allow_again: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.job = job
        self._action = ""
        self.setWindowTitle(title)
        self.resize(1100, 720)
        layout = QVBoxLayout(self)
        split = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.canvas = CompareCanvas()
        self.scroll_area = QScrollArea()
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll_area.setWidget(self.canvas)
        left_layout.addWidget(self.scroll_area, 1)
        controls = QHBoxLayout()
        self.variant = QComboBox()
        for index, image in enumerate(job.all_images):
            size = f" ({image.width}×{image.height})" if image.width and image.height else ""
            self.variant.addItem(f"Variant {index + 1}{size}")
        self.variant.setVisible(len(job.all_images) > 1)
        self.variant.currentIndexChanged.connect(self._choose_variant)
        controls.addWidget(self.variant)
        controls.addWidget(QLabel("Before"))
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(50)
        self.split_slider.valueChanged.connect(lambda v: self.canvas.set_split(v / 100))
        controls.addWidget(self.split_slider, 1)
        controls.addWidget(QLabel("After"))
        for text, handler in (("Fit", self.fit), ("100%", lambda: self.set_zoom(1.0))):
            button = QPushButton(text)
            button.clicked.connect(handler)
            controls.addWidget(button)
        zoom_out = QPushButton("−")
        zoom_out.clicked.connect(lambda: self.set_zoom(self.canvas.zoom / 1.25))
        zoom_in = QPushButton("+")
        zoom_in.clicked.connect(lambda: self.set_zoom(self.canvas.zoom * 1.25))
        controls.addWidget(zoom_out)
        controls.addWidget(zoom_in)
        self.zoom_label = QLabel("100%")
        controls.addWidget(self.zoom_label)
        left_layout.addLayout(controls)
        self.status = QLabel("Loading images…")
        set_role(self.status, "muted")
        left_layout.addWidget(self.status)
        split.addWidget(left)

        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Setting", "Value"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for label, value in settings_rows(job):
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(label))
            cell = QTableWidgetItem(value)
            cell.setToolTip(value)
            self.table.setItem(row, 1, cell)
        self.table.resizeColumnToContents(0)
        split.addWidget(self.table)
        split.setSizes([760, 320])
        layout.addWidget(split, 1)

        buttons = QHBoxLayout()
        self.copy_button = QPushButton(icon("copy"), "Copy image URL")
        self.copy_button.clicked.connect(self.copy_url)
        self.copy_button.setVisible(allow_copy)
        self.again_button = QPushButton(icon("again"), "Generate again (new seed)")
        self.again_button.clicked.connect(lambda: self._finish("again"))
        self.again_button.setVisible(allow_again)
        self.save_button = QPushButton(icon("save"), "Save…")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(lambda: self._finish("save"))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    @property
    def action(self) -> str:
        """What the user chose when closing: "save", "again", or "" (closed)."""
        return self._action

    def _finish(self, action: str) -> None:
        self._action = action
        self.accept()

    def set_images(self, before: QImage | None, after: QImage | None) -> None:
        """Images downloaded by a worker; the original may be missing (older appliance)."""
        self.canvas.set_images(before, after)
        self.status.setText("" if before is not None else "The original is not available for comparison.")
        self.fit()

    def show_error(self, text: str) -> None:
        """The images could not be loaded."""
        self.status.setText(text)
        set_role(self.status, "error")

    def set_zoom(self, zoom: float) -> None:
        """Zoom the comparison."""
        self.canvas.set_zoom(zoom)
        self.zoom_label.setText(f"{self.canvas.zoom:.0%}")

    def fit(self) -> None:
        """Zoom so the whole image fits the view."""
        image = self.canvas.after or self.canvas.before
        if image is None:
            return
        area = self.scroll_area.viewport().size()
        self.set_zoom(min(area.width() / max(1, image.width()), area.height() / max(1, image.height())))

    def _choose_variant(self, index: int) -> None:
        self.status.setText("Loading images…")
        set_role(self.status, "muted")
        self.variant_requested.emit(index)

    @property
    def current_url(self) -> str:
        """Signed URL of the image shown (the chosen variant)."""
        images = self.job.all_images
        index = self.variant.currentIndex()
        return images[index].image_url if 0 <= index < len(images) else (self.job.image_url or "")

    def copy_url(self) -> None:
        """Put the signed image URL on the clipboard."""
        url = self.current_url
        QGuiApplication.clipboard().setText(url)
        self.status.setText("Image URL copied.")
