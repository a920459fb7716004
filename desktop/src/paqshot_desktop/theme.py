"""Brand colour tokens rendered into a QPalette and a templated style sheet on the Fusion style.

The palette covers everything Fusion paints itself; the style sheet adds what a palette cannot say
(sidebar, accent buttons, cards, status colours). Widgets opt into the extra looks with an object name
or a dynamic property (``role="primary"``), never with colours of their own.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from string import Template

from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from .branding import Brand

log = logging.getLogger(__name__)

_QSS = Template(
    """
QWidget { color: $text; }
QMainWindow, QDialog { background: $window; }
#Sidebar { background: $sidebar; border: none; }
#Sidebar QLabel { color: $sidebar_text; }
#Sidebar QPushButton {
    color: $sidebar_text; background: transparent; border: none; border-radius: 6px;
    text-align: left; padding: 9px 12px; font-size: ${font_size}pt;
}
#Sidebar QPushButton:hover { background: $sidebar_hover; }
#Sidebar QPushButton:checked { background: $accent; color: $accent_text; font-weight: bold; }
#Sidebar QPushButton:disabled { color: $sidebar_muted; }
#PageTitle { font-size: ${title_size}pt; font-weight: bold; color: $text; }
#Muted, QLabel[role="muted"] { color: $text_muted; }
QLabel[role="error"] { color: $danger; }
QLabel[role="ok"] { color: $success; }
QLabel[role="warn"] { color: $warning; }
QFrame#Card {
    background: $surface; border: 1px solid $border; border-radius: 10px;
}
QFrame#DropZone {
    background: $surface_alt; border: 2px dashed $border; border-radius: 12px;
}
QFrame#DropZone[hover="true"] { border-color: $accent; background: $accent_soft; }
QPushButton {
    background: $surface; border: 1px solid $border; border-radius: 6px; padding: 6px 14px;
}
QPushButton:hover { border-color: $accent; }
QPushButton:disabled { color: $text_muted; background: $surface_alt; }
QPushButton[role="primary"] {
    background: $accent; color: $accent_text; border: 1px solid $accent; font-weight: bold;
}
QPushButton[role="primary"]:hover { background: $accent_hover; }
QPushButton[role="primary"]:disabled { background: $border; color: $text_muted; border-color: $border; }
QLineEdit, QPlainTextEdit, QComboBox, QSpinBox, QDoubleSpinBox {
    background: $surface; border: 1px solid $border; border-radius: 5px; padding: 4px 6px;
    selection-background-color: $accent; selection-color: $accent_text;
}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {
    subcontrol-origin: border; width: 18px; border: none; background: transparent;
}
QAbstractSpinBox::up-button { subcontrol-position: top right; }
QAbstractSpinBox::down-button { subcontrol-position: bottom right; }
QAbstractSpinBox::up-arrow { image: url($arrow_up); width: 9px; height: 9px; }
QAbstractSpinBox::down-arrow { image: url($arrow_down); width: 9px; height: 9px; }
QComboBox::drop-down { border: none; width: 22px; }
QComboBox::down-arrow { image: url($arrow_down); width: 10px; height: 10px; }
QCheckBox::indicator {
    width: 16px; height: 16px; border: 1px solid $text_muted; border-radius: 4px; background: $surface;
}
QCheckBox::indicator:checked { background: $accent; border-color: $accent; image: url($check); }
QComboBox QAbstractItemView {
    background: $surface; border: 1px solid $border; selection-background-color: $accent;
    selection-color: $accent_text;
}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus, QSpinBox:focus { border-color: $accent; }
QLineEdit:disabled, QPlainTextEdit:disabled, QComboBox:disabled, QAbstractSpinBox:disabled, QCheckBox:disabled,
QLabel:disabled { color: $text_muted; }
QLineEdit:disabled, QPlainTextEdit:disabled, QComboBox:disabled, QAbstractSpinBox:disabled {
    background: $surface_alt; border-color: $surface_alt;
}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QComboBox[invalid="true"],
QAbstractSpinBox[invalid="true"] { border-color: $danger; }
QTableView, QListView {
    background: $surface; alternate-background-color: $surface_alt; border: 1px solid $border;
    border-radius: 6px; gridline-color: $border;
    selection-background-color: $accent; selection-color: $accent_text;
}
QHeaderView::section {
    background: $surface_alt; color: $text_muted; border: none; border-bottom: 1px solid $border;
    padding: 5px 8px; font-weight: bold;
}
QProgressBar { background: $surface_alt; border: 1px solid $border; border-radius: 5px; text-align: center; }
QProgressBar::chunk { background: $accent; border-radius: 4px; }
QStatusBar { background: $surface; color: $text_muted; border-top: 1px solid $border; }
QScrollArea { border: none; background: transparent; }
QScrollArea#FormScroll > QWidget > QWidget { background: transparent; }
QToolTip { background: $surface; color: $text; border: 1px solid $border; }
QScrollBar:vertical { background: $surface_alt; width: 12px; margin: 0; border: none; }
QScrollBar:horizontal { background: $surface_alt; height: 12px; margin: 0; border: none; }
QScrollBar::handle:vertical { background: $scroll_handle; min-height: 28px; border-radius: 4px; margin: 2px; }
QScrollBar::handle:horizontal { background: $scroll_handle; min-width: 28px; border-radius: 4px; margin: 2px; }
QScrollBar::handle:hover { background: $accent; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; }
QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }
QMenuBar { background: $window; color: $text; }
QMenuBar::item:selected { background: $accent_soft; }
QMenu { background: $surface; color: $text; border: 1px solid $border; }
QMenu::item { padding: 5px 22px; }
QMenu::item:selected { background: $accent; color: $accent_text; }
QMenu::item:disabled { color: $text_muted; }
QMenu::separator { height: 1px; background: $border; margin: 4px 8px; }
QMessageBox, QFileDialog, QColorDialog, QInputDialog { background: $window; }
QFrame#Banner { background: $accent_soft; border: 1px solid $accent; border-radius: 8px; }
QFrame#Review { background: $warning_soft; border: 1px solid $warning; border-radius: 8px; }
QLabel#EmptyState { color: $text_muted; font-size: ${title_size}pt; }
"""
)


def _shift(hex_color: str, factor: int) -> str:
    """Lighter (factor > 100) or darker (< 100) variant of a colour."""
    color = QColor(hex_color)
    return (color.lighter(factor) if factor >= 100 else color.darker(int(10000 / factor))).name()


def _mix(a: str, b: str, weight: float) -> str:
    """``a`` blended toward ``b`` by ``weight`` (0..1)."""
    ca, cb = QColor(a), QColor(b)
    mixed = QColor(
        round(ca.red() + (cb.red() - ca.red()) * weight),
        round(ca.green() + (cb.green() - ca.green()) * weight),
        round(ca.blue() + (cb.blue() - ca.blue()) * weight),
    )
    return mixed.name()


_SVG = {
    "arrow_down": '<path d="M1 3 L6 9 L11 3 Z" fill="{c}"/>',
    "arrow_up": '<path d="M1 9 L6 3 L11 9 Z" fill="{c}"/>',
    "check": '<path d="M2 6.5 L5 9.5 L10 2.5" stroke="{c}" stroke-width="2" fill="none"/>',
}


def theme_assets(brand: Brand, cache_dir: Path) -> dict[str, str]:
    """Small SVGs (arrows, check mark) in the brand's colours, written once under ``cache_dir`` (the user's
    cache folder: private to the user, unlike a shared temp folder).

    Style sheets can only draw these sub-controls from image files, and a partner's palette decides
    their colour, so they are generated rather than shipped.
    """
    colors = {
        "arrow_down": brand.colors["text_muted"],
        "arrow_up": brand.colors["text_muted"],
        "check": brand.colors["accent_text"],
    }
    key = hashlib.sha256(repr(sorted(colors.items())).encode()).hexdigest()[:12]
    folder = cache_dir / f"theme-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, shape in _SVG.items():
        path = folder / f"{name}.svg"
        if not path.is_file():
            body = shape.replace("{c}", colors[name])
            path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12">{body}</svg>')
        paths[name] = path.as_posix()
    return paths


def cache_dir() -> Path:
    """The user's cache folder for this app (per brand: QApplication's names are the brand's)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation))


