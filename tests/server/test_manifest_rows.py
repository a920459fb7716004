"""Catalogue manifests as spreadsheets save them (breaker14 B14-3; ``cli.manifestrows``, which the desktop
repeats). The kind: manifest intake took only comma-separated UTF-8 with lower-case headers and said so in
Python's words (or exit 70). Each export below must give the rows of the plain UTF-8 comma file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from paqshot_server.cli.catalogue import read_manifest
from paqshot_server.cli.manifestrows import ManifestError

BIN = str(Path(sys.executable).parent / "paqshot")
PLAIN = "sku,image,preset,compliance_check\nChaise-é,a.jpg,amazon_main,ebay;etsy\nK2,b.png,,\n"
ROWS = [
    {"sku": "Chaise-é", "image": "a.jpg", "preset": "amazon_main", "compliance_check": ["ebay", "etsy"]},
    {"sku": "K2", "image": "b.png"},
]


def _read(tmp_path: Path, data: bytes, name: str = "m.csv") -> list[dict]:
    path = tmp_path / name
    path.write_bytes(data)
    return read_manifest(path).rows


@pytest.mark.parametrize(
    ("export", "data"),
    [
        ("UTF-8", PLAIN.encode()),
        ("UTF-8 with BOM, CRLF (Excel's CSV UTF-8)", b"\xef\xbb\xbf" + PLAIN.replace("\n", "\r\n").encode()),
        ("UTF-16 LE, tabs (Excel's Unicode text)", PLAIN.replace(",", "\t").replace("\n", "\r\n").encode("utf-16")),
        ("UTF-16 BE with BOM, commas", b"\xfe\xff" + PLAIN.encode("utf-16-be")),
        ("UTF-32 with BOM", PLAIN.encode("utf-32")),
        (
            "semicolons (Excel in comma-decimal locales)",
            PLAIN.replace(",", ";").replace("ebay;etsy", '"ebay;etsy"').encode(),
        ),
        ("tabs", PLAIN.replace(",", "\t").encode()),
        (
            "headers in capitals",
            PLAIN.replace("sku,image,preset,compliance_check", "SKU,Image,PRESET,Compliance Check").encode(),
        ),
        ("touched empty rows", (PLAIN + ",,,\r\n,,,\n\n").encode()),
    ],
)
def test_every_spreadsheet_export_gives_the_same_rows(tmp_path: Path, export: str, data: bytes) -> None:
    assert _read(tmp_path, data) == ROWS, export


def test_windows_1252_is_read_and_the_guess_is_said(tmp_path: Path) -> None:
    """Excel's plain "CSV (Comma delimited)": not UTF-8; read as Windows-1252 with a note naming the line."""
    path = tmp_path / "m.csv"
    path.write_bytes(PLAIN.encode("cp1252"))
    manifest = read_manifest(path)
    assert manifest.rows == ROWS
    assert "Windows-1252" in manifest.note and "line 2" in manifest.note and "CSV UTF-8" in manifest.note


def test_bytes_that_are_no_text_are_refused_naming_the_line(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"line 3 .*CSV UTF-8"):
        _read(tmp_path, b"sku,image\nA,a.jpg\nB\x81\x8d,b.jpg\n")  # 0x81, 0x8D: neither UTF-8 nor Windows-1252


def test_quoted_line_breaks_and_unicode_separators_stay_inside_their_cell(tmp_path: Path) -> None:
    """breaker14: ``splitlines`` cut a cell at U+0085/U+2028 and csv joined the pieces without the break."""
    rows = _read(tmp_path, 'sku,image\n"Q\n1",a.jpg\nStuhl\u0085Holz,b.jpg\nL\u2028S,c.jpg\n'.encode())
    assert [r["sku"] for r in rows] == ["Q\n1", "Stuhl\u0085Holz", "L\u2028S"]


def test_a_cell_over_the_limit_names_its_row(tmp_path: Path) -> None:
    data = f"sku,image,negative_prompt\nA,a.jpg,short\nB,b.jpg,{'x' * 200_000}\n".encode()
    with pytest.raises(ManifestError, match=r"row 2 \(line 3\): a cell holds more than 131,072 characters"):
        _read(tmp_path, data)


def test_a_header_without_sku_names_the_columns_it_has(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no sku column \(read with a semicolon .*'Artikel', 'Bild'"):
        _read(tmp_path, b"Artikel;Bild\nA;a.jpg\n")
    with pytest.raises(ManifestError, match="names sku more than once"):
        _read(tmp_path, b"sku,SKU\nA,B\n")


def test_the_command_takes_them_and_refuses_in_one_line(tmp_path: Path) -> None:
    """Through ``paqshot generate --manifest``: the UTF-16 tab export's rows reach the renderer (their missing
    photos fail each row, named); the huge cell is exit 2 naming the row, not an internal error (70)."""
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(tmp_path / "home")}

    def generate(manifest: Path) -> subprocess.CompletedProcess:
        args = [BIN, "generate", "--manifest", str(manifest), "-o", str(tmp_path / manifest.stem)]
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)

    unicode_text = tmp_path / "unicode.txt"
    unicode_text.write_bytes("SKU\tImage\r\nK1\tnope.jpg\r\n\t\r\n".encode("utf-16"))
    done = generate(unicode_text)
    assert done.returncode == 1, done.stderr
    assert "K1: failed (image file not found:" in done.stderr, done.stderr
    assert "1 row: 0 rendered, 0 unchanged, 1 failed" in done.stderr, done.stderr  # counted: not "1 rows"
    huge = tmp_path / "huge.csv"
    huge.write_text(f"sku,image,negative_prompt\nA,a.jpg,{'x' * 200_000}\n")
    refused = generate(huge)
    assert refused.returncode == 2, refused.stderr
    assert "internal error" not in refused.stderr and "row 1 (line 2)" in refused.stderr, refused.stderr
