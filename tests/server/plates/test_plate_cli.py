"""The operator's side: ``paqshot backdrops add | list | remove`` and the plate flags of ``paqshot generate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paqshot_server.cli import build_parser, main
from PIL import Image
from plate_support import PLATES, photo_on


@pytest.fixture(autouse=True)
def _home(cli_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAQSHOT_HOME", str(cli_cwd / "home"))
    monkeypatch.setenv("PAQSHOT_CONTENT_CREDENTIALS", "false")


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_plate_flags_parse() -> None:
    args = build_parser().parse_args(
        [
            "generate",
            "a.jpg",
            "-o",
            "out",
            "--background-image",
            "plate.jpg",
            "--backdrop",
            "bdp_" + "0" * 26,
            "--placement",
            "x=0.4,y=0.8,scale=0.5,floor_y=0.82",
            "--no-harmonize",
            "--background-blur",
            "0.5",
        ]
    )
    assert args.placement == {"x": 0.4, "y": 0.8, "scale": 0.5, "floor_y": 0.82}
    assert args.harmonize is False and args.background_blur == 0.5 and args.background_image == "plate.jpg"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["generate", "a.jpg", "-o", "o", "--placement", "left=0.5"])


def test_shared_plates_are_added_listed_used_by_scenes_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plate = _json(
        capsys,
        [
            "backdrops",
            "add",
            str(PLATES / "kitchen_marble.jpg"),
            "--tags",
            "kitchen,Marble",
            "--floor-y",
            "0.72",
            "--light-from",
            "right",
            "--json",
        ],
    )
    assert isinstance(plate, dict) and plate["key_id"] is None and plate["tags"] == ["kitchen", "marble"]
    assert plate["floor_y"] == 0.72 and plate["light_azimuth"] == 90.0 and plate["light_source"] == "given"
    listed = _json(capsys, ["backdrops", "list", "--json"])
    assert [p["id"] for p in listed] == [plate["id"]]  # type: ignore[union-attr,index]

    photo = tmp_path / "p.jpg"
    photo_on((240, 240, 238)).save(photo, "JPEG")
    out = tmp_path / "o"
    base = ["generate", str(photo), "-o", str(out), "--long-side", "384", "--json", "--style", "lifestyle"]
    kitchen = _json(capsys, [*base, "--location", "kitchen"])
    assert kitchen["engine"] == "plate" and kitchen["backdrop"]["id"] == plate["id"]  # type: ignore[index]
    beach = _json(capsys, [*base, "--location", "beach", "--overwrite"])  # the kitchen one is there (B17-5)
    assert beach["engine"] == "procedural"  # type: ignore[index]

    assert main(["backdrops", "remove", plate["id"]]) == 0
    assert _json(capsys, ["backdrops", "list", "--json"]) == []
    assert main(["backdrops", "remove", plate["id"]]) == 1
    assert "no such plate" in capsys.readouterr().err


def test_generate_on_a_background_image_file_with_a_placement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "p.jpg"
    photo_on((240, 240, 238)).save(photo, "JPEG")
    out = tmp_path / "o"
    record = _json(
        capsys,
        [
            "generate",
            str(photo),
            "-o",
            str(out),
            "--long-side",
            "512",
            "--aspect-ratio",
            "16:9",
            "--json",
            "--background-image",
            str(PLATES / "cafe_table.jpg"),
            "--placement",
            "x=0.3,y=0.85,scale=0.5",
        ],
    )
    assert record["engine"] == "plate"  # type: ignore[index]
    with Image.open(out / "p.jpg") as image:
        assert image.size == (512, 288)


def test_a_missing_background_image_or_the_photos_shadow_stops_before_any_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "p.jpg"
    photo_on((240, 240, 238)).save(photo, "JPEG")
    out = tmp_path / "o"
    assert main(["generate", str(photo), "-o", str(out), "--background-image", str(tmp_path / "none.jpg")]) == 2
    assert "background image" in capsys.readouterr().err
    plate = str(PLATES / "cafe_table.jpg")
    assert main(["generate", str(photo), "-o", str(out), "--background-image", plate, "--shadow", "natural"]) == 2
    assert "natural" in capsys.readouterr().err
    assert not out.exists()


def test_a_keys_plate_is_kept_from_the_operators_remove_without_any(tmp_path: Path) -> None:
    from paqshot_server.jobs.backdrops import BackdropLibrary, PlateUpload
    from paqshot_server.resources import Resources
    from paqshot_server.settings import load_settings
    from support import make_key

    settings = load_settings()
    key = make_key(settings)
    row = BackdropLibrary(Resources(settings)).add(key.id, (PLATES / "office_desk.jpg").read_bytes(), PlateUpload())
    assert main(["backdrops", "remove", row.id]) == 1
    assert main(["backdrops", "remove", "--any", row.id]) == 0
