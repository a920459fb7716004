"""A catalogue's resume state (breaker14 B14-8; ``cli.batchstate``, which the desktop repeats). The kind: a
resume journal rewritten whole and in place after every row: O(n²) bytes, and a kill inside the write left a torn
file that stopped every later run with exit 70. Should: one appended line a row, a torn tail tolerated (its row
re-done)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from paqshot_server.cli.batchstate import JOURNAL, OLD_STATE, BatchState
from support import product_jpeg

BIN = str(Path(sys.executable).parent / "paqshot")


def line(sku: str, status: str = "completed") -> dict:
    return {"sku": sku, "status": status, "output": f"{sku}.jpg", "input_sha256": "a" * 64, "needs_review": False}


def test_each_row_appends_one_line_and_the_last_line_of_a_sku_wins(tmp_path: Path) -> None:
    with BatchState(tmp_path) as state:
        for number in range(200):
            state.record(line(f"K{number}"))
            assert (tmp_path / JOURNAL).read_text().count("\n") == number + 1  # appended, not rewritten
        state.record(line("K7", "failed"))
    one = len(json.dumps(line("K100"))) + 1
    assert (tmp_path / JOURNAL).stat().st_size < 202 * one  # linear: each row's line once
    again = BatchState(tmp_path)
    assert len(again.lines) == 200 and again.get("K7")["status"] == "failed" and again.notes == []


def test_a_torn_last_line_is_cut_off_and_its_row_renders_again(tmp_path: Path) -> None:
    with BatchState(tmp_path) as state:
        state.record(line("A"))
        state.record(line("B"))
    path = tmp_path / JOURNAL
    path.write_bytes(path.read_bytes()[:-20])  # killed while B's line was written
    with BatchState(tmp_path) as state:
        assert list(state.lines) == ["A"] and "torn" in state.notes[0]
        state.record(line("C"))  # appends after a clean end: C is not glued to B's torn half
    assert list(BatchState(tmp_path).lines) == ["A", "C"]


def test_an_unreadable_line_or_old_state_is_a_note_not_an_error(tmp_path: Path) -> None:
    (tmp_path / JOURNAL).write_text(json.dumps(line("A")) + "\n{not json\n" + json.dumps(line("B")) + "\n")
    state = BatchState(tmp_path)
    assert list(state.lines) == ["A", "B"] and state.notes == [
        "batch-state.jsonl line 2 could not be read and was left out."
    ]
    old = tmp_path / "old"
    old.mkdir()
    (old / OLD_STATE).write_text(json.dumps({"A": line("A")}))
    assert BatchState(old).get("A") == line("A")  # a catalogue rendered before the journal still skips
    assert (old / JOURNAL).is_file() and not (old / OLD_STATE).exists()
    (old / JOURNAL).unlink()
    (old / OLD_STATE).write_text('{"A": {"sku": "A", "stat')  # torn
    assert BatchState(old).lines == {} and "no row is skipped this time" in BatchState(old).notes[0]


def test_the_journal_is_compacted_when_it_holds_mostly_superseded_lines(tmp_path: Path) -> None:
    with BatchState(tmp_path) as state:
        for _ in range(5):
            state.record(line("A"))
    BatchState(tmp_path)
    assert (tmp_path / JOURNAL).read_text().count("\n") == 1


def test_a_torn_state_file_does_not_stop_the_catalogue(tmp_path: Path) -> None:
    """breaker14's reproduction: the state file cut in half by a kill; the next run stopped with "internal error
    (JSONDecodeError …)" exit 70. Now the run goes on: the rows it can still trust are skipped, the rest render."""
    (tmp_path / "a.jpg").write_bytes(product_jpeg())
    (tmp_path / "b.jpg").write_bytes(product_jpeg((600, 400)))
    manifest = tmp_path / "m.csv"
    manifest.write_text("sku,image\nA,a.jpg\nB,b.jpg\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / OLD_STATE).write_text('{\n "A": {\n  "compliance": "",\n  "engine": "onnx:u2netp-int8",\n  "err')
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(tmp_path / "home"), "PAQSHOT_OUTPUT_LONG_SIDE": "512"}

    def run() -> subprocess.CompletedProcess:
        args = [BIN, "generate", "--manifest", str(manifest), "-o", str(out)]
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "internal error" not in first.stderr and "could not be read" in first.stderr, first.stderr
    journal = out / JOURNAL
    journal.write_bytes(journal.read_bytes()[:-30])  # B's line torn
    second = run()
    assert second.returncode == 0, second.stderr
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        status = {row["sku"]: row["status"] for row in csv.DictReader(fh)}
    assert status == {"A": "skipped", "B": "completed"}, second.stderr
