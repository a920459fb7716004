"""Application state without widgets: the batch being prepared, the jobs the server knows, naming.

Only QtCore is used (a table model and signals), so the state can be tested and driven without any view.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from .jobstate import job_state
from .labels import duration, parse_iso, value_label, when
from .wire import ImageRef, Job

STATUS_FILTERS: tuple[str, ...] = ("", "processing", "completed", "failed")
# BatchItem states after which nothing changes (the job's end states, and a file that was never sendable).
FINISHED = frozenset({"completed", "review", "expired", "cancelled", "failed", "refused", "invalid"})
SENDABLE = frozenset({"ready", "cancelled", "failed"})  # never a refused one: it would be refused the same way
DEFAULT_NAME_PATTERN = "{name}_{style}_{index}"
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True)
class BatchItem:
    """A file in the batch and what happened to it.

    ``state``: ready, invalid (cannot be sent: ``message`` says why), sending, waiting (429/retry), submitted
    (accepted, queued), then the job's own state (a :data:`~paqshot_desktop.jobstate.STATES` key: processing with
    ``progress``, completed, review, expired, cancelled, failed, refused: the appliance read the photo and its
    cut-out refused it, ``message`` in the appliance's own words; not sent again, it would be refused the same
    way).
    """

    path: Path
    state: str = "ready"
    message: str = ""
    job_id: str | None = None
    progress: float | None = None

    @property
    def finished(self) -> bool:
        """The file's job ended (or it was never sendable)."""
        return self.state in FINISHED


class Batch(QObject):
    """The files the user dropped; each carries its own state and plain-words message."""

    changed = Signal()  # files removed (views redraw the batch)
    added = Signal(list)  # the BatchItems just added, in order
    item_changed = Signal(object)  # one BatchItem's state or message changed

    def __init__(self) -> None:
        super().__init__()
        self._items: dict[Path, BatchItem] = {}  # in drop order; keyed so updates stay O(1) in big batches

    @property
    def items(self) -> list[BatchItem]:
        """A copy of the current items, in drop order."""
        return list(self._items.values())

    def get(self, path: Path) -> BatchItem | None:
        """The item for a file, if it is in the batch."""
        return self._items.get(path)

    def add(self, paths: list[Path], problems: dict[Path, str | None]) -> int:
        """Add new files (``problems`` marks unsendable ones); returns how many were added."""
        new: list[BatchItem] = []
        for path in paths:
            if path in self._items:
                continue
            problem = problems.get(path)
            self._items[path] = BatchItem(path, "invalid" if problem else "ready", problem or "")
            new.append(self._items[path])
        if new:
            self.added.emit(new)
        return len(new)

    def update(self, path: Path, **changes: Any) -> None:
        """Change one item's state/message/job id."""
        item = self._items.get(path)
        if item is not None:
            self._items[path] = replace(item, **changes)
            self.item_changed.emit(self._items[path])

    def follow(self, job: Job) -> BatchItem | None:
        """Move the file that made ``job`` to the job's state (:func:`~paqshot_desktop.jobstate.job_state`: the
        words every page uses) with its live progress or why it ended as it did."""
        path = next((p for p, i in self._items.items() if i.job_id == job.id), None)
        if path is None:
            return None
        now = job_state(job)
        progress = (job.progress or 0.0) if now.key == "processing" else None
        self.update(path, state=now.key, progress=progress, message=now.detail)
        return self._items[path]

    def remove(self, path: Path) -> None:
        """Drop one file from the batch."""
        if self._items.pop(path, None) is not None:
            self.changed.emit()

    def clear_sent(self) -> None:
        """Forget files that were submitted, keeping the ones that still need attention."""
        sent = ("submitted", "processing", "completed", "review", "expired")
        self._items = {p: i for p, i in self._items.items() if i.state not in sent}
        self.changed.emit()

    def sendable(self) -> list[BatchItem]:
        """Items that can be submitted now (:data:`SENDABLE`: ready, or cancelled or failed and worth another try)."""
        return [i for i in self._items.values() if i.state in SENDABLE]


def eta_seconds(job: Job, now: float | None = None) -> float | None:
    """Seconds until the job should finish, when the server gave enough to tell; None otherwise."""
    if job.finished:
        return None
    if job.eta_seconds is not None:  # the appliance's own estimate (queue position included) wins
        return max(0.0, job.eta_seconds)
    now = time.time() if now is None else now
    started = parse_time(job.created_at)
    if started is None:
        return None
    elapsed = max(0.0, now - started)
    if job.progress is not None and 0.05 <= job.progress < 1:
        return elapsed * (1 - job.progress) / job.progress
    if job.estimated_seconds is not None:
        return max(0.0, job.estimated_seconds - elapsed)
    return None


def parse_time(value: str | None) -> float | None:
    """Epoch seconds of an ISO-8601 timestamp ("Z" accepted)."""
    parsed = parse_iso(value)
    return None if parsed is None else parsed.timestamp()


