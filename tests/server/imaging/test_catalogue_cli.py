"""``paqshot generate --manifest`` (catalogue batch) and ``paqshot check`` (standalone compliance) as a user
runs them: real processes, real files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from litestar.testing import TestClient
from paqshot_server.cli.skunames import output_name
from paqshot_server.errors import InvalidRequest
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, Receiver, assert_plain_words, b64, product_jpeg

BIN = str(Path(sys.executable).parent / "paqshot")


def _run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "PAQSHOT_HOME": str(home),
        "PAQSHOT_OUTPUT_LONG_SIDE": "512",
        "PAQSHOT_ALLOW_PRIVATE_NETWORK": "true",  # the URL row fetches from a loopback receiver
    }
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=300)


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "summary.csv").open() as f:
        return {row["sku"]: row for row in csv.DictReader(f)}


def test_a_catalogue_renders_by_sku_and_a_rerun_skips_what_did_not_change(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "red.jpg").write_bytes(product_jpeg())
    (photos / "wide.jpg").write_bytes(product_jpeg((800, 400)))
    manifest = tmp_path / "catalogue.csv"
    manifest.write_text(
        "sku,image,preset,shadow,long_side,compliance_check\n"
        "SKU-1/red,photos/red.jpg,amazon_main,,1000,\n"
        "SKU-2,photos/wide.jpg,ebay,hard,600,amazon_main;google_shopping\n"
        "SKU-3,photos/missing.jpg,etsy,,,\n"
        "SKU-4,photos/red.jpg,amazon_main,sideways,,\n"
    )
    out = tmp_path / "out"
    first = _run("generate", "--manifest", str(manifest), "-o", str(out), home=tmp_path / "home")
    assert first.returncode == 1, first.stderr  # two rows failed, the others were written
    rows = _summary(out)
    red = output_name("SKU-1/red") + ".jpg"  # SKU-1_red-<hash>.jpg: "/" cannot be in a file name
    assert rows["SKU-1/red"]["status"] == "completed" and rows["SKU-1/red"]["output"] == red
    with Image.open(out / red) as written:
        assert written.size == (1000, 1000)  # the row's long_side beats the preset's
    assert rows["SKU-1/red"]["compliance"] == "amazon_main:pass"
    assert rows["SKU-1/red"]["needs_review"] in ("True", "False")
    assert rows["SKU-2"]["compliance"] == "ebay:pass; amazon_main:fail; google_shopping:fail"
    assert "amazon_main:shadow" in rows["SKU-2"]["failed_rules"]  # the row's hard shadow is reported
    # ... and the room it takes in the frame (the product keeps 0.85 of its size, its shadow shortened: under the fill)
    assert "google_shopping:product_fill" in rows["SKU-2"]["failed_rules"]
    assert rows["SKU-3"]["status"] == "failed" and "missing.jpg" in rows["SKU-3"]["error"]
    assert rows["SKU-4"]["status"] == "failed" and "shadow" in rows["SKU-4"]["error"]
    again = _run("generate", "--manifest", str(manifest), "-o", str(out), home=tmp_path / "home")
    rows = _summary(out)
    assert rows["SKU-1/red"]["status"] == "skipped" and rows["SKU-2"]["status"] == "skipped"
    assert rows["SKU-1/red"]["compliance"] == "amazon_main:pass"  # the earlier facts stay in the summary
    assert again.returncode == 1
    manifest.write_text(
        manifest.read_text().replace("SKU-2,photos/wide.jpg,ebay,hard", "SKU-2,photos/wide.jpg,ebay,none")
    )
    (photos / "red.jpg").write_bytes(product_jpeg((700, 500)))
    _run("generate", "--manifest", str(manifest), "-o", str(out), home=tmp_path / "home")
    rows = _summary(out)
    assert rows["SKU-1/red"]["status"] == "completed"  # the input changed
    assert rows["SKU-2"]["status"] == "completed"  # the options changed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shadow", "sideways"),
        ("background", "bluish"),
        ("padding", "abc"),
        ("seed", "-1"),
        ("num_variants", "99"),
        ("colour", "red"),
        ("preset", "Amazon Main"),
        ("preset", "amazon_main\n"),
        ("compliance_check", ["x y"]),
        ("aspect_ratio", "5:4"),
        ("long_side", "big"),
    ],
)
def test_a_bad_row_is_refused_in_the_apis_own_words(
    client: TestClient, key: Key, settings: Settings, field: str, value: object
) -> None:
    """A catalogue row is validated by the API's request type, and its error is the API's sentence for that
    field (``api.explain``), never msgspec's text."""
    from paqshot_server.cli.catalogue import resolve

    with pytest.raises(InvalidRequest) as refused:
        resolve({field: value}, Resources(settings).presets, settings)
    said = refused.value.message
    assert_plain_words(said)
    assert "\n" not in said
    if field == "long_side":  # not a request field: the worker takes it from settings
        assert said == "long_side must be a whole number.", said
        return
    api = client.post(
        "/v1/generate",
        json={"product_image": b64(product_jpeg()), "style": "studio_packshot", field: value},
        headers=key.headers,
    )
    assert api.status_code == 400 and said == api.json()["message"], (said, api.text)


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [  # breaker12 B12-13: 0 was an internal error, 20000 rendered a 20000 px square, 3 a 2x3 px image
        ("--long-side", "0", "long_side must be 64 to 10000 (as the output_long_side setting), not 0."),
        ("--long-side", "3", "long_side must be 64 to 10000 (as the output_long_side setting), not 3."),
        ("--long-side", "20000", "long_side must be 64 to 10000 (as the output_long_side setting), not 20000."),
        ("--jpeg-quality", "101", "jpeg_quality must be 1 to 100 (as the jpeg_quality setting), not 101."),
    ],
)
def test_extra_fields_outside_their_settings_bounds_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: Settings, flag: str, value: str, says: str
) -> None:
    from paqshot_server.cli import main
    from paqshot_server.cli.catalogue import resolve

    (tmp_path / "p.jpg").write_bytes(product_jpeg())
    with pytest.raises(SystemExit) as ended:
        main(["generate", str(tmp_path / "p.jpg"), "-o", str(tmp_path / "out"), flag, value])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err  # one line: argparse's usage block no longer hides it
    assert not (tmp_path / "out").exists()
    with pytest.raises(InvalidRequest) as refused:  # a manifest's row, as the flag
        resolve({flag[2:].replace("-", "_"): value}, Resources(settings).presets, settings)
    assert refused.value.message == says


