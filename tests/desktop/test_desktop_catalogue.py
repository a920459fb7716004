"""Catalogue manifests in the desktop (issue 13): the same format, outputs and summary as
``paqshot generate --manifest``, rendered on a real appliance; a re-run skips unchanged rows."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from desktop_support import EXE, RunningAppliance, product_bytes
from paqshot_desktop.catalogue import SUMMARY_COLUMNS, read_manifest
from paqshot_desktop.skunames import output_name
from paqshot_desktop.views.catalogue import CatalogueDialog, check_words
from PIL import Image

# What both must agree on (options_sha256 differs by design: docs/presets.md, "Catalogues").
SAME = ("sku", "status", "output", "width", "height", "engine", "needs_review", "review_reasons", "compliance")
SAME += ("failed_rules", "input_sha256")


def test_a_manifest_reads_as_the_command_reads_it(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "sku,image,preset,compliance_check,placement,shadow\n"
        'A/1, a.jpg ,amazon_main,ebay; etsy|shopify,"x=0.5,y=0.8",\n'
        "B,b.png,,,,hard\n",
        encoding="utf-8",
    )
    rows = read_manifest(manifest).rows
    assert rows[0] == {
        "sku": "A/1",
        "image": "a.jpg",
        "preset": "amazon_main",
        "compliance_check": ["ebay", "etsy", "shopify"],
        "placement": {"x": 0.5, "y": 0.8},
    }
    assert rows[1] == {"sku": "B", "image": "b.png", "shadow": "hard"}  # empty cells are left to the appliance
    assert output_name("A/1 ü").startswith("A_1_ü-")
    as_json = tmp_path / "m.json"
    as_json.write_text(json.dumps([{"sku": "A", "image": "a.jpg", "seed": None, "padding": 0.1}]))
    assert read_manifest(as_json).rows == [{"sku": "A", "image": "a.jpg", "padding": 0.1}]
    as_json.write_text(json.dumps({"sku": "A"}))
    with pytest.raises(ValueError, match="list of objects"):
        read_manifest(as_json)


def test_a_manifest_saved_by_a_spreadsheet_reads_as_the_plain_one(tmp_path: Path) -> None:
    """breaker14 B14-3 (the desktop's reader: "'utf-8' codec can't decode byte 0xff" in red for Excel's Unicode
    text; every row of a semicolon file "has no sku"): the encodings, separators, header spellings and empty rows
    spreadsheets write give the plain file's rows (the cases in full: tests/server/test_manifest_rows.py)."""
    plain = "sku,image,shadow\nK1,a.jpg,hard\nK2,b.png,\n"
    manifest = tmp_path / "m.csv"
    manifest.write_text(plain, encoding="utf-8")
    expected = read_manifest(manifest).rows
    assert expected == [{"sku": "K1", "image": "a.jpg", "shadow": "hard"}, {"sku": "K2", "image": "b.png"}]
    for data in (
        plain.replace(",", "\t").replace("\n", "\r\n").encode("utf-16"),
        plain.replace(",", ";").encode("cp1252"),
        ("SKU,Image,Shadow" + plain[plain.index("\n") :] + ",,\r\n,,\r\n").encode(),
    ):
        manifest.write_bytes(data)
        assert read_manifest(manifest).rows == expected, data
    manifest.write_text(f"sku,image,negative_prompt\nK1,a.jpg,{'x' * 200_000}\n")
    with pytest.raises(ValueError, match=r"row 1 \(line 2\)"):
        read_manifest(manifest)


