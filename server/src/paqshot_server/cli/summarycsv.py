"""A catalogue's ``summary.csv``, written so that a spreadsheet shows every cell as text (docs/presets.md,
"Catalogues"; the desktop repeats these lines in ``paqshot_desktop/summarycsv.py``, as it must not import the
server, and a test checks that both agree).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel, LibreOffice
Calc and Google Sheets: a SKU or an error message that a manifest's author controls (``=HYPERLINK(...)``) would run
when the summary is opened (breaker11 B11-15b, breaker12 B12-6). Such a cell gets a leading ``'``, OWASP's advice
("CSV Injection"), which those programs show as text; the csv module quotes what needs quoting.
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
