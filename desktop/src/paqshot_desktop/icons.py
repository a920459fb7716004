"""Every icon the app uses, by name, in one place: SVG drawings tinted from the brand's colour tokens.

Views ask for ``icon("save")``. The drawings live in ``iconset/<name>.svg`` (24 px grid, strokes in
``currentColor``); a brand folder may replace any of them with ``icons/<name>.svg`` of its own. Each icon is
tinted per state: the brand's text colour, muted when disabled, and the accent's text colour when selected or
checked (sidebar, primary buttons). The application icon comes from the brand folder, or is drawn from the
brand's colours and monogram when the brand ships none.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from .branding import Brand

ICONSET = Path(__file__).with_name("iconset")
ICON_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in ICONSET.glob("*.svg")))
SIZES = (16, 24, 32, 48)


class _Tint:
    """The active brand's icon colours and override folder (set once by :func:`use_brand`)."""

    normal = "#1b2430"
    disabled = "#5d6b7a"
    selected = "#ffffff"
    sidebar = "#e6ebf1"
    folder: Path | None = None


def use_brand(brand: Brand) -> None:
    """Tint icons with ``brand``'s tokens and prefer its ``icons/`` drawings (call before building views)."""
    _Tint.normal = brand.colors["text"]
    _Tint.disabled = brand.colors["text_muted"]
    _Tint.selected = brand.colors["accent_text"]
    _Tint.sidebar = brand.colors["sidebar_text"]
    _Tint.folder = brand.folder / "icons" if brand.folder is not None else None
    _svg.cache_clear()
    _icon.cache_clear()


@cache
def _svg(name: str) -> bytes:
    if name not in ICON_NAMES:
        raise KeyError(name)
    override = _Tint.folder / f"{name}.svg" if _Tint.folder is not None else None
    path = override if override is not None and override.is_file() else ICONSET / f"{name}.svg"
    return path.read_bytes()


def render_svg(data: bytes, color: str, size: int) -> QPixmap:
    """An SVG drawing with ``currentColor`` replaced by ``color``, at ``size`` px (and the screen's DPR)."""
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    renderer = QSvgRenderer(QByteArray(data.replace(b"currentColor", color.encode("ascii"))))
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


@cache
def _icon(name: str, on_dark: bool) -> QIcon:
    data = _svg(name)
    result = QIcon()
    normal = _Tint.sidebar if on_dark else _Tint.normal
    for size in SIZES:
        result.addPixmap(render_svg(data, normal, size), QIcon.Mode.Normal, QIcon.State.Off)
        result.addPixmap(render_svg(data, _Tint.disabled, size), QIcon.Mode.Disabled, QIcon.State.Off)
        result.addPixmap(render_svg(data, _Tint.selected, size), QIcon.Mode.Normal, QIcon.State.On)
        result.addPixmap(render_svg(data, _Tint.selected, size), QIcon.Mode.Selected, QIcon.State.Off)
    return result


def icon(name: str, on_dark: bool = False) -> QIcon:
    """The icon registered under ``name`` (KeyError for unknown names, so typos fail in tests); ``on_dark``
    tints it for the sidebar."""
    return _icon(name, on_dark)


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
