"""Queue and history page: every job the server knows, filtered and paginated."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from ..jobstate import job_state
from ..labels import value_label
from ..model import STATUS_FILTERS, JobsModel
from ..wire import Job
from .common import page_title, set_role


class QueueView(QWidget):
    """Shows a :class:`JobsModel`; asks the controller for pages, cancels and opening results."""

    page_requested = Signal(int, str)  # offset, status filter
    cancel_requested = Signal(str)  # job id
    open_requested = Signal(object)  # Job

    def __init__(self, model: JobsModel) -> None:
        super().__init__()
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(page_title("Queue & history", "Every job on this appliance, newest first."))

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        self.filter = QComboBox()
        for status in STATUS_FILTERS:
            self.filter.addItem(value_label(status) if status else "All jobs", status)
        self.filter.currentIndexChanged.connect(lambda _i: self.request_page(0))
        bar.addWidget(self.filter)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(lambda: self.request_page(self.model.offset))
        self.refresh_button.setToolTip("Refresh (F5)")
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel job")
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.open_button = QPushButton(icon("results"), "Open result")
        self.open_button.clicked.connect(self._open_selected)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.open_button)
        layout.addLayout(bar)

        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 200), (2, 80), (3, 70), (4, 130), (5, 150)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(self._open_index)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        model.modelReset.connect(self._update_buttons)
        model.dataChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.table, 1)

        pager = QHBoxLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        pager.addWidget(self.message, 1)
        self.prev_button = QPushButton(icon("previous"), "Newer")
        self.next_button = QPushButton(icon("next"), "Older")
        self.page_label = QLabel("No jobs")
        set_role(self.page_label, "muted")
        self.prev_button.clicked.connect(lambda: self.request_page(max(0, self.model.offset - self.model.limit)))
        self.next_button.clicked.connect(lambda: self.request_page(self.model.offset + self.model.limit))
        pager.addWidget(self.prev_button)
        pager.addWidget(self.page_label)
        pager.addWidget(self.next_button)
        layout.addLayout(pager)
        self._update_buttons()

    @property
    def status_filter(self) -> str:
        """The status currently shown ("" for all)."""
        return str(self.filter.currentData() or "")

    def request_page(self, offset: int) -> None:
        """Ask for a page with the current filter."""
        self.page_requested.emit(offset, self.status_filter)

    def selected_job(self) -> Job | None:
        """The job on the selected row."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.job_at(rows[0].row()) if rows else None

    def show_message(self, text: str, role: str = "muted") -> None:
        """A line of feedback under the table (errors in plain words)."""
        self.message.setText(text)
        set_role(self.message, role)

    def _update_buttons(self) -> None:
        job = self.selected_job()
        self.cancel_button.setEnabled(job is not None and not job.finished)
        self.open_button.setEnabled(job is not None and job_state(job).has_result)
        self.prev_button.setEnabled(self.model.offset > 0)
        self.next_button.setEnabled(self.model.offset + self.model.rowCount() < self.model.total)
        self.page_label.setText(self.model.page_text)

    def _cancel_selected(self) -> None:
        job = self.selected_job()
        if job is not None:
            self.cancel_requested.emit(job.id)

    def _open_selected(self) -> None:
        job = self.selected_job()
        if job is not None:
            self._open(job)

    def _open_index(self, index: QModelIndex) -> None:
        self._open(self.model.job_at(index.row()))

    def _open(self, job: Job) -> None:
        """Open a result that is there; say why an expired one cannot be opened (its images are gone)."""
        now = job_state(job)
        if now.has_result:
            self.open_requested.emit(job)
        elif now.key == "expired":
            self.show_message(f"{now.words}: {now.detail}", now.role)
