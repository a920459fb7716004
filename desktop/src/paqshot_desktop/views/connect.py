"""Connect page: server address and API key, or run the appliance on this computer."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from .common import card, page_title, set_role


class ConnectView(QWidget):
    """Emits what the user asked for; shows what the controller reports back."""

    connect_requested = Signal(str, str)  # url, api key
    cancel_requested = Signal()
    local_requested = Signal()

    def __init__(self, app_name: str, local_enabled: bool) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(page_title("Connect", f"Point {app_name} at an appliance, or run one here."))

        remote, remote_layout = card()
        form = QFormLayout()
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://appliance.example:8000")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("API key")
        form.addRow("Server address", self.url)
        form.addRow("API key", self.key)
        remote_layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.connect_button = QPushButton(icon("connect"), "Connect")
        self.connect_button.setProperty("role", "primary")
        self.connect_button.clicked.connect(self._emit_connect)
        self.url.returnPressed.connect(self._emit_connect)
        self.key.returnPressed.connect(self._emit_connect)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.hide()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.connect_button)
        remote_layout.addLayout(buttons)
        layout.addWidget(remote)

        local, local_layout = card()
        title = QLabel("Run on this computer")
        title.setStyleSheet("font-weight: bold;")
        hint = QLabel(
            "Starts a private appliance in the background with its own data folder. "
            "It stops when you quit. Studio packshots work without downloading models."
        )
        hint.setWordWrap(True)
        set_role(hint, "muted")
        self.local_button = QPushButton(icon("local"), "Run on this computer")
        self.local_button.clicked.connect(self.local_requested)
        row = QHBoxLayout()
        row.addWidget(hint, 1)
        row.addWidget(self.local_button)
        local_layout.addWidget(title)
        local_layout.addLayout(row)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(200)
        self.log.setFixedHeight(90)
        self.log.hide()
        local_layout.addWidget(self.log)
        local.setVisible(local_enabled)
        layout.addWidget(local)

        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def set_fields(self, url: str, key: str) -> None:
        """Pre-fill the address and key."""
        self.url.setText(url)
        self.key.setText(key)

    def _emit_connect(self) -> None:
        if self.connect_button.isEnabled():
            self.connect_requested.emit(self.url.text().strip(), self.key.text().strip())

    def set_busy(self, text: str, cancellable: bool = True) -> None:
        """Show a check in progress, disable the buttons and offer Cancel."""
        self.connect_button.setEnabled(False)
        self.local_button.setEnabled(False)
        self.cancel_button.setVisible(cancellable)
        self.status.setText(text)
        set_role(self.status, "muted")

    def show_error(self, text: str) -> None:
        """Show why connecting failed."""
        self._idle()
        self.status.setText(text)
        set_role(self.status, "error")

    def show_connected(self, text: str) -> None:
        """Show a successful connection."""
        self._idle()
        self.status.setText(text)
        set_role(self.status, "ok")

    def append_log(self, line: str) -> None:
        """A line of the local appliance's output."""
        self.log.show()
        self.log.appendPlainText(line)

    def _idle(self) -> None:
        self.connect_button.setEnabled(True)
        self.local_button.setEnabled(True)
        self.cancel_button.hide()