def status_text(job: Job) -> str:
    """The queue's Status cell: the job's state in words (:func:`~paqshot_desktop.jobstate.job_state`), with why a
    failed or refused job ended so."""
    now = job_state(job)
    return f"{now.words}: {now.detail}" if now.key in ("failed", "refused") and now.detail else now.words


def render_name(pattern: str, job: Job, image_index: int, source: str | None, ext: str) -> str:
    """A safe file name from a pattern with {name} {id} {style} {index} {seed} {date} {ratio}."""
    stem = Path(source).stem if source else job.id
    fields = {
        "name": stem,
        "id": job.id,
        "style": job.style or "image",
        "index": f"{image_index + 1}",
        "seed": "" if job.seed is None else str(job.seed),
        "date": (job.completed_at or job.created_at or "")[:10],
        "ratio": job.aspect_ratio.replace(":", "x"),
    }
    try:
        name = pattern.format(**fields)
    except (KeyError, IndexError, ValueError):
        name = DEFAULT_NAME_PATTERN.format(**fields)
    name = _UNSAFE.sub("_", name).strip("._") or job.id
    return f"{name}.{ext}"


def image_extension(job: Job, image: ImageRef) -> str:
    """File extension of a result image: from its URL, else the requested output format."""
    path = image.image_url.split("?", 1)[0].lower()
    for ext in ("png", "webp", "jpg", "jpeg"):
        if path.endswith("." + ext):
            return "jpg" if ext == "jpeg" else ext
    fmt = str(job.options.get("output_format") or "jpeg")
    return "jpg" if fmt == "jpeg" else fmt


class JobsModel(QAbstractTableModel):
    """Jobs shown in the queue/history table, newest first, with the server's pagination state."""

    COLUMNS = ("File", "Status", "Progress", "ETA", "Style", "Created")

    def __init__(self) -> None:
        super().__init__()
        self._jobs: list[Job] = []
        self._sources: dict[str, str] = {}  # job id -> file name submitted from this computer
        self.total = 0
        self.offset = 0
        self.limit = 20
        self.status_filter = ""
        # status -> "#RRGGBB", filled from the theme so statuses read at a glance in the brand's colours.
        self.status_colors: dict[str, str] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of jobs on the current page."""
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        """Cell text, the job itself under UserRole, and the status under UserRole+1."""
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return job
        if role == Qt.ItemDataRole.UserRole + 1:
            return job.status
        if role == Qt.ItemDataRole.ForegroundRole:
            color = self.status_colors.get(job_state(job).role) if self.COLUMNS[index.column()] == "Status" else None
            return QColor(color) if color else None
        if role == Qt.ItemDataRole.ToolTipRole and job_state(job).key in ("review", "expired"):
            return job_state(job).detail
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        column = self.COLUMNS[index.column()]
        if column == "File":
            return self.name_of(job)
        if column == "Status":
            return status_text(job)
        if column == "Progress":
            return "" if job.progress is None else f"{job.progress:.0%}"
        if column == "ETA":
            return duration(eta_seconds(job))
        if column == "Style":
            return value_label(job.style)
        return when(job.created_at)

    def job_at(self, row: int) -> Job:
        """The job on a row."""
        return self._jobs[row]

    def jobs(self) -> list[Job]:
        """Jobs on the current page."""
        return list(self._jobs)

    def name_of(self, job: Job) -> str:
        """The name to show for a job: the local file it came from, else the appliance's file name, else its id."""
        return self._sources.get(job.id) or job.filename or job.id

    def source_of(self, job_id: str) -> str | None:
        """The local file name a job was made from, when it was submitted from here."""
        return self._sources.get(job_id)

    def remember_source(self, job_id: str, file_name: str) -> None:
        """Record which local file produced a job (used for names and the File column)."""
        self._sources[job_id] = file_name

    def set_page(self, jobs: list[Job], total: int, offset: int) -> None:
        """Replace the page with what the server listed."""
        self.beginResetModel()
        self._jobs = list(jobs)
        self.total, self.offset = total, offset
        self.endResetModel()

    def upsert(self, job: Job) -> None:
        """Insert a new job at the top or refresh an existing row in place."""
        for row, old in enumerate(self._jobs):
            if old.id == job.id:
                self._jobs[row] = job
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
                return
        if self.offset == 0 and (not self.status_filter or self.status_filter == job.status):
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._jobs.insert(0, job)
            self.total += 1
            self.endInsertRows()

    def remove(self, job_id: str) -> None:
        """Drop a deleted job from the page."""
        for row, job in enumerate(self._jobs):
            if job.id == job_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._jobs[row]
                self.total = max(0, self.total - 1)
                self.endRemoveRows()
                return

    def unfinished_ids(self) -> list[str]:
        """Ids of jobs still processing (the ones to poll)."""
        return [j.id for j in self._jobs if not j.finished]

    @property
    def page_text(self) -> str:
        """ "21–40 of 73" style range of the current page."""
        if not self._jobs:
            return "No jobs"
        return f"{self.offset + 1}–{self.offset + len(self._jobs)} of {self.total}"