def test_a_json_manifest_takes_the_same_fields_and_urls(tmp_path: Path) -> None:
    (tmp_path / "p.jpg").write_bytes(product_jpeg())
    receiver = Receiver()
    receiver.files["/file/b.jpg"] = product_jpeg((500, 700))
    try:
        manifest = tmp_path / "c.json"
        rows = [
            {"sku": "A", "image": "p.jpg", "preset": "shopify", "long_side": 800},
            {"sku": "B", "image": f"{receiver.url}/file/b.jpg", "preset": "ebay"},
        ]
        manifest.write_text(json.dumps(rows))
        done = _run("generate", "--manifest", str(manifest), "-o", str(tmp_path / "o"), home=tmp_path / "home")
    finally:
        receiver.close()
    assert done.returncode == 0, done.stderr
    summary = _summary(tmp_path / "o")
    assert summary["A"]["compliance"] == "shopify:pass"
    assert summary["B"]["status"] == "completed" and summary["B"]["width"] == "1600"


def test_check_audits_an_existing_photo(tmp_path: Path) -> None:
    photo = tmp_path / "seller.jpg"
    photo.write_bytes(product_jpeg())  # a red box on light grey: not an Amazon main image
    done = _run("check", str(photo), "--preset", "amazon_main", "--compliance-check", "ebay", home=tmp_path / "h")
    assert done.returncode == 1, done.stderr
    assert "amazon_main: FAIL" in done.stdout and "ebay: PASS" in done.stdout
    assert "FAIL background_purity" in done.stdout and "FAIL long_side: long side 640 px" in done.stdout
    as_json = _run("check", str(photo), "--preset", "ebay", "--json", home=tmp_path / "h")
    record = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and record["compliance"][0]["passed"] and record["format"] == "jpeg"
    bad = _run("check", str(photo), home=tmp_path / "h")
    assert bad.returncode == 2 and "preset" in bad.stderr


def test_a_check_outside_a_data_folder_makes_no_appliance_secret_and_says_so(tmp_path: Path) -> None:
    """breaker15 B15-3: ``check`` run where there is no data folder made ./data/secret.key, a new appliance
    identity, against which no output's sealed map could hold; nothing said why the product was found again."""
    photo = tmp_path / "seller.jpg"
    photo.write_bytes(product_jpeg())
    done = _run("check", str(photo), "--preset", "ebay", home=tmp_path / "nowhere")
    assert done.returncode == 0, done.stderr
    assert "no data folder of this appliance" in done.stderr and "product located by: " in done.stdout
    assert not (tmp_path / "nowhere" / "secret.key").exists()


def test_a_row_whose_file_cannot_be_read_says_why_in_a_plain_sentence(tmp_path: Path) -> None:
    """breaker9 F7: a catalogue row showed "[Errno 2] No such file or directory: '/nope/missing.jpg'"."""
    from paqshot_server.cli.catalogue import _load

    (tmp_path / "folder.jpg").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    for image, says in (
        ("/nope/missing.jpg", "image file not found: /nope/missing.jpg"),
        ("folder.jpg", f"image file is a folder, not a file: {tmp_path / 'folder.jpg'}"),
        ("file/inside.jpg", "image file path runs through something that is not a folder"),
    ):
        with pytest.raises(InvalidRequest) as refused:
            _load(image, tmp_path, SimpleNamespace(settings=Settings(home=tmp_path)))
        assert refused.value.message.startswith(says), refused.value.message
        assert_plain_words(refused.value.message)
        assert "Errno" not in refused.value.message


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (PermissionError(13, "Permission denied", "/srv/p.jpg"), "image file cannot be opened (permission denied): "),
        (OSError(5, "Input/output error", "/srv/p.jpg"), "image file could not be used (input/output error): "),
        (FileNotFoundError(2, "No such file or directory", "/srv/p.jpg"), "image file not found: "),
        (IsADirectoryError(21, "Is a directory", "/srv/p.jpg"), "image file is a folder, not a file: "),
    ],
)
def test_every_file_system_error_is_a_sentence(exc: OSError, says: str) -> None:
    from paqshot_server.cli.common import os_error_words

    assert os_error_words(exc, "image file") == says + "/srv/p.jpg"
    assert os_error_words(OSError("engine x returned no matte")) == "engine x returned no matte"  # our own words


