"""Result viewer: before/after aligned on the product, variants side by side, and the job's settings in words."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QTransform,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from ..jobstate import job_state
from ..labels import (
    PACKSHOT,
    SCENE_ONLY,
    counted,
    engine_label,
    field_label,
    preset_label,
    rule_label,
    sentence,
    value_label,
    when,
)
from ..wire import Job, ProductBox
from .common import set_role
from .tiles import checkerboard


def before_transform(before: QImage, after: QImage, box: ProductBox | None) -> tuple[QTransform, bool]:
    """Maps the original photo's pixels onto the result's, and whether that is aligned on the product.

    With the appliance's ``product_box`` the product's box in the photo lands exactly on its box in the result
    (one uniform scale, as the product is never distorted); without it the photo is only fitted into the frame.
    """
    if box is not None and box.input[2] > 0 and box.input[3] > 0:
        xi, yi, wi, hi = box.input
        xo, yo, wo, ho = box.output
        scale = (wo / wi + ho / hi) / 2
        return QTransform(scale, 0, 0, scale, xo - xi * scale, yo - yi * scale), True
    scale = min(after.width() / max(1, before.width()), after.height() / max(1, before.height()))
    dx = (after.width() - before.width() * scale) / 2
    dy = (after.height() - before.height() * scale) / 2
    return QTransform(scale, 0, 0, scale, dx, dy), False


class CompareCanvas(QWidget):
    """The result, with the original over the part left of the split handle, both in the result's pixels."""

    def __init__(self) -> None:
        super().__init__()
        self.before: QImage | None = None
        self.after: QImage | None = None
        self.box: ProductBox | None = None
        self.aligned = False
        self.split = 0.5
        self.zoom = 1.0

    def set_images(self, before: QImage | None, after: QImage | None, box: ProductBox | None = None) -> None:
        """The original (may be None), the result and where the product is in each."""
        self.before, self.after, self.box = before, after, box
        self.aligned = before is not None and after is not None and before_transform(before, after, box)[1]
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
        """Where the handle is, as a fraction of the width: the original shows left of it, the result right."""
        self.split = max(0.0, min(1.0, split))
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Move the split handle to the click."""
        self.set_split(event.position().x() / max(1, self.width()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Drag the split handle."""
        self.set_split(event.position().x() / max(1, self.width()))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Checkerboard, result, then the original left of the handle, and the two labels."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        frame = self.rect()
        checkerboard(painter, frame, 10)
        if self.after is not None:
            painter.drawImage(frame, self.after)
        split_x = round(frame.width() * self.split)
        if self.before is not None and self.after is not None and self.split > 0:
            painter.save()
            painter.setClipRect(QRect(0, 0, split_x, frame.height()))
            painter.fillRect(frame, self.palette().window())
            transform, _ = before_transform(self.before, self.after, self.box)
            painter.setTransform(transform * QTransform.fromScale(self.zoom, self.zoom))
            painter.drawImage(0, 0, self.before)
            painter.restore()
            painter.setPen(QPen(QColor("#ffffff"), 2))
            painter.drawLine(split_x, 0, split_x, frame.height())
            painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
            painter.drawLine(split_x + 1, 0, split_x + 1, frame.height())
            self._label(painter, "Before", QPointF(8, 8), left=True)
            self._label(painter, "After", QPointF(frame.width() - 8, 8), left=False)
        painter.end()

    def _label(self, painter: QPainter, text: str, at: QPointF, left: bool) -> None:
        font = QFont(self.font())
        font.setBold(True)
        metrics = QFontMetrics(font)
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 14, metrics.height() + 6)
        box.moveTopLeft(at if left else QPointF(at.x() - box.width(), at.y()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 6, 6)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class SideBySide(QWidget):
    """Every variant of a job next to each other, each fitted to the same height, on a checkerboard."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[QImage] = []
        self.setMinimumHeight(200)

    def set_images(self, images: list[QImage]) -> None:
        """The variants, in order."""
        self.images = images
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """One column per variant with its number under it."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        count = max(1, len(self.images))
        gap = 12
        width = (self.width() - gap * (count + 1)) / count
        label_h = QFontMetrics(self.font()).height() + 6
        for index, image in enumerate(self.images):
            cell = QRectF(gap + index * (width + gap), gap, width, self.height() - 2 * gap - label_h)
            scale = min(cell.width() / max(1, image.width()), cell.height() / max(1, image.height()))
            target = QRectF(0, 0, image.width() * scale, image.height() * scale)
            target.moveCenter(cell.center())
            checkerboard(painter, target.toRect(), 10)
            painter.drawImage(target, image)
            painter.drawText(
                QRectF(cell.left(), cell.bottom() + 4, cell.width(), label_h),
                Qt.AlignmentFlag.AlignHCenter,
                f"Variant {index + 1}",
            )
        painter.end()


def settings_rows(job: Job, titles: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The job's settings as (label, value) rows, all in words: what was asked and what the appliance did
    (``titles``: preset id -> title, from the appliance's preset list)."""
    rows: list[tuple[str, str]] = [("Style", value_label(job.style)), (field_label("aspect_ratio"), job.aspect_ratio)]
    if job.width and job.height:
        rows.append(("Size", f"{job.width} × {job.height} px"))
    if job.engine:
        rows.append(("Made by", engine_label(job.engine)))
    if job.seed is not None:
        rows.append(("Seed", str(job.seed)))
    if job.confidence is not None:
        rows.append(("Cut-out confidence", f"{job.confidence:.0%}"))
    packshot = job.style == PACKSHOT
    for key, value in sorted(job.options.items()):
        if key in ("style", "aspect_ratio", "seed", "mask_hint", "filename") or (packshot and key in SCENE_ONLY):
            continue  # shown above, not an option of the look, or not used by a packshot
        if key in ("preset", "compliance_check"):
            ids = value if isinstance(value, list | tuple) else [value]
            rows.append((field_label(key), ", ".join(preset_label(str(i), titles or {}) for i in ids)))
            continue
        rows.append((field_label(key), value_label(value)))
    rows.append(("Created", when(job.created_at)))
    if job.completed_at:
        rows.append(("Finished", when(job.completed_at)))
    if job.expires_at:
        rows.append(("Download until", when(job.expires_at)))
    if job.rerun_of:
        rows.append(("Re-run of", job.rerun_of))
    rows.append(("Job", job.id))
    return rows


def _breakable(text: str, every: int = 12) -> str:
    """Escaped text whose long unbroken runs (ids, URLs) may wrap: a label never grows wider than its panel."""
    parts = re.split(rf"(\S{{{every + 1},}})", text)
    out = []
    for index, part in enumerate(parts):
        if index % 2:  # a captured long run
            part = "\u200b".join(part[i : i + every] for i in range(0, len(part), every))
        out.append(html.escape(part))
    return "".join(out)


def compliance_html(job: Job, titles: dict[str, str] | None = None) -> str:
    """The marketplace check in words: per preset whether the result passes, what each failed rule measured
    (the appliance's ``message``), and the rules it met."""
    parts = []
    for report in job.compliance:
        name = html.escape(preset_label(report.preset, titles or {}))
        failed = [r for r in report.rules if not r.passed]
        met = [html.escape(rule_label(r.rule)) for r in report.rules if r.passed]
        if report.passed:
            parts.append(f"<p><b>{name}</b>: <span style='color:palette(link)'>meets every rule</span></p>")
        else:
            verdict = f"fails {len(failed)} of {counted(len(report.rules), 'rule')}"
            items = "".join(
                f"<li><b>{html.escape(rule_label(r.rule))}</b>: {_breakable(sentence(r.message or 'failed'))}</li>"
                for r in failed
            )
            parts.append(f"<p><b>{name}</b>: {verdict}</p><ul style='margin-left:-20px'>{items}</ul>")
        if met and not report.passed:
            parts.append(f"<p style='color:palette(placeholder-text)'>Met: {', '.join(met)}.</p>")
    return "<p><b>Marketplace check</b></p>" + "".join(parts) if parts else ""


def settings_html(job: Job, titles: dict[str, str] | None = None) -> str:
    """The marketplace check, the settings table and the notes, in full (wrapped, never cut)."""
    cells = "".join(
        f"<tr><td style='padding:3px 10px 3px 0; color:palette(placeholder-text)'>{html.escape(k)}</td>"
        f"<td style='padding:3px 0'>{_breakable(v)}</td></tr>"
        for k, v in settings_rows(job, titles)
    )
    notes = "".join(f"<li>{_breakable(sentence(n))}</li>" for n in job.notes)
    prompts = "".join(
        f"<p><b>{html.escape(field_label(k))}</b><br>{_breakable(v)}</p>" for k, v in job.prompts.items() if v
    )
    check = compliance_html(job, titles)
    body = check + ("<p><b>Settings</b></p>" if check else "") + f"<table>{cells}</table>"
    if notes:
        body += f"<p><b>Notes</b></p><ul style='margin-left:-20px'>{notes}</ul>"
    return body + prompts


def banner_html(job: Job) -> str:
    """The line above the images when the result needs a look (its state as every page says it,
    :func:`~paqshot_desktop.jobstate.job_state`), with why; "" otherwise. (The viewer opens only on a result that
    is there: never an expired one.)"""
    now = job_state(job)
    if now.key != "review":
        return ""
    reasons = [sentence(r.message or value_label(r.code)) for r in job.review_reasons]
    return "<b>This result needs a look.</b> " + html.escape(" ".join(reasons) or now.detail)


class ViewerDialog(QDialog):
    """Shows one job. After it closes, :attr:`action` says what the user chose: "save", "again", "rerun",
    "repair", "delete" or "" (closed)."""

    variant_requested = Signal(int)  # index into job.all_images
    side_by_side_requested = Signal()

    def __init__(
        self,
        job: Job,
        title: str,
        features: dict[str, bool],
        parent: QWidget | None = None,
        titles: dict[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.job = job
        self._action = ""
        self.setWindowTitle(title)
        self.resize(1100, 720)
        layout = QVBoxLayout(self)

        self.review = QFrame()
        self.review.setObjectName("Review")
        review_layout = QVBoxLayout(self.review)
        review_layout.setContentsMargins(12, 8, 12, 8)
        self.review_text = QLabel(banner_html(job))
        self.review_text.setWordWrap(True)
        review_layout.addWidget(self.review_text)
        self.review.setVisible(bool(self.review_text.text()))
        layout.addWidget(self.review)

        split = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.canvas = CompareCanvas()
        self.scroll_area = QScrollArea()
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll_area.setWidget(self.canvas)
        self.side_by_side = SideBySide()
        self.views = QStackedWidget()
        self.views.addWidget(self.scroll_area)
        self.views.addWidget(self.side_by_side)
        left_layout.addWidget(self.views, 1)
        controls = QHBoxLayout()
        self.variant = QComboBox()
        for index, image in enumerate(job.all_images):
            size = f" ({image.width} × {image.height})" if image.width and image.height else ""
            self.variant.addItem(f"Variant {index + 1}{size}")
        many = len(job.all_images) > 1
        self.variant.setVisible(many)
        self.variant.currentIndexChanged.connect(self._choose_variant)
        controls.addWidget(self.variant)
        self.side_button = QPushButton("Side by side")
        self.side_button.setCheckable(True)
        self.side_button.setVisible(many)
        self.side_button.toggled.connect(self._toggle_side_by_side)
        controls.addWidget(self.side_button)
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(50)
        self.split_slider.setToolTip("Where the split is: the original shows to its left, the result to its right")
        self.split_slider.valueChanged.connect(lambda v: self.canvas.set_split(v / 100))
        controls.addWidget(self.split_slider, 1)
        for name, tip, handler in (
            ("fit", "Fit", self.fit),
            ("zoom_out", "Zoom out", lambda: self.set_zoom(self.canvas.zoom / 1.25)),
            ("zoom_in", "Zoom in", lambda: self.set_zoom(self.canvas.zoom * 1.25)),
        ):
            button = QPushButton(icon(name), "")
            button.setToolTip(tip)
            button.clicked.connect(handler)
            controls.addWidget(button)
        actual = QPushButton("100%")
        actual.clicked.connect(lambda: self.set_zoom(1.0))
        controls.addWidget(actual)
        self.zoom_label = QLabel("100%")
        controls.addWidget(self.zoom_label)
        left_layout.addLayout(controls)
        self.status = QLabel("Loading images…")
        self.status.setWordWrap(True)
        set_role(self.status, "muted")
        left_layout.addWidget(self.status)
        split.addWidget(left)

        self.info = QLabel(settings_html(job, titles))
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setContentsMargins(8, 4, 8, 4)
        info_scroll = QScrollArea()
        info_scroll.setWidgetResizable(True)
        info_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        info_scroll.setWidget(self.info)
        split.addWidget(info_scroll)
        split.setSizes([720, 360])
        layout.addWidget(split, 1)

        buttons = QHBoxLayout()
        self.copy_button = QPushButton(icon("copy"), "Copy image URL")
        self.copy_button.clicked.connect(self.copy_url)
        self.copy_button.setVisible(features.get("copy_url", True))
        self.again_button = QPushButton(icon("again"), "Again, new seed")
        self.again_button.clicked.connect(lambda: self._finish("again"))
        self.again_button.setVisible(features.get("generate_again", True))
        self.rerun_button = QPushButton(icon("rerun"), "Change options…")
        self.rerun_button.setToolTip("Render this photo again with other options (no new upload)")
        self.rerun_button.clicked.connect(lambda: self._finish("rerun"))
        self.rerun_button.setVisible(features.get("rerun", False))
        self.repair_button = QPushButton(icon("repair"), "Repair cut-out…")
        self.repair_button.setToolTip("Paint what is product and what is not, then render again")
        self.repair_button.clicked.connect(lambda: self._finish("repair"))
        self.repair_button.setVisible(features.get("repair", False))
        self.delete_button = QPushButton(icon("delete"), "Delete")
        self.delete_button.clicked.connect(lambda: self._finish("delete"))
        self.delete_button.setVisible(features.get("delete", False))
        self.save_button = QPushButton(icon("save"), "Save as…")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(lambda: self._finish("save"))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        for button in (self.copy_button, self.again_button, self.rerun_button, self.repair_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    @property
    def action(self) -> str:
        """What the user chose when closing (see the class docstring)."""
        return self._action

    @property
    def variant_index(self) -> int:
        """The variant shown (0 when there is one image)."""
        return max(0, self.variant.currentIndex())

    def _finish(self, action: str) -> None:
        self._action = action
        self.accept()

    def set_images(self, before: QImage | None, after: QImage | None) -> None:
        """Images downloaded by a worker; the original may be missing (older appliance)."""
        self.canvas.set_images(before, after, self.job.product_box)
        if before is None:
            self.status.setText("The original is not available for comparison.")
        elif not self.canvas.aligned:
            self.status.setText(
                "This appliance does not say where it placed the product: the original is fitted, not aligned."
            )
        else:
            self.status.setText("Drag on the image (or the slider) to compare: original left of the line.")
        set_role(self.status, "muted")
        self.fit()

    def set_variants(self, images: list[QImage]) -> None:
        """All variants, for the side-by-side view."""
        self.side_by_side.set_images(images)
        self.status.setText("")

    def _toggle_side_by_side(self, on: bool) -> None:
        self.views.setCurrentWidget(self.side_by_side if on else self.scroll_area)
        self.split_slider.setEnabled(not on)
        if on and not self.side_by_side.images:
            self.status.setText("Loading the variants…")
            self.side_by_side_requested.emit()

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
        QGuiApplication.clipboard().setText(self.current_url)
        self.status.setText("Image URL copied.")
