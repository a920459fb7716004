"""Main window: branded sidebar navigation over the four pages, status bar, tray icon."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
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
DEFAULT_SIZE = (1180, 760)  # the window's size on first start (then the user's, restored)
MINIMUM_SIZE = (900, 600)
_TITLES = {"connect": "Connect", "create": "Create", "queue": "Queue && history", "results": "Results"}


class MainWindow(QMainWindow):
    """Holds the pages; the controller wires them to the model and the workers."""

    about_requested = Signal()
    closing = Signal()

    def __init__(self, brand: Brand, jobs: JobsModel, colors: dict[str, str]) -> None:
        super().__init__()
        self.brand = brand
        self.setWindowTitle(brand.app_name)
        self.setWindowIcon(app_icon(brand))
        self.resize(*DEFAULT_SIZE)
        self.setMinimumSize(*MINIMUM_SIZE)

        self.connect_view = ConnectView(brand.app_name, brand.feature("local_server"))
        self.create_view = CreateView(colors)
        self.queue_view = QueueView(jobs)
        self.results_view = ResultsView(colors)
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
            button = QPushButton(icon(page, on_dark=True), _TITLES[page])
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
        about = QPushButton(icon("about", on_dark=True), f"About {brand.app_name}")
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
        self._menus()
        self.show_page("connect")
        self.set_connected(False, "Not connected")

        self.tray: QSystemTrayIcon | None = None
        if brand.feature("tray_icon") and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(brand), self)
            self.tray.setToolTip(brand.app_name)
            self.tray.show()

    def _menus(self) -> None:
        """The menu bar, with the platform's standard shortcuts (QKeySequence.StandardKey)."""
        keys = QKeySequence.StandardKey
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.add_files_action = self._action(file_menu, "&Add photos…", "add_files", keys.Open)
        self.add_files_action.triggered.connect(self._add_files)
        self.add_folder_action = self._action(file_menu, "Add &folder…", "add_folder")
        self.add_folder_action.triggered.connect(self._add_folder)
        self.catalogue_action = self._action(file_menu, "Open &catalogue…", "queue")
        self.catalogue_action.triggered.connect(self._open_catalogue)
        file_menu.addSeparator()
        self.save_action = self._action(file_menu, "&Save selected…", "save", keys.Save)
        self.save_action.triggered.connect(self.results_view.save_selected_button.click)
        file_menu.addSeparator()
        quit_action = self._action(file_menu, "&Quit", "quit", keys.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        edit = bar.addMenu("&Edit")
        select_all = self._action(edit, "Select &all", None, keys.SelectAll)
        select_all.triggered.connect(self._select_all)
        self.delete_action = self._action(edit, "&Delete selected", "delete", keys.Delete)
        self.delete_action.triggered.connect(self._delete_selected)
        view = bar.addMenu("&View")
        for number, page in enumerate(PAGES, start=1):
            if page not in self.nav_buttons:
                continue
            action = self._action(view, _TITLES[page], page, QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(partial(self._go, page))
            self.nav_buttons[page].setToolTip(f"{_TITLES[page].replace('&&', '&')} (Ctrl+{number})")
        view.addSeparator()
        refresh = self._action(view, "&Refresh", "refresh", keys.Refresh)
        refresh.triggered.connect(self._refresh)
        help_menu = bar.addMenu("&Help")
        about = self._action(help_menu, f"&About {self.brand.app_name}", "about")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.about_requested)

    def _action(
        self,
        menu: QMenu,
        text: str,
        icon_name: str | None,
        shortcut: QKeySequence | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        menu.addAction(action)
        return action

    def _add_files(self) -> None:
        if self.nav_buttons["create"].isEnabled():
            self.show_page("create")
            self.create_view.drop.add_files.click()

    def _add_folder(self) -> None:
        if self.nav_buttons["create"].isEnabled():
            self.show_page("create")
            self.create_view.drop.add_folder.click()

    def _open_catalogue(self) -> None:
        if self.nav_buttons["create"].isEnabled():
            self.show_page("create")
            self.create_view.drop.open_catalogue.click()

    def _select_all(self) -> None:
        grid = {"create": self.create_view.files, "results": self.results_view.grid}.get(self.current_page)
        if grid is not None:
            grid.selectAll()

    def _delete_selected(self) -> None:
        if self.current_page == "results" and self.results_view.delete_button.isVisible():
            self.results_view.delete_button.click()
        elif self.current_page == "create":
            self.create_view.remove_button.click()

    def _refresh(self) -> None:
        if self.current_page == "queue":
            self.queue_view.refresh_button.click()
        elif self.current_page == "results":
            self.results_view.refresh_button.click()

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
