"""Every icon the app uses, by name, in one place.

Views ask for ``icon("save")``; which picture that is (a Fusion standard icon here) is decided only in this
module, so a partner can swap the icon set without touching views. The application icon comes from the
brand folder, or is drawn from the brand's colours and monogram when the brand ships none.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QStyle

from .branding import Brand

SP = QStyle.StandardPixmap

ICON_NAMES: dict[str, QStyle.StandardPixmap] = {
    "connect": SP.SP_DriveNetIcon,
    "create": SP.SP_FileDialogNewFolder,
    "queue": SP.SP_FileDialogDetailedView,
    "results": SP.SP_FileDialogContentsView,
    "about": SP.SP_MessageBoxInformation,
    "add_files": SP.SP_FileIcon,
    "add_folder": SP.SP_DirOpenIcon,
    "remove": SP.SP_TrashIcon,
    "submit": SP.SP_MediaPlay,
    "refresh": SP.SP_BrowserReload,
    "cancel": SP.SP_BrowserStop,
    "previous": SP.SP_ArrowLeft,
    "next": SP.SP_ArrowRight,
    "save": SP.SP_DialogSaveButton,
    "save_all": SP.SP_DriveHDIcon,
    "copy": SP.SP_FileLinkIcon,
    "again": SP.SP_BrowserReload,
    "local": SP.SP_ComputerIcon,
    "error": SP.SP_MessageBoxCritical,
    "warning": SP.SP_MessageBoxWarning,
    "ok": SP.SP_DialogApplyButton,
}


def icon(name: str) -> QIcon:
    """The icon registered under ``name`` (KeyError for unknown names, so typos fail in tests)."""
    style = QApplication.style()
    return style.standardIcon(ICON_NAMES[name])


def monogram_pixmap(brand: Brand, size: int = 256) -> QPixmap:
    """A drawn app icon: the brand monogram on an accent-coloured rounded square."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(brand.colors["accent"]))
    margin = size * 0.04
    painter.drawRoundedRect(QRectF(margin, margin, size - 2 * margin, size - 2 * margin), size * 0.2, size * 0.2)
    font = QFont(brand.font_family or painter.font().family())
    font.setPixelSize(int(size * 0.42))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor(brand.colors["accent_text"]))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, brand.monogram)
    painter.end()
    return pixmap


def app_icon(brand: Brand) -> QIcon:
    """Window/tray/dock icon of the brand."""
    if brand.icon_path is not None:
        loaded = QIcon(str(brand.icon_path))
        if not loaded.isNull():
            return loaded
    return QIcon(monogram_pixmap(brand))


def logo_pixmap(brand: Brand, height: int) -> QPixmap:
    """The brand logo scaled to ``height`` pixels (the app icon when the brand has no logo)."""
    path = brand.logo_path
    if path is not None and path.suffix.lower() == ".svg":
        renderer = QSvgRenderer(str(path))
        natural = renderer.defaultSize()
        width = max(1, round(natural.width() * height / max(1, natural.height())))
        pixmap = QPixmap(width, height)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        return pixmap
    if path is not None:
        loaded = QPixmap(str(path))
        if not loaded.isNull():
            return loaded.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
    return app_icon(brand).pixmap(height, height)
