"""Counts in the desktop's words: singular for exactly one (the nit "may create 1 generations"; the desktop
wrote "Saved 1 image(s)", "1 photos", "1 rows: …"). ``labels.counted`` is the server's ``words.counted`` rule,
repeated because the desktop must not import the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from paqshot_desktop.brandcheck import Problem, render
from paqshot_desktop.labels import counted
from paqshot_desktop.views.catalogue import CatalogueDialog
from paqshot_server.words import counted as server_counted


@pytest.mark.parametrize("count", [0, 1, 2, 21])
def test_the_desktop_counts_as_the_server_does(count: int) -> None:
    for noun, plural in (("photo", ""), ("try", "tries")):
        assert counted(count, noun, plural) == server_counted(count, noun, plural)
    assert counted(count, "image").startswith(f"{count} image") and counted(count, "image").endswith(
        "image" if count == 1 else "images"
    )


def test_a_one_row_catalogue_says_one_row(qtbot: Any, tmp_path: Path) -> None:
    dialog = CatalogueDialog(tmp_path / "m.csv", tmp_path, {})
    qtbot.addWidget(dialog)
    dialog.show_line(1, 1, 0, {"sku": "A", "status": "completed"})
    assert dialog.status.text() == "1 of 1 row done."
    dialog.finish([{"sku": "A", "status": "completed"}])
    assert dialog.status.text().startswith("1 row: 1 rendered"), dialog.status.text()


def test_the_brand_check_counts_its_problems(tmp_path: Path) -> None:
    one = render(tmp_path, [Problem("error", "app.name", "empty", "name it")])
    assert one.endswith(f"{tmp_path}: 1 error, 0 warnings"), one