def test_a_catalogue_row_with_a_missing_file_reads_plainly_in_the_summary(tmp_path: Path) -> None:
    manifest = tmp_path / "catalogue.csv"
    manifest.write_text("sku,image\nSKU-3,/nope/missing.jpg\n")
    done = _run("generate", "--manifest", str(manifest), "-o", str(tmp_path / "out"), home=tmp_path / "home")
    assert done.returncode == 1, done.stderr
    assert _summary(tmp_path / "out")["SKU-3"]["error"] == "image file not found: /nope/missing.jpg"
    assert "Errno" not in done.stdout + done.stderr
    missing = _run("generate", "--manifest", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o"), home=tmp_path)
    assert f"manifest not found: {tmp_path / 'none.csv'}" in missing.stderr + missing.stdout
    one = _run("generate", "/nope/missing.jpg", "-o", str(tmp_path / "o"), home=tmp_path / "home")
    assert "failed: file not found: /nope/missing.jpg" in one.stderr and "Errno" not in one.stderr, one.stderr


def test_skus_in_any_script_keep_their_names_and_never_share_a_file(tmp_path: Path) -> None:
    """breaker11 B11-14: every non-ASCII character became "_", so イ and ロ both wrote `_.jpg` and the second row
    failed ("appears twice"); a Japanese, Chinese or Cyrillic catalogue lost most rows."""
    (tmp_path / "p.jpg").write_bytes(product_jpeg((320, 240)))
    manifest = tmp_path / "jp.csv"
    manifest.write_text("sku,image\nイ,p.jpg\nロ,p.jpg\nü中,p.jpg\nABC,p.jpg\nabc,p.jpg\nイ,p.jpg\n", encoding="utf-8")
    out = tmp_path / "out"
    done = _run("generate", "--manifest", str(manifest), "-o", str(out), home=tmp_path / "home")
    assert done.returncode == 1, done.stderr  # the repeated イ fails alone
    with (out / "summary.csv").open(encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    outputs = [line["output"] for line in lines if line["status"] == "completed"]
    assert outputs[:3] == ["イ.jpg", "ロ.jpg", "ü中.jpg"], outputs
    assert outputs[3] == "ABC.jpg" and outputs[4].startswith("abc-"), outputs  # one file on Windows and macOS
    assert len({o.casefold() for o in outputs}) == 5 and all((out / o).is_file() for o in outputs)
    assert lines[5]["status"] == "failed" and "appears twice" in lines[5]["error"], lines[5]


def test_no_summary_cell_is_a_formula_to_a_spreadsheet(tmp_path: Path) -> None:
    """breaker11 B11-15b / breaker12 B12-6: a SKU ``=HYPERLINK(...)`` was written to summary.csv as is, and a
    spreadsheet opening it runs it. OWASP's advice: a ``'`` before a cell starting with = + - @ tab or CR."""
    (tmp_path / "p.jpg").write_bytes(product_jpeg((320, 240)))
    skus = ['=HYPERLINK("http://x.invalid","open")', "+1+2", "-3", "@SUM(A1)", "\tA", "SKU=1"]
    rows = ["sku,image", *(f'"{sku.replace(chr(34), 2 * chr(34))}",p.jpg' for sku in skus), '"=1+1",/nope/x.jpg']
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    done = _run("generate", "--manifest", str(manifest), "-o", str(out), home=tmp_path / "home")
    assert done.returncode == 1, done.stderr  # the missing file's row
    with (out / "summary.csv").open(encoding="utf-8", newline="") as f:
        lines = list(csv.DictReader(f))
    cells = [cell for line in lines for name, cell in line.items() if name != "output"]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    # csv's reader strips nothing, so the row keeps the SKU the manifest's reader took (stripped of spaces and tabs)
    shown = [line["sku"] for line in lines]
    assert shown == ["'" + sku if sku[0] in "=+-@" else sku.strip() for sku in [*skus, "=1+1"]], shown
    # breaker13 B13-13: the output column is the file's own name ("-3.jpg", not "'-3.jpg"), made of characters no
    # formula runs with, so the summary joins with the files
    outputs = [line["output"] for line in lines if line["output"]]
    assert len(outputs) == len(skus) and all((out / name).is_file() for name in outputs), outputs
    assert "-3.jpg" in outputs and not any(set(name) & set("()|!=+@\"'") for name in outputs), outputs
