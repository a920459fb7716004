"""Small helpers shared by the views."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def set_role(label: QLabel, role: str) -> None:
    """Colour a label by meaning (``muted``, ``error``, ``ok``, ``warn``) through the theme."""
    label.setProperty("role", role)
    repolish(label)


def page_title(text: str, subtitle: str = "") -> QWidget:
    """A page heading with an optional muted line under it."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 8)
    layout.setSpacing(2)
    title = QLabel(text)
    title.setObjectName("PageTitle")
    layout.addWidget(title)
    if subtitle:
        sub = QLabel(subtitle)
        sub.setObjectName("Muted")
        sub.setWordWrap(True)
        layout.addWidget(sub)
    return box


def card() -> tuple[QFrame, QVBoxLayout]:
    """A themed card frame and its layout."""
    frame = QFrame()
    frame.setObjectName("Card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(16, 14, 16, 14)
    return frame, layout
