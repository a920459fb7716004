"""A catalogue manifest's bytes as rows, in the shapes spreadsheets save them (docs/presets.md, "Catalogues"; the
desktop repeats these lines in ``paqshot_desktop/manifestrows.py``, as it must not import the server, and a test
checks that both files' code is the same).

Breaker14 (B14-3) found every common spreadsheet export but one refused or misread; what is taken now:

- text: UTF-8 (with or without its byte order mark); UTF-16 or UTF-32 with a byte order mark (Excel's "Unicode
  text"); bytes that are not UTF-8 are read as Windows-1252 (Excel's "CSV (Comma delimited)" in western locales),
  with a note saying so; bytes that are neither are refused, naming the line.
- CSV: a comma, semicolon (Excel where the decimal mark is a comma) or tab between cells, as the stdlib's
  ``csv.Sniffer`` finds it on the header line; quoted cells may hold separators and line breaks; header names in
  any case, with spaces or hyphens for ``_`` (``SKU``, ``Compliance Check``); rows whose cells are all empty
  (what a spreadsheet writes for a touched empty row: ``,,,``) are skipped; ``compliance_check`` is ids separated
  by ``;`` or ``|``.
- JSON: a list of objects, one per SKU.

Empty cells are left out. Errors are :class:`ManifestError`, naming the file and, for a row, its line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

# Byte order marks, UTF-32's first: its little-endian mark begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
SEPARATORS = ",;\t"  # what spreadsheets write between cells (RFC 4180's comma; Excel's list separator ';'; tab)
MAX_CELL_CHARS = csv.field_size_limit()  # the stdlib reader's limit (131,072); no request field comes near it
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # read whole, so bounded: ~1.5 million rows of a typical 170-byte row


class ManifestError(ValueError):
    """The manifest itself cannot be used (not text, no ``sku`` column, a cell over the limit, not a list of
    objects); the message says why and where."""


@dataclass(frozen=True)
class Manifest:
    """A manifest's rows: ``rows`` one dict per SKU (field name → text cell, or the JSON value; empty cells left
    out), ``note`` what the reader had to guess ("" when nothing: today only a Windows-1252 reading)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


def parse_manifest(data: bytes, name: str) -> Manifest:
    """The rows of a manifest file's bytes; ``name`` is the file's name (a ``.json`` one is JSON, any other CSV),
    used in the messages. Raises ManifestError."""
    text, note = decode(data, name)
    if name.lower().endswith(".json"):
        return Manifest(json_rows(text, name), note)
    return Manifest(csv_rows(text, name), note)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """``data`` as text, and a note when its encoding was a guess (see the module's docstring). Raises
    ManifestError for bytes that are not text in any of those encodings."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), ""
            except UnicodeDecodeError as exc:
                raise ManifestError(
                    f"{name} starts with the mark of {label} text but is not {label} (line {_line(data, exc)}): "
                    'save it again as "CSV UTF-8".'
                ) from None
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        not_utf8 = _line(data, exc)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ManifestError(
            f'{name} is not UTF-8 text (a byte on line {not_utf8} is not): save it as "CSV UTF-8" and try again.'
        ) from None
    return text, (
        f"{name} is not UTF-8 (a byte on line {not_utf8} is not), so it was read as Windows-1252, what Excel's "
        '"CSV (Comma delimited)" writes; if accents look wrong in the results, save it as "CSV UTF-8".'
    )


def _line(data: bytes, exc: UnicodeDecodeError) -> int:
    """The 1-based line of ``data`` where ``exc`` (a decoding error of it) begins (lines counted by their LF byte,
    which is the same byte in every encoding here but UTF-16/32: for those the count is a guide)."""
    return data.count(b"\n", 0, exc.start) + 1


def header_name(cell: str) -> str:
    """A header cell as a field name: ``" Compliance Check "`` → ``compliance_check``, ``SKU`` → ``sku``."""
    return "_".join(cell.replace("-", " ").lower().split())


def csv_rows(text: str, name: str) -> list[dict[str, Any]]:
    """The rows of CSV text (see the module's docstring). Raises ManifestError."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        separator = csv.Sniffer().sniff(header, delimiters=SEPARATORS).delimiter
    except csv.Error:  # one column, or nothing the sniffer can tell apart: RFC 4180's comma
        separator = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    columns: list[str] | None = None
    rows: list[dict[str, Any]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a spreadsheet's touched empty row (",,,")
            if columns is None:
                columns = _columns(cells, separator, name)
                continue
            row: dict[str, Any] = {
                col: cell.strip() for col, cell in zip(columns, cells, strict=False) if col and cell.strip()
            }
            if "compliance_check" in row:
                row["compliance_check"] = [c.strip() for c in re.split(r"[;|]", row["compliance_check"]) if c.strip()]
            rows.append(row)
    except csv.Error as exc:
        why = (
            f"a cell holds more than {MAX_CELL_CHARS:,} characters"
            if "field larger than field limit" in str(exc)
            else f"it is not CSV ({exc})"
        )
        raise ManifestError(f"{name}: row {len(rows) + 1} (line {reader.line_num}): {why}.") from None
    return rows


def _columns(cells: list[str], separator: str, name: str) -> list[str]:
    """The header row's field names. Raises ManifestError when there is no ``sku`` column or a name is twice."""
    columns = [header_name(cell) for cell in cells]
    named = [c for c in columns if c]
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise ManifestError(f"{name}: the header row names {', '.join(twice)} more than once.")
    if "sku" not in columns:
        shown = {",": "a comma", ";": "a semicolon", "\t": "a tab"}[separator]
        raise ManifestError(
            f"{name}: the header row has no sku column (read with {shown} between cells, its columns are: "
            f"{', '.join(repr(c) for c in cells)})."
        )
    return columns


def json_rows(text: str, name: str) -> list[dict[str, Any]]:
    """The rows of a JSON manifest (a list of objects), ``null`` and empty values left out. Raises ManifestError."""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{name} is not valid JSON: {exc}.") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ManifestError(f"{name}: a JSON manifest is a list of objects, one per SKU.")
    return [{k: v for k, v in r.items() if v not in (None, "")} for r in rows]