def test_a_torn_state_file_does_not_stop_a_catalogue_run(tmp_path: Path) -> None:
    """breaker14 B14-8: a batch-state file cut by a kill stopped every later run; the rows go on (a missing photo
    fails its row before anything is sent, so no appliance is needed) and the state is a journal from then on."""
    from paqshot_desktop.catalogue import CatalogueRun
    from paqshot_desktop.wire import Capabilities

    manifest = tmp_path / "m.csv"
    manifest.write_text("sku,image\nK1,missing.jpg\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "batch-state.json").write_text('{"K1": {"sku": "K1", "stat')
    run = CatalogueRun(None, Capabilities(), (), manifest, out)  # type: ignore[arg-type]  # no row reaches it
    lines = run.run(lambda _step: None)
    assert [(r["sku"], r["status"]) for r in lines] == [("K1", "failed")] and "cannot read" in lines[0]["error"]
    assert json.loads((out / "batch-state.jsonl").read_text())["status"] == "failed"


def test_a_rows_image_is_checked_before_it_is_read(tmp_path: Path) -> None:
    """breaker14 B14-4 (the desktop's copy of the catalogue): a device, a named pipe and a file over the
    appliance's limit are refused in words without being read."""
    import os

    from paqshot_desktop.catalogue import CatalogueRun
    from paqshot_desktop.wire import Capabilities

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    big = tmp_path / "big.jpg"
    with big.open("wb") as fh:
        fh.truncate(300_000_000)  # sparse: no disk used
    run = CatalogueRun(None, Capabilities(), (), tmp_path / "m.csv", tmp_path)  # type: ignore[arg-type]  # unused
    for name in ("/dev/null", "pipe.jpg"):
        with pytest.raises(ValueError, match="not a regular file"):
            run._load(name)
    with pytest.raises(ValueError, match=r"big\.jpg is 300\.0 MB; this appliance takes images up to 10 MB"):
        run._load("big.jpg")


def test_the_manifest_itself_is_checked_before_it_is_read(tmp_path: Path) -> None:
    """breaker15 B15-2's kind (a local input read whole): a device or a named pipe as the manifest."""
    import os

    from paqshot_desktop.catalogue import read_manifest
    from paqshot_desktop.manifestrows import ManifestError

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path in (Path("/dev/null"), fifo):
        with pytest.raises(ManifestError, match="not a regular file"):
            read_manifest(path)


def test_the_marketplace_check_of_a_summary_line_in_words() -> None:
    line = {"compliance": "amazon_main:fail; ebay:pass", "failed_rules": "amazon_main:shadow; amazon_main:props"}
    words = check_words(line, {"amazon_main": "Amazon main image", "ebay": "eBay"})
    assert words == "Amazon main image: fails (Shadow, Other objects); eBay: passes"


def _summary(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "summary.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == SUMMARY_COLUMNS
        return {row["sku"]: row for row in reader}


def _run(qtbot: Any, controller: Any, manifest: Path, out: Path) -> CatalogueDialog:
    dialog = controller.open_catalogue(manifest, out)
    assert dialog is not None
    qtbot.waitUntil(lambda: " rows: " in dialog.status.text(), timeout=180_000)
    return dialog


@pytest.mark.e2e
@pytest.mark.slow
def test_a_catalogue_renders_by_sku_writes_the_summary_and_skips_unchanged_rows(
    qtbot: Any, make_app: Any, appliance: RunningAppliance, tmp_path: Path
) -> None:
    shoot = tmp_path / "shoot"
    (shoot / "more").mkdir(parents=True)
    (shoot / "bottle.jpg").write_bytes(product_bytes("JPEG", (480, 360)))
    (shoot / "box.png").write_bytes(product_bytes("PNG", (400, 400)))
    (shoot / "more" / "can.jpg").write_bytes(product_bytes("JPEG", (360, 480)))
    manifest = shoot / "catalogue.csv"
    rows = [
        "sku,image,preset,compliance_check,background,shadow,output_format",
        "SKU-1,bottle.jpg,amazon_main,,,,",
        "SKU/2,box.png,,ebay;etsy,light_gray,,",
        "sku-3,more/can.jpg,,,,hard,png",
    ]
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    app = make_app()
    controller = app.controller
    controller.connect_to(appliance.url, appliance.key)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=20_000)
    assert app.window.create_view.drop.open_catalogue.isVisible() or not app.window.isVisible()

    out = tmp_path / "out"
    dialog = _run(qtbot, controller, manifest, out)
    assert "3 rows: 3 rendered, 0 unchanged, 0 failed" in dialog.status.text(), dialog.status.text()
    files = {"SKU-1": "SKU-1.jpg", "SKU/2": output_name("SKU/2") + ".jpg", "sku-3": "sku-3.png"}
    summary = _summary(out)
    for sku, name in files.items():
        line = summary[sku]
        assert line["status"] == "completed" and line["output"] == name, line
        with Image.open(out / name) as image:
            assert image.size == (int(line["width"]), int(line["height"]))
            assert image.format == ("PNG" if name.endswith(".png") else "JPEG")
    assert summary["SKU-1"]["width"] == "2000" and summary["SKU-1"]["compliance"].startswith("amazon_main:")
    assert summary["SKU/2"]["compliance"] in ("ebay:pass; etsy:pass", "ebay:pass; etsy:fail", "ebay:fail; etsy:pass")
    assert summary["sku-3"]["compliance"] == "" and summary["sku-3"]["needs_review"] in ("True", "False")
    table = {dialog.table.item(r, 0).text(): dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount())}
    assert list(table) == list(files)  # in the manifest's order, whichever ended first
    assert table["SKU-1"].startswith("Amazon main image: ") and "amazon_main" not in table["SKU-1"]
    dialog.reject()

    # The command renders the same manifest with the same appliance's settings into the same summary.
    cli_out = tmp_path / "cli"
    done = subprocess.run(
        [str(EXE), "generate", "--manifest", str(manifest), "-o", str(cli_out)],
        env=appliance.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    by_cli = _summary(cli_out)
    for sku in files:
        assert {k: by_cli[sku][k] for k in SAME} == {k: summary[sku][k] for k in SAME}, sku

    # A re-run skips every unchanged row: no new job on the appliance, the files untouched.
    stamps = {name: (out / name).stat().st_mtime_ns for name in files.values()}
    jobs_before = controller.client.list_jobs(limit=100).total
    again = _run(qtbot, controller, manifest, out)
    assert "3 rows: 0 rendered, 3 unchanged, 0 failed" in again.status.text(), again.status.text()
    assert {line["status"] for line in _summary(out).values()} == {"skipped"}
    assert {name: (out / name).stat().st_mtime_ns for name in files.values()} == stamps
    assert controller.client.list_jobs(limit=100).total == jobs_before
    again.reject()

    # A changed option renders that row only; a row that cannot be read fails alone, in words.
    rows[3] = "sku-3,more/can.jpg,,,,soft,png"
    rows.append("sku-4,missing.jpg,,,,,")
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    third = _run(qtbot, controller, manifest, out)
    assert "4 rows: 1 rendered, 2 unchanged, 1 failed" in third.status.text(), third.status.text()
    summary = _summary(out)
    assert summary["sku-3"]["status"] == "completed" and (out / "sku-3.png").stat().st_mtime_ns != stamps["sku-3.png"]
    assert summary["sku-4"]["status"] == "failed" and "cannot read" in summary["sku-4"]["error"]
    third.reject()


@pytest.mark.parametrize("module", ["skunames", "summarycsv", "manifestrows", "batchstate", "boundedread"])
def test_the_output_names_and_summary_cells_are_the_commands_to_the_letter(module: str) -> None:
    """The desktop repeats the command's name rule and its summary's inert cells (it must not import the server):
    the same code in both files."""
    root = Path(__file__).resolve().parents[2]
    command = (root / f"server/src/paqshot_server/cli/{module}.py").read_text()
    desktop = (root / f"desktop/src/paqshot_desktop/{module}.py").read_text()
    assert desktop.split("from __future__", 1)[1] == command.split("from __future__", 1)[1]


@pytest.mark.e2e
@pytest.mark.slow
def test_number_and_boolean_cells_render_as_in_the_command(
    qtbot: Any, make_app: Any, appliance: RunningAppliance, tmp_path: Path
) -> None:
    """breaker13 B13-16: a CSV cell is text; the desktop sent "2" for num_variants and "0.1" for padding and the
    appliance refused both rows, which ``paqshot generate --manifest`` renders."""
    (tmp_path / "bottle.jpg").write_bytes(product_bytes("JPEG", (480, 360)))
    manifest = tmp_path / "numbers.csv"
    manifest.write_text(
        "sku,image,style,num_variants,padding,reflection,seed\n"
        "two,bottle.jpg,lifestyle,2,,,42\n"
        "pad,bottle.jpg,,,0.1,true,\n",
        encoding="utf-8",
    )
    app = make_app()
    app.controller.connect_to(appliance.url, appliance.key)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=20_000)
    dialog = _run(qtbot, app.controller, manifest, tmp_path / "out")
    assert "2 rows: 2 rendered, 0 unchanged, 0 failed" in dialog.status.text(), _summary(tmp_path / "out")
    jobs = {j.filename: j for j in app.controller.client.list_jobs(limit=10).data}
    two, pad = jobs["two.jpg"], jobs["pad.jpg"]
    assert len(two.all_images) == 2 and two.seed == 42
    assert pad.options["padding"] == 0.1 and pad.options["reflection"] is True
    dialog.reject()
