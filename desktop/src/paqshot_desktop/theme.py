"""Brand colour tokens rendered into a QPalette and a templated style sheet on the Fusion style.

The palette covers everything Fusion paints itself; the style sheet adds what a palette cannot say
(sidebar, accent buttons, cards, status colours). Widgets opt into the extra looks with an object name
or a dynamic property (``role="primary"``), never with colours of their own.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from string import Template

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from .branding import Brand

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


def theme_assets(brand: Brand) -> dict[str, str]:
    """Small SVGs (arrows, check mark) in the brand's colours, written once to a cache folder.

    Style sheets can only draw these sub-controls from image files, and a partner's palette decides
    their colour, so they are generated rather than shipped.
    """
    colors = {
        "arrow_down": brand.colors["text_muted"],
        "arrow_up": brand.colors["text_muted"],
        "check": brand.colors["accent_text"],
    }
    key = hashlib.sha256(repr(sorted(colors.items())).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"desktop-theme-{key}"
    folder.mkdir(exist_ok=True)
    paths = {}
    for name, shape in _SVG.items():
        path = folder / f"{name}.svg"
        if not path.is_file():
            body = shape.replace("{c}", colors[name])
            path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12">{body}</svg>')
        paths[name] = path.as_posix()
    return paths


def tokens(brand: Brand) -> dict[str, str]:
    """The brand's colour tokens plus the derived ones the style sheet uses."""
    c = dict(brand.colors)
    dark = QColor(c["window"]).lightness() < 128
    c["accent_hover"] = _shift(c["accent"], 115 if dark else 88)
    c["accent_soft"] = _mix(c["surface_alt"], c["accent"], 0.12)
    c["sidebar_hover"] = _mix(c["sidebar"], c["sidebar_text"], 0.12)
    c["sidebar_muted"] = _mix(c["sidebar"], c["sidebar_text"], 0.45)
    c["font_size"] = str(brand.font_size)
    c["title_size"] = str(brand.font_size + 7)
    c.update(theme_assets(brand))
    return c


def style_sheet(brand: Brand) -> str:
    """The application style sheet for a brand."""
    return _QSS.substitute(tokens(brand))


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


def apply(app: QApplication, brand: Brand) -> None:
    """Put the brand on the whole application: Fusion style, palette, font and style sheet."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(palette(brand))
    font = QFont(brand.font_family) if brand.font_family else QFont(app.font())
    font.setPointSize(brand.font_size)
    app.setFont(font)
    app.setStyleSheet(style_sheet(brand))


def status_colors(brand: Brand) -> dict[str, str]:
    """Colour each job status is drawn in."""
    return {
        "completed": brand.colors["success"],
        "failed": brand.colors["danger"],
        "processing": brand.colors["accent"],
    }
