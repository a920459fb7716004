"""breaker16 B16-14: a job's state said on one page and not on another. Queue & history showed a job whose images
retention had deleted (``expired: true``) as "Completed" while its Results tile said "Expired"; the Create page
said "Done" where the queue said "Completed". Every page that shows a job's state says the same words for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from desktop_support import job_json
from paqshot_desktop.model import Batch, JobsModel
from paqshot_desktop.views.catalogue import CatalogueDialog
from paqshot_desktop.views.create import batch_tile
from paqshot_desktop.views.queue import QueueView
from paqshot_desktop.views.results import ResultsView, result_tile
from paqshot_desktop.views.viewer import ViewerDialog
from paqshot_desktop.wire import Job, decode

DONE = {"completed_at": "2026-06-09T14:00:09Z"}
REASON = {"code": "low_confidence", "message": "the cut-out is unsure of the edges"}
REFUSAL = {"code": "unsupported_image", "message": "no product found in the photo"}
# (the job as the appliance answers it, the words every page must say for it)
CASES = {
    "expired": (dict(status="completed", expired=True, **DONE), "Expired"),
    "expired_flagged": (
        dict(status="completed", expired=True, needs_review=True, review_reasons=[REASON], **DONE),
        "Expired",
    ),
    "review": (dict(status="completed", needs_review=True, review_reasons=[REASON], **DONE), "Needs review"),
    "completed": (dict(status="completed", **DONE), "Completed"),
    "refused": (dict(status="failed", error=REFUSAL, engine="onnx:u2netp"), "Refused"),
    "cancelled": (dict(status="failed", error={"code": "cancelled", "message": "by its key"}), "Cancelled"),
    "failed": (dict(status="failed", error={"code": "server_error", "message": "out of memory"}), "Failed"),
}


def job(**fields: Any) -> Job:
    return decode(Job, job_json(**fields))


def queue_status(qtbot: Any, one: Job) -> tuple[str, str]:
    """The queue page's Status cell and tooltip for ``one``."""
    model = JobsModel()
    view = QueueView(model)
    qtbot.addWidget(view)
    model.set_page([one], total=1, offset=0)
    index = model.index(0, JobsModel.COLUMNS.index("Status"))
    return str(model.data(index)), str(model.data(index, 3) or "")  # 3: ToolTipRole


def create_status(one: Job) -> str:
    """The Create page's tile for the file that made ``one``, once the queue's polling reports it."""
    batch = Batch()
    path = Path("/photos/shoe.jpg")
    batch.add([path], {})
    batch.update(path, state="submitted", job_id=one.id)
    item = batch.follow(one)
    assert item is not None
    return batch_tile(item).status


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_page_says_the_same_state_for_a_job(qtbot: Any, case: str) -> None:
    fields, words = CASES[case]
    one = job(**fields)
    status, _tip = queue_status(qtbot, one)
    assert status.split(":")[0] == words, f"queue: {status!r}"
    assert create_status(one) == words
    if one.status == "completed":  # the Results page lists completed jobs only
        tile = result_tile(one, "shoe.jpg")
        assert tile.status == words or (words == "Completed" and tile.role == "muted"), f"results: {tile.status!r}"


def test_an_expired_job_says_why_on_the_queue(qtbot: Any) -> None:
    expired = job(**CASES["expired"][0])
    status, tip = queue_status(qtbot, expired)
    assert status == "Expired" and "retention" in tip
    model = JobsModel()
    view = QueueView(model)
    qtbot.addWidget(view)
    model.set_page([expired], total=1, offset=0)
    view.table.selectRow(0)
    assert not view.open_button.isEnabled()  # nothing to open: its images are gone
    opened: list[Any] = []
    view.open_requested.connect(opened.append)
    view._open_index(model.index(0, 0))
    assert opened == [] and "retention" in view.message.text()


def test_a_flagged_result_reads_the_same_in_the_viewer(qtbot: Any) -> None:
    flagged = job(**CASES["review"][0])
    viewer = ViewerDialog(flagged, "shoe.jpg", {})
    qtbot.addWidget(viewer)
    assert "The cut-out is unsure of the edges." in viewer.review_text.text()
    plain = ViewerDialog(job(**CASES["completed"][0]), "shoe.jpg", {})
    qtbot.addWidget(plain)
    assert plain.review.isHidden()


def test_a_catalogue_row_says_its_end_in_the_same_words(qtbot: Any, tmp_path: Path) -> None:
    dialog = CatalogueDialog(tmp_path / "m.csv", tmp_path, {})
    qtbot.addWidget(dialog)
    dialog.show_line(1, 2, 0, {"sku": "A", "status": "completed", "needs_review": True})
    dialog.show_line(2, 2, 1, {"sku": "B", "status": "failed", "error": "no product found"})
    assert [dialog.table.item(row, 1).text() for row in (0, 1)] == ["Completed", "Failed"]
    assert dialog.table.item(0, 2).text() == "Needs review"


def test_double_clicking_an_expired_result_says_why_nothing_opens(qtbot: Any) -> None:
    view = ResultsView({})
    qtbot.addWidget(view)
    opened: list[Any] = []
    view.open_requested.connect(opened.append)
    view._open(job(**CASES["expired"][0]))
    assert opened == [] and view.message.text().startswith("Expired: ") and "retention" in view.message.text()
    view._open(job(**CASES["completed"][0]))
    assert len(opened) == 1
