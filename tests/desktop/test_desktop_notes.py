"""What the desktop did not say (fix15's "still weak"): the catalogue reader's notes (a manifest read as
Windows-1252, a state line that could not be read) were kept from the user, and a result whose images retention
deleted (``expired: true``, no links) showed an empty tile with its date and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from paqshot_desktop.catalogue import CatalogueRun, RunNotes
from paqshot_desktop.jobstate import STATES
from paqshot_desktop.labels import EXPIRED_MESSAGE, EXPIRED_NOTHING_SAVED, RUN_NOTES
from paqshot_desktop.views.catalogue import CatalogueDialog
from paqshot_desktop.views.results import ResultsView, result_tile
from paqshot_desktop.wire import Capabilities, Job


def test_a_catalogue_run_shows_what_its_reader_guessed_and_could_not_read(qtbot: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_bytes("sku;image\nCAFÉ-1;missing.jpg\n".encode("cp1252"))  # Excel's "CSV" on Windows
    out = tmp_path / "out"
    out.mkdir()
    (out / "batch-state.jsonl").write_text('{"sku": "OLD", "status": "completed"}\nnot json\n{"sku": "B"}\n')
    run = CatalogueRun(None, Capabilities(), (), manifest, out)  # type: ignore[arg-type]  # no row reaches it
    steps: list[Any] = []
    run.run(steps.append)  # the row fails alone (its photo is missing) before anything is sent
    notes = [step for step in steps if isinstance(step, RunNotes)]
    assert len(notes) == 1 and steps[0] is notes[0]  # before the rows
    dialog = CatalogueDialog(manifest, out, {})
    qtbot.addWidget(dialog)
    for step in steps:
        dialog.show_step(step)
    shown = dialog.notes.text()
    assert not dialog.notes.isHidden()
    assert shown.startswith(RUN_NOTES) and "Windows-1252" in shown, shown
    assert "batch-state.jsonl line 2 could not be read" in shown, shown
    assert dialog.table.item(0, 0).text() == "CAFÉ-1"  # and the row itself, as before


def test_a_run_with_nothing_to_note_shows_no_notes(qtbot: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("sku,image\nK1,missing.jpg\n", encoding="utf-8")
    steps: list[Any] = []
    CatalogueRun(None, Capabilities(), (), manifest, tmp_path / "out").run(steps.append)  # type: ignore[arg-type]
    assert not any(isinstance(step, RunNotes) for step in steps)


# A completed job as the appliance answers it past retention.
ANSWER = (
    b'{"id": "gen_1", "status": "completed", "style": "studio_packshot", "aspect_ratio": "1:1",'
    b' "created_at": "2026-11-01T10:00:00Z", "completed_at": "2026-11-01T10:00:03Z", "expired": true}'
)


def test_a_purged_result_says_so_on_its_tile() -> None:
    answer = ANSWER
    job = msgspec.json.decode(answer, type=Job)  # as the appliance answers a job past retention
    tile = result_tile(job, "shoe.jpg")
    assert (tile.status, tile.message) == (STATES["expired"][0], EXPIRED_MESSAGE)
    kept = msgspec.json.decode(answer.replace(b', "expired": true', b""), type=Job)
    assert result_tile(kept, "shoe.jpg").status != STATES["expired"][0]


def test_saving_only_expired_results_says_nothing_was_saved(qtbot: Any) -> None:
    """breaker16 B16-7: Save with only an expired tile selected said "Saved 0 image(s) to FOLDER." in green."""
    view = ResultsView({})
    qtbot.addWidget(view)
    view.folder.setText("/tmp/anywhere")
    asked: list[Any] = []
    view.save_requested.connect(lambda *args: asked.append(args))
    expired = msgspec.json.decode(ANSWER, type=Job)
    view._save([expired])
    assert asked == [] and view.message.text() == EXPIRED_NOTHING_SAVED
    kept = msgspec.json.decode(ANSWER.replace(b', "expired": true', b""), type=Job)
    view._save([expired, kept])  # one with images: saved as before
    assert len(asked) == 1
