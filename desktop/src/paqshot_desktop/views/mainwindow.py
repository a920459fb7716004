"""Main window: branded sidebar navigation over the four pages, status bar, tray icon."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from ..branding import Brand
from ..icons import app_icon, icon
from ..model import JobsModel
from .connect import ConnectView
from .create import CreateView
from .queue import QueueView
from .results import ResultsView

PAGES = ("connect", "create", "queue", "results")
_TITLES = {"connect": "Connect", "create": "Create", "queue": "Queue && history", "results": "Results"}


class MainWindow(QMainWindow):
    """Holds the pages; the controller wires them to the model and the workers."""

    about_requested = Signal()
    closing = Signal()

    def __init__(self, brand: Brand, jobs: JobsModel) -> None:
        super().__init__()
        self.brand = brand
        self.setWindowTitle(brand.app_name)
        self.setWindowIcon(app_icon(brand))
        self.resize(1180, 760)
        self.setMinimumSize(900, 600)

        self.connect_view = ConnectView(brand.app_name, brand.feature("local_server"))
        self.create_view = CreateView(brand.colors["danger"])
        self.queue_view = QueueView(jobs)
        self.results_view = ResultsView()
        self.stack = QStackedWidget()
        for view in (self.connect_view, self.create_view, self.queue_view, self.results_view):
            self.stack.addWidget(view)

        sidebar = QFrame()
        sidebar.setObjectName("Sidebar")
        sidebar.setFixedWidth(210)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(12, 16, 12, 12)
        side.setSpacing(4)
        header = QHBoxLayout()
        mark = QLabel()
        mark.setPixmap(app_icon(brand).pixmap(34, 34))
        header.addWidget(mark)
        name = QLabel(brand.app_name)
        name.setWordWrap(True)
        name.setStyleSheet("font-weight: bold; font-size: 12pt;")
        header.addWidget(name, 1)
        side.addLayout(header)
        side.addSpacing(14)
        self.nav = QButtonGroup(self)
        self.nav.setExclusive(True)
        self.nav_buttons: dict[str, QPushButton] = {}
        for index, page in enumerate(PAGES):
            if page == "queue" and not brand.feature("history"):
                continue
            button = QPushButton(icon(page), _TITLES[page])
            button.setCheckable(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _c=False, i=index: self.stack.setCurrentIndex(i))
            self.nav.addButton(button, index)
            self.nav_buttons[page] = button
            side.addWidget(button)
        side.addStretch(1)
        self.connection_label = QLabel("Not connected")
        self.connection_label.setWordWrap(True)
        self.connection_label.setObjectName("Muted")
        side.addWidget(self.connection_label)
        about = QPushButton(icon("about"), f"About {brand.app_name}")
        about.clicked.connect(self.about_requested)
        side.addWidget(about)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.stack.currentChanged.connect(self._sync_nav)
        for number, page in enumerate(PAGES, start=1):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
            shortcut.activated.connect(partial(self._go, page))
            nav = self.nav_buttons.get(page)
            if nav is not None:
                nav.setToolTip(f"{_TITLES[page].replace('&&', '&')} (Ctrl+{number})")
        self.show_page("connect")
        self.set_connected(False, "Not connected")

        self.tray: QSystemTrayIcon | None = None
        if brand.feature("tray_icon") and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(brand), self)
            self.tray.setToolTip(brand.app_name)
            self.tray.show()

    def show_page(self, page: str) -> None:
        """Switch to a page by name."""
        self.stack.setCurrentIndex(PAGES.index(page))
        self._sync_nav(self.stack.currentIndex())  # currentChanged does not fire for the page already shown

    def _go(self, page: str) -> None:
        button = self.nav_buttons.get(page)
        if button is not None and button.isEnabled():
            self.show_page(page)

    @property
    def current_page(self) -> str:
        """Name of the visible page."""
        return PAGES[self.stack.currentIndex()]

    def _sync_nav(self, index: int) -> None:
        button = self.nav.button(index)
        if button is not None:
            button.setChecked(True)

    def set_connected(self, connected: bool, text: str) -> None:
        """Enable the pages that need a server and say where we are connected."""
        for page in ("create", "queue", "results"):
            if page in self.nav_buttons:
                self.nav_buttons[page].setEnabled(connected)
        self.connection_label.setText(text)

    def notify(self, title: str, text: str) -> None:
        """A desktop notification through the tray icon when there is one, else the status bar."""
        if self.tray is not None:
            self.tray.showMessage(title, text, app_icon(self.brand), 4000)
        self.statusBar().showMessage(text, 8000)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Let the controller stop background work and the local appliance."""
        self.closing.emit()
        super().closeEvent(event)
