"""Results page: a grid of finished images; find, open, save or delete them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from ..jobstate import job_state
from ..labels import EXPIRED_NOTHING_SAVED, value_label, when
from ..wire import Job
from .common import page_title, set_role
from .tiles import TILE_ROLE, Tile, tile_grid

THUMB = 168
EMPTY_TEXT = {
    "": "No finished images yet.\nAdd photos on the Create page and generate: they appear here when ready.",
    "review": "Nothing needs review.\nResults the appliance is unsure of are listed here.",
    "search": "No results match that file name.",
}


def result_tile(job: Job, name: str) -> Tile:
    """A finished job's tile: file name, style and shape in words, then its state as every page says it
    (:func:`~paqshot_desktop.jobstate.job_state`): why it needs review (with a badge) or why there is no image
    (retention deleted it); a plain result shows when it finished."""
    count = len(job.all_images)
    extra = f" · {count} variants" if count > 1 else ""
    subtitle = f"{value_label(job.style)} · {job.aspect_ratio}{extra}"
    now = job_state(job)
    if now.key == "completed":
        return Tile(name, when(job.completed_at or job.created_at), "muted", subtitle)
    return Tile(name, now.words, now.role, subtitle, now.detail, badge="Review" if now.key == "review" else "")


class ResultsView(QWidget):
    """Takes jobs and thumbnails; emits what the user wants done with them."""

    open_requested = Signal(object)  # Job
    save_requested = Signal(list, str, str)  # jobs, folder, naming pattern
    delete_requested = Signal(list)  # jobs
    more_requested = Signal()
    refresh_requested = Signal()
    filter_changed = Signal(str, bool)  # file-name search text, needs review only

    def __init__(self, colors: dict[str, str]) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(page_title("Results", "Finished images. Double-click one to compare, repair or save it."))

        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by file name")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.returnPressed.connect(self._emit_filter)
        self.search.textChanged.connect(lambda text: None if text else self._emit_filter())
        bar.addWidget(self.search, 2)
        self.show_filter = QComboBox()
        self.show_filter.addItem("All results", False)
        self.show_filter.addItem(icon("review"), "Needs review", True)
        self.show_filter.currentIndexChanged.connect(lambda _i: self._emit_filter())
        bar.addWidget(self.show_filter)
        bar.addStretch(1)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(self.refresh_requested)
        bar.addWidget(self.refresh_button)
        layout.addLayout(bar)

        self.grid, self._delegate = tile_grid(THUMB, colors)
        self.grid.itemDoubleClicked.connect(lambda item: self._open(item.data(Qt.ItemDataRole.UserRole)))
        self.grid.itemSelectionChanged.connect(self._update_buttons)
        self.empty = QLabel(EMPTY_TEXT[""])
        self.empty.setObjectName("EmptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.grid)
        layout.addWidget(self.stack, 1)

        save_row = QHBoxLayout()
        save_row.addWidget(QLabel("Save to"))
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Choose a folder…")
        self.folder.returnPressed.connect(lambda: self._save(self.selected_jobs() or self.jobs()))
        save_row.addWidget(self.folder, 2)
        browse = QPushButton(icon("add_folder"), "")
        browse.setToolTip("Choose the folder")
        browse.clicked.connect(self._choose_folder)
        save_row.addWidget(browse)
        save_row.addWidget(QLabel("Names"))
        self.pattern = QLineEdit()
        self.pattern.setToolTip("Fields: {name} {style} {index} {id} {seed} {date} {ratio}")
        self.pattern.returnPressed.connect(lambda: self._save(self.selected_jobs() or self.jobs()))
        save_row.addWidget(self.pattern, 1)
        layout.addLayout(save_row)

        actions = QHBoxLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        actions.addWidget(self.message, 1)
        self.more_button = QPushButton(icon("next"), "Load older")
        self.more_button.clicked.connect(self.more_requested)
        self.delete_button = QPushButton(icon("delete"), "Delete")
        self.delete_button.setToolTip("Delete the selected jobs and their files from the appliance")
        self.delete_button.clicked.connect(lambda: self.delete_requested.emit(self.selected_jobs()))
        self.save_selected_button = QPushButton(icon("save"), "Save selected")
        self.save_selected_button.clicked.connect(lambda: self._save(self.selected_jobs()))
        self.save_all_button = QPushButton(icon("save_all"), "Save all")
        self.save_all_button.setProperty("role", "primary")
        self.save_all_button.clicked.connect(lambda: self._save(self.jobs()))
        for button in (self.more_button, self.delete_button, self.save_selected_button, self.save_all_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        self._items: dict[str, QListWidgetItem] = {}
        self.set_has_more(False)
        self._update_buttons()

    @property
    def search_text(self) -> str:
        """The file-name search ("" for none)."""
        return self.search.text().strip()

    @property
    def review_only(self) -> bool:
        """Whether only results that need review are shown."""
        return bool(self.show_filter.currentData())

    def _emit_filter(self) -> None:
        self.filter_changed.emit(self.search_text, self.review_only)

    def set_jobs(self, jobs: list[Job], names: dict[str, str]) -> None:
        """Show completed jobs (keeps thumbnails already loaded); ``names`` maps id -> name to show."""
        wanted = {job.id for job in jobs}
        for job_id in list(self._items):
            if job_id not in wanted:
                self.grid.takeItem(self.grid.row(self._items.pop(job_id)))
        for row, job in enumerate(jobs):
            item = self._items.get(job.id)
            if item is None:
                item = QListWidgetItem()
                self.grid.insertItem(row, item)
                self._items[job.id] = item
            elif self.grid.row(item) != row:
                self.grid.takeItem(self.grid.row(item))
                self.grid.insertItem(row, item)
            item.setData(Qt.ItemDataRole.UserRole, job)
            name = names.get(job.id) or job.id
            tile = result_tile(job, name)
            item.setData(TILE_ROLE, tile)
            item.setText(f"{name}\n{tile.subtitle}")
            size = f"{job.width} × {job.height} px" if job.width and job.height else ""
            item.setToolTip("\n".join(t for t in (name, size, tile.message or tile.status) if t))
        key = "search" if self.search_text else ("review" if self.review_only else "")
        self.empty.setText(EMPTY_TEXT[key])
        self.stack.setCurrentWidget(self.grid if jobs else self.empty)
        self._update_buttons()

    def set_thumbnail(self, job_id: str, image: QImage) -> None:
        """Show a thumbnail decoded on a worker."""
        item = self._items.get(job_id)
        if item is not None and not image.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def set_has_more(self, more: bool) -> None:
        """Enable "Load older" when the server has more completed jobs."""
        self.more_button.setEnabled(more)

    def set_save_defaults(self, folder: str, pattern: str) -> None:
        """Restore the last folder and naming pattern."""
        self.folder.setText(folder)
        self.pattern.setText(pattern)

    def set_can_delete(self, allowed: bool) -> None:
        """Show Delete only where the appliance offers it."""
        self.delete_button.setVisible(allowed)

    def jobs(self) -> list[Job]:
        """All jobs shown, in order."""
        return [self.grid.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.grid.count())]

    def selected_jobs(self) -> list[Job]:
        """Selected jobs, in grid order."""
        chosen = {id(item) for item in self.grid.selectedItems()}
        return [
            self.grid.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.grid.count())
            if id(self.grid.item(i)) in chosen
        ]

    def show_message(self, text: str, role: str = "muted") -> None:
        """Feedback line (save progress, errors)."""
        self.message.setText(text)
        set_role(self.message, role)

    def _update_buttons(self) -> None:
        selected = bool(self.grid.selectedItems())
        self.save_selected_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)
        self.save_all_button.setEnabled(self.grid.count() > 0)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save images to", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _open(self, job: Job) -> None:
        """Open a result that is there; say why an expired one cannot be opened (its images are gone)."""
        now = job_state(job)
        if now.has_result:
            self.open_requested.emit(job)
        else:
            self.show_message(f"{now.words}: {now.detail}", "warn")

    def _save(self, jobs: list[Job]) -> None:
        if not jobs:
            self.show_message("Select images to save first.", "warn")
            return
        if all(job.expired for job in jobs):  # no image links left: a "Saved 0" would read as success
            self.show_message(EXPIRED_NOTHING_SAVED, "warn")
            return
        if not self.folder.text().strip():
            self._choose_folder()
        folder = self.folder.text().strip()
        if folder:
            self.save_requested.emit(jobs, folder, self.pattern.text().strip())
