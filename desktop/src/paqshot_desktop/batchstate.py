"""A catalogue's resume journal: the same lines as the command's ``cli/batchstate.py`` in the server package (the
rules are written there and in docs/presets.md, "Catalogues"), repeated because the desktop must not import the
server; ``tests/desktop/test_desktop_catalogue.py`` checks that the two files' code is the same.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

JOURNAL = "batch-state.jsonl"
OLD_STATE = "batch-state.json"  # before session 15: one JSON object, SKU → line; read when there is no journal


class BatchState:
    """The last summary line of each SKU of the catalogue rendered into ``folder``; :meth:`record` appends one.
    ``notes``: what could not be read and was left out, as sentences (a row is skipped only on a line that was
    read). Use as a context manager (the journal's file is closed at the end)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL
        self.notes: list[str] = []
        self.lines: dict[str, dict[str, Any]] = {}
        self._file: IO[str] | None = None
        if self.path.exists():
            self._read_journal()
        elif (folder / OLD_STATE).exists():
            self._read_old(folder / OLD_STATE)

    def get(self, sku: str) -> dict[str, Any] | None:
        """The SKU's last recorded line, or None."""
        return self.lines.get(sku)

    def record(self, line: dict[str, Any]) -> None:
        """Remember ``line`` (a summary line; its ``sku`` is the key) as its SKU's last: one appended line."""
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(line, ensure_ascii=False, sort_keys=True, default=str) + "\n")
        self._file.flush()
        self.lines[str(line["sku"])] = dict(line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> BatchState:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _read_journal(self) -> None:
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1  # a torn last line has no newline yet
        count = 0
        for number, raw in enumerate(data[:complete].splitlines(), start=1):
            try:
                line = json.loads(raw)
                self.lines[str(line["sku"])] = line
                count += 1
            except (ValueError, TypeError, KeyError):
                self.notes.append(f"{self.path.name} line {number} could not be read and was left out.")
        if complete < len(data):
            self.notes.append(f"{self.path.name} ended in a torn line (cut off while it was written); it was left out.")
        if complete < len(data) or count > 2 * len(self.lines):
            self._rewrite()

    def _read_old(self, path: Path) -> None:
        try:
            lines = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(lines, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            self.notes.append(f"{path.name} could not be read ({exc}) and was left out: no row is skipped this time.")
            return
        self.lines = {str(sku): line for sku, line in lines.items() if isinstance(line, dict)}
        self._rewrite()
        path.unlink()  # the journal holds it now

    def _rewrite(self) -> None:
        """The journal as one line per SKU, replacing the file at once (never a half-written journal)."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as fh:
            for line in self.lines.values():
                fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True, default=str) + "\n")
        os.replace(temporary, self.path)
