"""Create page: drop product photos, pick options, submit the batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QIcon,
    QImage,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..icons import icon
from ..jobstate import STATES
from ..labels import PACKSHOT, counted
from ..model import SENDABLE, BatchItem
from ..options import InputSpec
from ..wire import StyleInfo
from .common import card, page_title, repolish, set_role
from .options_form import OptionsForm
from .tiles import TILE_ROLE, Tile, tile_grid

THUMB = 112
OPENABLE = ("completed", "review")  # a result is on the appliance to open
# A file's states before its job has one -> (words on the tile, colour role); after, the job's (``jobstate.STATES``).
_STATE_TEXT = {
    "ready": ("Ready", "muted"),
    "invalid": ("Cannot send", "error"),
    "sending": ("Sending…", "accent"),
    "waiting": ("Waiting", "warn"),
    "submitted": ("Queued", "accent"),
    **STATES,
}


def batch_tile(item: BatchItem) -> Tile:
    """What a file's tile says: its state in words (a job's as every page says it), why it cannot be sent or why
    its job ended so, its live progress."""
    text, role = _STATE_TEXT.get(item.state, (item.state, "muted"))
    if item.state == "processing" and item.progress is not None:
        text = f"Processing {item.progress:.0%}"
    progress = item.progress if item.state in ("submitted", "processing") else None
    badge = "Review" if item.state == "review" else ""
    message = item.message
    if item.state in OPENABLE:
        message = "Double-click to open. " + message
    return Tile(item.path.name, text, role, message=message.strip(), progress=progress, badge=badge)


class DropZone(QFrame):
    """Accepts dropped files and folders; offers a catalogue manifest too."""

    dropped = Signal(list)  # list[Path]
    catalogue_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("DropZone")
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        text = QLabel("Drop product photos or a folder here\nJPEG, PNG or WebP, as many as you like")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(text, "muted")
        layout.addWidget(text)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.add_files = QPushButton(icon("add_files"), "Add files…")
        self.add_folder = QPushButton(icon("add_folder"), "Add folder…")
        buttons.addWidget(self.add_files)
        buttons.addWidget(self.add_folder)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        # On its own line: three buttons side by side do not fit the page's left side at 1024 px.
        self.open_catalogue = QPushButton(icon("queue"), "Open catalogue…")
        self.open_catalogue.setToolTip("Render a CSV or JSON manifest (one row per SKU) into a folder, with a summary")
        self.open_catalogue.clicked.connect(self.catalogue_requested)
        layout.addWidget(self.open_catalogue, 0, Qt.AlignmentFlag.AlignHCenter)
        self.add_files.clicked.connect(self._choose_files)
        self.add_folder.clicked.connect(self._choose_folder)

    def _set_hover(self, on: bool) -> None:
        self.setProperty("hover", on)
        repolish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept file drops only."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self._set_hover(True)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        """Clear the highlight."""
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        """Emit the local paths that were dropped."""
        self._set_hover(False)
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.dropped.emit(paths)
            event.acceptProposedAction()

    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Add product photos", "", "Images (*.jpg *.jpeg *.png *.webp);;All files (*)"
        )
        if names:
            self.dropped.emit([Path(n) for n in names])

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of product photos")
        if folder:
            self.dropped.emit([Path(folder)])


class CreateView(QWidget):
    """Batch thumbnails on the left, the options form on the right."""

    files_dropped = Signal(list)  # list[Path]
    remove_requested = Signal(object)  # Path
    clear_sent_requested = Signal()
    submit_requested = Signal(dict)  # form values
    values_changed = Signal(dict)
    open_requested = Signal(str)  # job id of a finished tile
    hint_dismissed = Signal()

    def __init__(self, colors: dict[str, str]) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 24, 28, 24)
        outer.addWidget(page_title("Create", "Drop photos, choose how they should look, and generate."))
        body = QHBoxLayout()
        outer.addLayout(body, 1)

        left = QVBoxLayout()
        self.drop = DropZone()
        self.drop.dropped.connect(self.files_dropped)
        left.addWidget(self.drop)
        # Thousands of tiles: uniform sizes and batched layout keep relayouts off the critical path; the
        # delegate paints every tile at its final size, thumbnail or not.
        self.files, self._delegate = tile_grid(THUMB, colors)
        self.files.itemDoubleClicked.connect(self._open_item)
        left.addWidget(self.files, 1)
        self.summary = QLabel("No photos yet")
        set_role(self.summary, "muted")
        # On its own line, the column's whole width: beside the buttons it had what they left and wrapped a batch's
        # counts into 7 lines at 1024x700, squeezing the tiles to one row (breaker13 B13-8). Wrapping still lets a
        # longer one shrink instead of squeezing the options panel below its own width.
        self.summary.setWordWrap(True)
        left.addWidget(self.summary)
        row = QHBoxLayout()
        self.remove_button = QPushButton(icon("remove"), "Remove selected")
        self.remove_button.clicked.connect(self._remove_selected)
        self.clear_button = QPushButton("Clear submitted")
        self.clear_button.setToolTip("Remove the photos that were submitted; keep the ones that need attention")
        self.clear_button.clicked.connect(self.clear_sent_requested)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)
        body.addLayout(left, 3)

        panel, panel_layout = card()
        panel.setMinimumWidth(360)
        panel.setMaximumWidth(440)
        self.form = OptionsForm()
        self.form.changed.connect(lambda: self.values_changed.emit(self.form.values()))
        self.form.changed.connect(self._place_hint)
        self._hint_for_scenes = False  # a hint about scenes, shown only while a scene style is chosen
        self._hint_wanted = False  # shown and not dismissed
        self.form.submit.connect(self._submit)
        self.hint = QFrame()
        self.hint.setObjectName("Banner")
        hint_layout = QVBoxLayout(self.hint)
        hint_layout.setContentsMargins(10, 8, 10, 8)
        self.hint_text = QLabel()
        self.hint_text.setWordWrap(True)
        self.hint_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint_layout.addWidget(self.hint_text)
        dismiss = QPushButton("Got it")
        dismiss.clicked.connect(self._dismiss_hint)
        hint_layout.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignRight)
        self.hint.hide()
        panel_layout.addWidget(self.hint)
        scroll = QScrollArea()
        scroll.setObjectName("FormScroll")
        scroll.setWidgetResizable(True)
        # One scrollbar at most: the form is laid out to the panel's width, so nothing needs sideways scrolling.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.form)
        self.form_scroll = scroll
        panel_layout.addWidget(scroll, 1)
        self.form_status = QLabel()
        self.form_status.setWordWrap(True)
        panel_layout.addWidget(self.form_status)
        self.submit_button = QPushButton(icon("submit"), "Generate")
        self.submit_button.setProperty("role", "primary")
        self.submit_button.clicked.connect(lambda: self.submit_requested.emit(self.form.values()))
        self.submit_button.setToolTip("Generate (Ctrl+Enter)")
        QShortcut(QKeySequence("Ctrl+Return"), self, self._submit)
        self.drop.add_files.setToolTip("Add files (Ctrl+O)")
        panel_layout.addWidget(self.submit_button)
        body.addWidget(panel, 2)
        self._items: dict[Path, QListWidgetItem] = {}
        self._thumbnailed: set[Path] = set()
        self._sendable = 0
        self._update_submit()

    def _submit(self) -> None:
        if self.submit_button.isEnabled():
            self.submit_button.animateClick()

    def show_hint(self, text: str, *, scenes_only: bool = False) -> None:
        """A dismissible note above the form (e.g. scenes render on the procedural preview engine). ``scenes_only``:
        it shows only while a scene style is chosen (not beside Studio packshot, which it does not concern)."""
        self.hint_text.setText(text)
        self._hint_for_scenes = scenes_only
        self._hint_wanted = True
        self._place_hint()

    def _place_hint(self) -> None:
        scene = self.form.all_values().get("style") not in (None, PACKSHOT)
        self.hint.setVisible(self._hint_wanted and (scene or not self._hint_for_scenes))

    def _dismiss_hint(self) -> None:
        self._hint_wanted = False
        self.hint.hide()
        self.hint_dismissed.emit()

    def _open_item(self, widget_item: QListWidgetItem) -> None:
        job_id = widget_item.data(Qt.ItemDataRole.UserRole + 1)
        if job_id:
            self.open_requested.emit(str(job_id))

    def set_inputs(self, inputs: list[InputSpec], styles: tuple[StyleInfo, ...], prompt_limit: int) -> None:
        """Build the options form for the connected appliance."""
        self.form.set_inputs(inputs, styles, prompt_limit)
        self._place_hint()

    def set_values(self, values: dict[str, Any]) -> None:
        """Restore form values."""
        self.form.set_values(values)
        self._place_hint()

    def set_batch(self, items: list[BatchItem]) -> None:
        """Show the batch's files with their state; keeps loaded thumbnails."""
        wanted = {item.path for item in items}
        for path in list(self._items):
            if path not in wanted:
                self.files.takeItem(self.files.row(self._items.pop(path)))
                self._thumbnailed.discard(path)
        for item in items:
            self._show_item(item)
        self.summarise(items)

    def update_item(self, item: BatchItem) -> None:
        """Refresh one file's tile (cheap: a batch of thousands updates one tile per event)."""
        self._show_item(item)

    def _show_item(self, item: BatchItem) -> None:
        widget_item = self._items.get(item.path)
        if widget_item is None:
            widget_item = QListWidgetItem(item.path.name)
            widget_item.setData(Qt.ItemDataRole.UserRole, item.path)
            self.files.addItem(widget_item)
            self._items[item.path] = widget_item
        tile = batch_tile(item)
        widget_item.setData(TILE_ROLE, tile)
        openable = item.state in OPENABLE and item.job_id is not None
        widget_item.setData(Qt.ItemDataRole.UserRole + 1, item.job_id if openable else None)
        widget_item.setText(f"{item.path.name}\n{tile.status}")
        widget_item.setToolTip(f"{item.path}\n{item.message or tile.status}")

    def summarise(self, items: list[BatchItem]) -> None:
        """Update the count line and the Generate button from the whole batch."""
        self._sendable = sum(1 for i in items if i.state in SENDABLE)
        invalid = sum(1 for i in items if i.state == "invalid")
        refused = sum(1 for i in items if i.state == "refused")
        text = f"{counted(len(items), 'photo')} · {self._sendable} ready"
        if invalid:
            text += f" · {invalid} cannot be sent"
        if refused:
            text += f" · {refused} refused by the appliance"
        self.summary.setText(text if items else "No photos yet")
        self._update_submit()

    def set_thumbnail(self, path: Path, image: QImage) -> None:
        """Show a decoded thumbnail (decoded on a worker, turned into a pixmap here on the GUI thread)."""
        widget_item = self._items.get(path)
        if widget_item is not None and not image.isNull():
            widget_item.setIcon(QIcon(QPixmap.fromImage(image)))
            self._thumbnailed.add(path)

    @property
    def thumbnails_shown(self) -> int:
        """How many tiles show their real thumbnail (the others still show the blank placeholder)."""
        return len(self._thumbnailed & set(self._items))

    def show_form_problems(self, problems: dict[str, str]) -> None:
        """Mark invalid options and say so above the button."""
        self.form.show_problems(problems)
        if problems:
            self.form_status.setText("Fix the highlighted options first.")
            set_role(self.form_status, "error")
        else:
            self.form_status.clear()
        self._update_submit(valid=not problems)

    def show_message(self, text: str, role: str = "muted") -> None:
        """A line of feedback above the Generate button."""
        self.form_status.setText(text)
        set_role(self.form_status, role)

    def _update_submit(self, valid: bool = True) -> None:
        n = self._sendable
        self.submit_button.setText(f"Generate {counted(n, 'image')}" if n else "Generate")
        self.submit_button.setEnabled(bool(n) and valid)

    def _remove_selected(self) -> None:
        for widget_item in self.files.selectedItems():
            self.remove_requested.emit(widget_item.data(Qt.ItemDataRole.UserRole))