def colors(brand: Brand) -> dict[str, str]:
    """The brand's colour tokens plus the derived ones (hover, soft backgrounds, text on badges)."""
    c = dict(brand.colors)
    dark = QColor(c["window"]).lightness() < 128
    c["accent_hover"] = _shift(c["accent"], 115 if dark else 88)
    c["accent_soft"] = _mix(c["surface_alt"], c["accent"], 0.12)
    c["warning_soft"] = _mix(c["surface"], c["warning"], 0.14)
    c["sidebar_hover"] = _mix(c["sidebar"], c["sidebar_text"], 0.12)
    c["sidebar_muted"] = _mix(c["sidebar"], c["sidebar_text"], 0.45)
    c["scroll_handle"] = _mix(c["surface_alt"], c["text_muted"], 0.45)
    c["badge_text"] = "#000000" if QColor(c["warning"]).lightness() > 110 else "#ffffff"
    return c


def tokens(brand: Brand, assets_dir: Path | None = None) -> dict[str, str]:
    """Everything the style sheet substitutes: colours, font sizes and the generated asset paths."""
    c = colors(brand)
    c["font_size"] = str(brand.font_size)
    c["title_size"] = str(brand.font_size + 7)
    c.update(theme_assets(brand, assets_dir or cache_dir()))
    return c


