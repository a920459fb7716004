"""About dialog: every line of it comes from the brand."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from ..branding import Brand
from ..icons import logo_pixmap
from .common import set_role


class AboutDialog(QDialog):
    """Logo, name, version, about text, website and support links."""

    def __init__(self, brand: Brand, version: str, server_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {brand.app_name}")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        logo = QLabel()
        logo.setPixmap(logo_pixmap(brand, 56))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(logo)
        self.name_label = QLabel(f"<b>{brand.app_name}</b> {version}")
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.name_label)
        tagline = QLabel(brand.tagline)
        tagline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(tagline, "muted")
        layout.addWidget(tagline)
        text = QLabel(brand.about_text)
        text.setWordWrap(True)
        layout.addWidget(text)
        links = QLabel(
            f'<a href="{brand.website_url}">{brand.website_url}</a> · <a href="{brand.support_url}">Support</a>'
        )
        links.setOpenExternalLinks(True)
        links.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(links)
        self.server_label = QLabel(server_text)
        self.server_label.setWordWrap(True)
        set_role(self.server_label, "muted")
        layout.addWidget(self.server_label)
        footer = QLabel(f"© {brand.organisation}")
        footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(footer, "muted")
        layout.addWidget(footer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
