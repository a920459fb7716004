"""What a catalogue run says happened, against what did (breaker16 B16-9's kind: a message saying something
happens that does not). Two torn lines appended to the resume journal each said "its row renders again" while
both rows were skipped as unchanged; a stopped run left its unfinished rows reading "Rendering…" and counted them
as failed. The run's words now follow what it did: the journal's notes say what was left out, the counts count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from desktop_support import job_json, mock_client, product_bytes
from paqshot_desktop.catalogue import CatalogueRun, RunNotes
from paqshot_desktop.views.catalogue import CatalogueDialog
from paqshot_desktop.wire import Capabilities


class Appliance:
    """Finishes every job at its first poll (or never, with ``hold``) and serves its image."""

    def __init__(self, hold: bool = False) -> None:
        self.hold = hold
        self.sent: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/files/"):
            return httpx.Response(200, content=product_bytes())
        if request.method == "POST":
            job_id = f"gen_{len(self.sent) + 1}"
            self.sent.append(job_id)
            return httpx.Response(202, json=job_json(job_id))
        job_id = path.rsplit("/", 1)[1]
        if self.hold:
            return httpx.Response(200, json=job_json(job_id))
        done = {"image_url": f"http://appliance.test/files/{job_id}.jpg", "completed_at": "2026-06-09T14:00:09Z"}
        return httpx.Response(200, json=job_json(job_id, "completed", engine="classical", **done))


def run(appliance: Appliance, folder: Path, stop_after_first_poll: bool = False) -> tuple[list[Any], list[Any]]:
    """One run of the manifest in ``folder`` into ``folder/out``: what it reported and its summary."""
    steps: list[Any] = []
    catalogue = CatalogueRun(
        mock_client(appliance.handle), Capabilities(), (), folder / "m.csv", folder / "out", poll_s=0.0
    )

    def report(step: Any) -> None:
        steps.append(step)
        if stop_after_first_poll and not isinstance(step, RunNotes):
            catalogue.stop.set()

    return steps, catalogue.run(report)


def shown(qtbot: Any, folder: Path, steps: list[Any], summary: list[Any]) -> CatalogueDialog:
    dialog = CatalogueDialog(folder / "m.csv", folder / "out", {})
    qtbot.addWidget(dialog)
    for step in steps:
        dialog.show_step(step)
    dialog.finish(summary)
    return dialog


def manifest(folder: Path) -> None:
    for sku in ("A", "B"):
        (folder / f"{sku}.jpg").write_bytes(product_bytes(size=(320 + len(sku), 240)))
    (folder / "m.csv").write_text("sku,image\nA,A.jpg\nB,B.jpg\n", encoding="utf-8")


def test_torn_lines_that_were_no_rows_do_not_say_a_row_renders_again(qtbot: Any, tmp_path: Path) -> None:
    """breaker16 B16-9's reproduction: two garbage lines appended to the journal after a complete run."""
    manifest(tmp_path)
    appliance = Appliance()
    run(appliance, tmp_path)
    assert len(appliance.sent) == 2
    journal = tmp_path / "out" / "batch-state.jsonl"
    written = len(journal.read_text(encoding="utf-8").splitlines())  # each rendered row: its "writing" line, its line
    with journal.open("a", encoding="utf-8") as fh:
        fh.write('{"sku": "A", "stat\n')  # torn, then another line written over it
        fh.write("\x00\x00garbage\n")
    steps, summary = run(appliance, tmp_path)
    assert len(appliance.sent) == 2  # nothing was sent again: both rows are unchanged
    assert [line["status"] for line in summary] == ["skipped", "skipped"]
    dialog = shown(qtbot, tmp_path, steps, summary)
    notes = dialog.notes.text()
    assert "renders again" not in notes, notes
    assert f"line {written + 1} could not be read and was left out" in notes and f"line {written + 2}" in notes, notes
    assert dialog.status.text().startswith("2 rows: 0 rendered, 2 unchanged, 0 failed"), dialog.status.text()


def test_a_torn_line_that_was_a_rows_only_line_is_counted_as_rendered(qtbot: Any, tmp_path: Path) -> None:
    manifest(tmp_path)
    appliance = Appliance()
    run(appliance, tmp_path)
    journal = tmp_path / "out" / "batch-state.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines()
    journal.write_text("\n".join([*lines[:-1], lines[-1][:-20]]), encoding="utf-8")  # B's last line cut while written
    steps, summary = run(appliance, tmp_path)
    assert [line["status"] for line in summary] == ["skipped", "completed"] and len(appliance.sent) == 3
    dialog = shown(qtbot, tmp_path, steps, summary)
    assert "torn line (cut off while it was written); it was left out" in dialog.notes.text(), dialog.notes.text()
    assert dialog.status.text().startswith("2 rows: 1 rendered, 1 unchanged, 0 failed"), dialog.status.text()


def test_a_stopped_run_says_which_rows_it_stopped_following(qtbot: Any, tmp_path: Path) -> None:
    manifest(tmp_path)
    steps, summary = run(Appliance(hold=True), tmp_path, stop_after_first_poll=True)
    dialog = shown(qtbot, tmp_path, steps, summary)
    states = [dialog.table.item(row, 1).text() for row in range(2)]
    assert states == ["Not followed", "Not followed"], states  # not "Rendering…" for ever
    assert "0 failed, 2 stopped before the appliance finished." in dialog.status.text(), dialog.status.text()
    journal = tmp_path / "out" / "batch-state.jsonl"
    assert not journal.exists() or journal.read_text() == ""  # a stopped row is not remembered as failed
    assert [json.loads(json.dumps(line))["status"] for line in summary] == ["failed", "failed"]  # the CSV's word
