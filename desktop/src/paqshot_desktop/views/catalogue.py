"""A catalogue run: one line per SKU with its state, review flag and marketplace check, in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..catalogue import STOPPED, SUMMARY, RunNotes
from ..jobstate import STATES
from ..labels import RUN_NOTES, counted, preset_label, rule_label, sentence
from .common import set_role

COLUMNS = ("SKU", "State", "Review", "Marketplace check", "File or problem")
# status -> (words, tooltip); "" is a row the appliance is still rendering; a job's end in the words every page
# uses (``jobstate.STATES``)
_STATE = {
    "": ("Rendering…", "Sent to the appliance"),
    "completed": (STATES["completed"][0], ""),
    "skipped": ("Unchanged", "Skipped: its photo and options are as last time and its file is there"),
    "failed": (STATES["failed"][0], ""),
}
# The state cell of a row the run stopped following (its job goes on on the appliance).
STOPPED_WORDS = ("Not followed", "Stopped before the appliance finished it: its job goes on there")


def check_words(line: dict[str, Any], titles: dict[str, str]) -> str:
    """A summary line's ``compliance``/``failed_rules`` in words: "Amazon main image: fails (Shadow)"."""
    failed: dict[str, list[str]] = {}
    for item in filter(None, (p.strip() for p in str(line.get("failed_rules", "")).split(";"))):
        preset, _, rule = item.partition(":")
        failed.setdefault(preset, []).append(rule_label(rule))
    parts = []
    for item in filter(None, (p.strip() for p in str(line.get("compliance", "")).split(";"))):
        preset, _, verdict = item.partition(":")
        name = preset_label(preset, titles)
        rules = failed.get(preset, [])
        parts.append(f"{name}: passes" if verdict == "pass" else f"{name}: fails ({', '.join(rules)})")
    return "; ".join(parts)


class CatalogueDialog(QDialog):
    """Follows a catalogue run (rows appear as they end); :attr:`stop_requested` when the user stops it."""

    stop_requested = Signal()

    def __init__(self, manifest: Path, out: Path, titles: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.out, self.titles = out, titles
        self.setWindowTitle(f"Catalogue — {manifest.name}")
        self.resize(900, 480)
        layout = QVBoxLayout(self)
        intro = QLabel(f"Rendering the rows of <b>{manifest.name}</b> into {out}; each file is named by its SKU.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        layout.addWidget(self.progress)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        set_role(self.notes, "warn")
        self.notes.hide()
        layout.addWidget(self.notes)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.status = QLabel("Reading the manifest…")
        self.status.setWordWrap(True)
        set_role(self.status, "muted")
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop following the rows (jobs already sent finish on the appliance)")
        self.stop_button.clicked.connect(self._stop)
        self.open_button = QPushButton("Open folder")
        self.open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.out))))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self._rows: dict[str, int] = {}

    def _stop(self) -> None:
        self.stop_button.setEnabled(False)
        self.status.setText("Stopping…")
        self.stop_requested.emit()

    def show_step(self, step: Any) -> None:
        """What the run reported (:class:`~paqshot_desktop.catalogue.CatalogueRun`): its notes, or a row's line."""
        if isinstance(step, RunNotes):
            self.show_notes(step.notes)
        else:
            self.show_line(*step)

    def show_notes(self, notes: tuple[str, ...]) -> None:
        """What the run had to guess or could not read, above the rows (each note a sentence already: one that
        starts with a file's name keeps its case)."""
        self.notes.setText(" ".join([RUN_NOTES, *notes]))
        self.notes.show()

    def show_line(self, done: int, total: int, index: int, line: dict[str, Any]) -> None:
        """Row ``index`` of the manifest: its line of the summary, in words (rows stay in manifest order)."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.status.setText(f"{done} of {counted(total, 'row')} done.")
        if self.table.rowCount() < total:
            self.table.setRowCount(total)
        status = str(line.get("status", ""))
        state, state_tip = STOPPED_WORDS if line.get("error") == STOPPED else _STATE.get(status, (status, ""))
        review = STATES["review"][0] if str(line.get("needs_review")) == "True" else ""
        last = sentence(str(line["error"])) if line.get("error") else str(line.get("output") or "")
        cells = (str(line.get("sku", "")), state, review, check_words(line, self.titles), last)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(state_tip if column == 1 and state_tip else text)
            self.table.setItem(index, column, item)
        self.table.resizeRowToContents(index)

    def finish(self, summary: list[dict[str, Any]]) -> None:
        """The run ended: counts, and where the summary is."""
        counts = {s: sum(1 for line in summary if line.get("status") == s) for s in ("completed", "skipped", "failed")}
        stopped = sum(1 for line in summary if line.get("error") == STOPPED)  # the summary's status says failed
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.stop_button.setEnabled(False)
        self.table.resizeRowsToContents()  # once: the columns have their final widths now
        ended = f"{counts['completed']} rendered, {counts['skipped']} unchanged, {counts['failed'] - stopped} failed"
        if stopped:
            ended += f", {stopped} stopped before the appliance finished"
        self.status.setText(f"{counted(len(summary), 'row')}: {ended}. Summary: {self.out / SUMMARY}")
        set_role(self.status, "error" if counts["failed"] - stopped else ("warn" if stopped else "ok"))

    def show_error(self, text: str) -> None:
        """The manifest could not be used, or the run broke off."""
        self.progress.setRange(0, 1)
        self.stop_button.setEnabled(False)
        self.status.setText(text)
        set_role(self.status, "error")
