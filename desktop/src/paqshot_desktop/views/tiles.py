"""Tiles for the Create batch and the Results grid: a thumbnail with its name, state, message and progress.

One delegate paints both grids, so a tile is never the clipped strip a plain icon view makes of a long text:
the thumbnail sits on a checkerboard (transparent results show as transparent), the name is elided to one
line, the state is coloured by meaning, why a file cannot be sent is written on the tile (up to three lines,
the full text in the tooltip), a thin bar shows live progress and a badge marks results that need review.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPainterPath, QPen, QTextLayout
from PySide6.QtWidgets import QListWidget, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

TILE_ROLE = Qt.ItemDataRole.UserRole + 10
PAD = 8
TEXT_LINES = 5  # title, subtitle, status, and up to two lines of message below the thumbnail


@dataclass(frozen=True)
class Tile:
    """What one tile shows. ``role`` colours the status: muted, accent, ok, warn, error."""

    title: str
    status: str = ""
    role: str = "muted"
    subtitle: str = ""
    message: str = ""
    progress: float | None = None
    badge: str = ""


def checkerboard(painter: QPainter, rect: QRect, step: int = 8) -> None:
    """Grey-and-white squares, as image editors draw under transparent pixels."""
    painter.save()
    painter.setClipRect(rect)
    painter.fillRect(rect, QColor("#ffffff"))
    dark = QColor("#cfcfcf")
    for y in range(rect.top(), rect.bottom() + 1, step):
        for x in range(rect.left(), rect.right() + 1, step):
            if ((x - rect.left()) // step + (y - rect.top()) // step) % 2:
                painter.fillRect(x, y, step, step, dark)
    painter.restore()


class TileDelegate(QStyledItemDelegate):
    """Paints :class:`Tile` data (item role ``TILE_ROLE``) with the item's icon as the thumbnail."""

    def __init__(self, thumb: int, colors: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumb = thumb
        self.colors = colors

    def tile_size(self, font: QFont) -> QSize:
        """Width and height of every tile (uniform, so thousands of tiles lay out fast)."""
        line = QFontMetrics(font).lineSpacing()
        return QSize(self.thumb + 2 * PAD + 24, self.thumb + 3 * PAD + TEXT_LINES * line + 6)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        """The uniform tile size."""
        return self.tile_size(option.font)

    def _color(self, role: str) -> QColor:
        key = {"ok": "success", "warn": "warning", "error": "danger", "accent": "accent"}.get(role, "text_muted")
        return QColor(self.colors.get(key, "#666666"))

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Card, thumbnail on a checkerboard, badge, progress bar, then the text lines."""
        tile = index.data(TILE_ROLE)
        if not isinstance(tile, Tile):
            super().paint(painter, option, index)
            return
        rect: QRect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QPainterPath()
        card.addRoundedRect(QRectF(rect), 8, 8)
        painter.fillPath(card, QColor(self.colors["surface"]))
        painter.setPen(QPen(QColor(self.colors["accent"] if selected else self.colors["border"]), 2 if selected else 1))
        painter.drawPath(card)

        thumb_rect = QRect(rect.left() + (rect.width() - self.thumb) // 2, rect.top() + PAD, self.thumb, self.thumb)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        pixmap = icon.pixmap(self.thumb, self.thumb) if isinstance(icon, QIcon) and not icon.isNull() else None
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.deviceIndependentSize().toSize().scaled(thumb_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(thumb_rect.center())
            checkerboard(painter, target)
            painter.drawPixmap(target, pixmap)
        else:
            painter.fillRect(thumb_rect, QColor(self.colors["surface_alt"]))
        if tile.progress is not None:
            bar = QRect(thumb_rect.left(), thumb_rect.bottom() - 5, thumb_rect.width(), 6)
            painter.fillRect(bar, QColor(self.colors["surface_alt"]))
            done = QRect(bar.left(), bar.top(), round(bar.width() * max(0.0, min(1.0, tile.progress))), bar.height())
            painter.fillRect(done, QColor(self.colors["accent"]))
        if tile.badge:
            self._badge(painter, tile.badge, thumb_rect, option.font)

        font = QFont(option.font)
        metrics = QFontMetrics(font)
        line = metrics.lineSpacing()
        text_rect = QRect(rect.left() + PAD, thumb_rect.bottom() + PAD, rect.width() - 2 * PAD, line)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor(self.colors["text"]))
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignLeft,
            QFontMetrics(bold).elidedText(tile.title, Qt.TextElideMode.ElideMiddle, text_rect.width()),
        )
        painter.setFont(font)
        lines_left = TEXT_LINES - 1
        if tile.subtitle:
            text_rect.translate(0, line)
            painter.setPen(QColor(self.colors["text_muted"]))
            painter.drawText(
                text_rect,
                Qt.AlignmentFlag.AlignLeft,
                metrics.elidedText(tile.subtitle, Qt.TextElideMode.ElideRight, text_rect.width()),
            )
            lines_left -= 1
        if tile.status:
            text_rect.translate(0, line)
            painter.setPen(self._color(tile.role))
            painter.drawText(
                text_rect,
                Qt.AlignmentFlag.AlignLeft,
                metrics.elidedText(tile.status, Qt.TextElideMode.ElideRight, text_rect.width()),
            )
            lines_left -= 1
        if tile.message and lines_left > 0:
            painter.setPen(QColor(self.colors["text_muted"] if tile.role != "error" else self.colors["text"]))
            for text in wrap(tile.message, font, text_rect.width(), lines_left):
                text_rect.translate(0, line)
                painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, text)
        painter.restore()

    def _badge(self, painter: QPainter, text: str, thumb_rect: QRect, font: QFont) -> None:
        small = QFont(font)
        small.setBold(True)
        small.setPointSizeF(max(6.0, font.pointSizeF() - 1))
        metrics = QFontMetrics(small)
        box = QRect(
            thumb_rect.left() + 4, thumb_rect.top() + 4, metrics.horizontalAdvance(text) + 12, metrics.height() + 4
        )
        path = QPainterPath()
        path.addRoundedRect(QRectF(box), box.height() / 2, box.height() / 2)
        painter.fillPath(path, QColor(self.colors["warning"]))
        painter.setFont(small)
        painter.setPen(QColor(self.colors["badge_text"]))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def wrap(text: str, font: QFont, width: int, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines of ``width`` px, the last one elided."""
    layout = QTextLayout(text, font)
    layout.beginLayout()
    lines: list[str] = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        lines.append(text[line.textStart() : line.textStart() + line.textLength()].strip())
    layout.endLayout()
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight, width)]
    return lines


def tile_grid(thumb: int, colors: dict[str, str]) -> tuple[QListWidget, TileDelegate]:
    """An icon-mode list of uniform tiles painted by a :class:`TileDelegate`."""
    grid = QListWidget()
    delegate = TileDelegate(thumb, colors, grid)
    grid.setItemDelegate(delegate)
    grid.setViewMode(QListWidget.ViewMode.IconMode)
    grid.setIconSize(QSize(thumb, thumb))
    grid.setGridSize(delegate.tile_size(grid.font()) + QSize(6, 6))
    grid.setResizeMode(QListWidget.ResizeMode.Adjust)
    grid.setMovement(QListWidget.Movement.Static)
    grid.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
    grid.setUniformItemSizes(True)
    grid.setLayoutMode(QListWidget.LayoutMode.Batched)
    grid.setBatchSize(100)
    grid.setSpacing(0)
    return grid, delegate
