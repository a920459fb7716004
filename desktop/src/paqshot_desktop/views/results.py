"""Results page: a grid of finished images; open one, save one or all with a naming pattern."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from ..wire import Job
from .common import page_title, set_role

THUMB = 168


class ResultsView(QWidget):
    """Takes jobs and thumbnails; emits what the user wants done with them."""

    open_requested = Signal(object)  # Job
    save_requested = Signal(list, str, str)  # jobs, folder, naming pattern
    more_requested = Signal()
    refresh_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(page_title("Results", "Finished images. Double-click one to compare and inspect it."))

        self.grid = QListWidget()
        self.grid.setViewMode(QListWidget.ViewMode.IconMode)
        self.grid.setIconSize(QSize(THUMB, THUMB))
        self.grid.setGridSize(QSize(THUMB + 28, THUMB + 46))
        self.grid.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.grid.setMovement(QListWidget.Movement.Static)
        self.grid.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListWidget.LayoutMode.Batched)
        self.grid.setBatchSize(100)
        self.grid.itemDoubleClicked.connect(lambda item: self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(self.grid, 1)

        save_row = QHBoxLayout()
        save_row.addWidget(QLabel("Save to"))
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Choose a folder…")
        save_row.addWidget(self.folder, 2)
        browse = QPushButton(icon("add_folder"), "")
        browse.setToolTip("Choose the folder")
        browse.clicked.connect(self._choose_folder)
        save_row.addWidget(browse)
        save_row.addWidget(QLabel("Names"))
        self.pattern = QLineEdit()
        self.pattern.setToolTip("Fields: {name} {style} {index} {id} {seed} {date} {ratio}")
        save_row.addWidget(self.pattern, 1)
        layout.addLayout(save_row)

        actions = QHBoxLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        actions.addWidget(self.message, 1)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.more_button = QPushButton(icon("next"), "Load older")
        self.more_button.clicked.connect(self.more_requested)
        self.save_selected_button = QPushButton(icon("save"), "Save selected")
        self.save_selected_button.clicked.connect(lambda: self._save(self.selected_jobs()))
        self.save_all_button = QPushButton(icon("save_all"), "Save all")
        self.save_all_button.setProperty("role", "primary")
        self.save_all_button.clicked.connect(lambda: self._save(self.jobs()))
        for button in (
            self.refresh_button,
            self.more_button,
            self.save_selected_button,
            self.save_all_button,
        ):
            actions.addWidget(button)
        layout.addLayout(actions)
        self._items: dict[str, QListWidgetItem] = {}
        self.set_has_more(False)

    def set_jobs(self, jobs: list[Job], sources: dict[str, str]) -> None:
        """Show completed jobs (keeps thumbnails already loaded); ``sources`` maps id -> file name."""
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
            item.setData(Qt.ItemDataRole.UserRole, job)
            name = sources.get(job.id) or job.id
            count = len(job.all_images)
            extra = f" · {count} variants" if count > 1 else ""
            item.setText(f"{name}\n{job.style.replace('_', ' ')} · {job.aspect_ratio}{extra}")
            size = f"{job.width}×{job.height}" if job.width and job.height else ""
            item.setToolTip(f"{job.id}\n{size}\n{job.completed_at or job.created_at}")
        self.save_all_button.setEnabled(bool(jobs))

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

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save images to", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _save(self, jobs: list[Job]) -> None:
        if not jobs:
            self.show_message("Select images to save first.", "warn")
            return
        if not self.folder.text().strip():
            self._choose_folder()
        folder = self.folder.text().strip()
        if folder:
            self.save_requested.emit(jobs, folder, self.pattern.text().strip())