def style_sheet(brand: Brand, assets_dir: Path | None = None) -> str:
    """The application style sheet for a brand."""
    return _QSS.substitute(tokens(brand, assets_dir))


def palette(brand: Brand) -> QPalette:
    """A QPalette from the brand tokens (what Fusion paints without the style sheet)."""
    c = brand.colors
    pal = QPalette()
    role = QPalette.ColorRole
    pairs = {
        role.Window: c["window"],
        role.WindowText: c["text"],
        role.Base: c["surface"],
        role.AlternateBase: c["surface_alt"],
        role.Text: c["text"],
        role.Button: c["surface"],
        role.ButtonText: c["text"],
        role.Highlight: c["accent"],
        role.HighlightedText: c["accent_text"],
        role.ToolTipBase: c["surface"],
        role.ToolTipText: c["text"],
        role.PlaceholderText: c["text_muted"],
        role.Link: c["accent"],
        role.BrightText: c["danger"],
        role.Mid: c["border"],
        role.Midlight: c["surface_alt"],
        role.Dark: c["border"],
    }
    for color_role, value in pairs.items():
        pal.setColor(color_role, QColor(value))
    for color_role in (role.Text, role.WindowText, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, color_role, QColor(c["text_muted"]))
    return pal


def load_brand_fonts(brand: Brand) -> list[str]:
    """Register the font files a brand ships (``Brand.font_files``) with Qt; returns their families.

    The app then never depends on the fonts of the machine it runs on: a partner's typeface travels with its
    brand folder.
    """
    families: list[str] = []
    for path in brand.font_files:
        if path.is_file():
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id < 0:
                log.warning("Qt could not load the brand font %s", path)
                continue
            families += [f for f in QFontDatabase.applicationFontFamilies(font_id) if f not in families]
    return families


def apply(app: QApplication, brand: Brand, assets_dir: Path | None = None) -> None:
    """Put the brand on the whole application: Fusion style, palette, bundled font and style sheet."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(palette(brand))
    bundled = load_brand_fonts(brand)
    family = brand.font_family or (bundled[0] if bundled else "")
    font = QFont(family) if family else QFont(app.font())
    font.setPointSize(brand.font_size)
    app.setFont(font)
    app.setStyleSheet(style_sheet(brand, assets_dir))


def status_colors(brand: Brand) -> dict[str, str]:
    """Colour each job state's role (``jobstate.STATES``) is drawn in."""
    return {
        "muted": brand.colors["text_muted"],
        "ok": brand.colors["success"],
        "warn": brand.colors["warning"],
        "error": brand.colors["danger"],
        "accent": brand.colors["accent"],
    }
