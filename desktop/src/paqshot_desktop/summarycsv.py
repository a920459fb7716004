"""A catalogue's ``summary.csv`` made safe for spreadsheets: the same lines as the command's ``cli/summarycsv.py`` in
the server package (the rule is written there and in docs/presets.md, "Catalogues"), repeated because the desktop
must not import the server; ``tests/desktop/test_desktop_catalogue.py`` checks that the two files' code is the same.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP, "CSV Injection"


def inert(value: Any) -> Any:
    """``value`` as a cell no spreadsheet evaluates: a string starting with a formula character, with ``'`` in
    front; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_summary(
    path: Path, columns: Sequence[str], lines: Iterable[Mapping[str, Any]], ours: Collection[str] = ()
) -> None:
    """Write ``lines`` (one mapping of ``columns`` per catalogue row) to ``path`` as UTF-8 CSV with a header, every
    cell made :func:`inert` but those of the columns ``ours``: values the catalogue made itself from characters no
    formula can run with (an output file name: letters, marks and digits, ``.``, ``_`` and ``-``; no ``(`` for a
    function call, no ``|`` or ``!`` for a link to another program), written as they are so that a script can join
    the summary with the files (breaker13 B13-13: ``'-2_3-c219381f.jpg`` named the file ``-2_3-c219381f.jpg``)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(
            {name: value if name in ours else inert(value) for name, value in line.items()} for line in lines
        )
