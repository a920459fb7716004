"""``paqshot generate``: many files in one process, every request field a flag, mattes on request."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from imaging_support import product_photo
from paqshot_server.cli import build_parser, main
from PIL import Image
from support import product_jpeg


@pytest.fixture(autouse=True)
def _home(cli_cwd: Path) -> None:
    """Every test here runs the CLI in an empty folder (conftest ``cli_cwd``)."""


def test_every_request_field_is_a_flag() -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "generate",
            "a.jpg",
            "-o",
            "out",
            "--style",
            "studio_packshot",
            "--scene-type",
            "abstract",
            "--background",
            "#ff0000",
            "--aspect-ratio",
            "16:9",
            "--people",
            "none",
            "--location",
            "studio",
            "--prompt",
            "p",
            "--negative-prompt",
            "n",
            "--seed",
            "7",
            "--shadow",
            "hard",
            "--reflection",
            "--padding",
            "0.1",
            "--output-format",
            "webp",
            "--num-variants",
            "2",
            "--long-side",
            "512",
            "--jpeg-quality",
            "90",
            "--save-matte",
            "--cutout-engine",
            "classical",
            "--on-low-confidence",
            "fail",
        ]
    )
    assert args.cutout_engine == "classical" and args.on_low_confidence == "fail"
    assert (args.aspect_ratio, args.shadow, args.reflection, args.padding, args.seed) == ("16:9", "hard", True, 0.1, 7)
    assert args.output_format == "webp" and args.long_side == 512 and args.save_matte


def test_many_files_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.jpg"
    b = tmp_path / "b.png"
    product_photo(size=(300, 200)).save(a, "JPEG", quality=92)
    product_photo(colour=(30, 90, 200), seed=3).save(b, "PNG")
    bad = tmp_path / "c.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "out"
    code = main(
        [
            "generate",
            str(a),
            str(b),
            str(bad),
            "-o",
            str(out),
            "--aspect-ratio",
            "4:3",
            "--long-side",
            "400",
            "--save-matte",
        ]
    )
    assert code == 1  # one file failed, the others were written
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert sum("->" in line for line in lines) == 2
    assert any("c.png: failed" in line and "not supported" in line for line in lines)
    for stem in ("a", "b"):
        with Image.open(out / f"{stem}.jpg") as img:
            assert img.size == (400, 300)
        with Image.open(out / f"{stem}.matte.png") as matte:
            assert matte.mode == "L"
    with Image.open(out / "a.matte.png") as matte:
        assert matte.size == (300, 200)


def test_transparent_writes_png(tmp_path: Path) -> None:
    src = tmp_path / "p.jpg"
    product_photo().save(src, "JPEG", quality=92)
    assert (
        main(["generate", str(src), "-o", str(tmp_path / "o"), "--background", "transparent", "--long-side", "256"])
        == 0
    )
    img = Image.open(io.BytesIO((tmp_path / "o" / "p.png").read_bytes()))
    assert img.mode == "RGBA"


def test_bad_options_are_refused_before_any_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the canvas is known from the options, so a padding that leaves no room is an option error (exit 2, as the
    # API's 400 at submission: breaker11 B11-7), not a failure of each file
    src = tmp_path / "p.jpg"
    product_photo().save(src, "JPEG")
    code = main(["generate", str(src), "-o", str(tmp_path / "o"), "--padding", "0.7", "--long-side", "256"])
    assert code == 2
    assert "padding 0.7 leaves no room for the product on the 256x256 canvas" in capsys.readouterr().err
    assert not (tmp_path / "o" / "p.jpg").exists()


def test_every_generate_flag_has_help_and_request_fields_share_the_api_text() -> None:
    from paqshot_server.api.wire import request_fields

    generate = build_parser()._subparsers._group_actions[0].choices["generate"]  # type: ignore[union-attr]
    flags = {a.dest: a for a in generate._actions if a.dest != "help"}
    undocumented = [dest for dest, action in flags.items() if not (action.help or "").strip()]
    assert undocumented == []
    api_text = {f.name: f.description for f in request_fields()}
    assert "free text" in (flags["location"].help or "")
    for name in ("style", "location", "shadow", "num_variants"):
        assert (flags[name].help or "").lower().rstrip(".") in api_text[name].lower(), name


def test_location_takes_free_text_as_the_api_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "p.jpg"
    product_photo(size=(240, 180)).save(src, "JPEG")
    out = tmp_path / "o"
    args = ["generate", str(src), "-o", str(out), "--style", "lifestyle", "--long-side", "256"]
    assert main([*args, "--location", "a sunlit kitchen table by the sea"]) == 0, capsys.readouterr().err
    assert (out / "p.jpg").is_file()


def test_a_combination_no_engine_accepts_stops_before_any_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "p.jpg"
    product_photo().save(src, "JPEG")
    code = main(["generate", str(src), "-o", str(tmp_path / "o"), "--num-variants", "2"])
    assert code == 2  # bad options, like the API's 400: no file is tried
    assert "num_variants applies to scene styles" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_json_prints_one_object_per_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "a.png"
    product_photo().save(good, "PNG")
    bad = tmp_path / "b.png"
    bad.write_bytes(b"not an image")
    code = main(["generate", str(good), str(bad), "-o", str(tmp_path / "o"), "--long-side", "256", "--json"])
    assert code == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in records] == [str(good), str(bad)]
    ok, failed = records
    assert ok["outputs"] == [str(tmp_path / "o" / "a.jpg")] and Path(ok["outputs"][0]).is_file()
    assert ok["engine"] == "classical" == ok["cutout_engine"]
    assert 0 <= ok["confidence"] <= 1 and ok["needs_review"] is False and ok["review_reasons"] == []
    assert {"decode", "cutout", "compose", "encode", "total"} <= set(ok["timings_ms"])
    assert all(isinstance(v, float) and v >= 0 for v in ok["timings_ms"].values())
    assert failed["error"]["code"] == "unsupported_image" and "outputs" not in failed
    assert "engine" not in failed  # not read: no engine ran


def test_json_carries_the_notes_the_text_line_shows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """breaker15 B15-7: remarks such as an upscale were only in the text on stderr, not in --json's object."""
    small = tmp_path / "small.png"
    product_photo().resize((96, 72)).save(small, "PNG")
    assert main(["generate", str(small), "-o", str(tmp_path / "o"), "--long-side", "1024", "--json"]) == 0
    captured = capsys.readouterr()
    (record,) = [json.loads(line) for line in captured.out.splitlines()]
    assert any(note.startswith("upscaled ") for note in record["notes"]), record
    assert all(note in captured.err for note in record["notes"])


def test_json_of_a_refused_cutout_names_the_engine_and_confidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """breaker9 F10: a photo the cut-out ran on and refused (no product) records the engine that ran."""
    empty = tmp_path / "empty.png"
    Image.new("RGB", (640, 480), (236, 236, 236)).save(empty, "PNG")
    assert main(["generate", str(empty), "-o", str(tmp_path / "o"), "--long-side", "256", "--json"]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["error"]["code"] == "unsupported_image" and "no product found" in refused["error"]["message"]
    assert refused["engine"] == "classical" == refused["cutout_engine"] and refused["confidence"] == 0.0


def test_review_flag_and_on_low_confidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAQSHOT_REVIEW_THRESHOLD", "1.0")  # this photo's cut-out is less sure than that
    src = tmp_path / "p.jpg"
    src.write_bytes(product_jpeg())
    args = ["generate", str(src), "--long-side", "256", "--json"]
    assert main([*args, "-o", str(tmp_path / "kept")]) == 0
    kept = json.loads(capsys.readouterr().out)
    assert kept["needs_review"] is True and kept["review_reasons"][0]["code"] == "low_confidence"
    assert (tmp_path / "kept" / "p.jpg").is_file()
    assert main([*args, "-o", str(tmp_path / "refused"), "--on-low-confidence", "fail"]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["error"]["code"] == "unsupported_image" and "on_low_confidence" in refused["error"]["message"]
    assert refused["needs_review"] is True
    assert not (tmp_path / "refused" / "p.jpg").exists()
    monkeypatch.setenv("PAQSHOT_REVIEW_THRESHOLD", "0.0")
    assert main([*args, "-o", str(tmp_path / "lax"), "--on-low-confidence", "fail"]) == 0
    lax = json.loads(capsys.readouterr().out)
    assert all(r["code"] != "low_confidence" for r in lax["review_reasons"])


def test_an_unknown_cutout_engine_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "p.png"
    product_photo().save(src, "PNG")
    assert main(["generate", str(src), "-o", str(tmp_path / "o"), "--cutout-engine", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_the_engine_a_result_names_is_accepted_back_as_the_cutout_engine() -> None:
    """``onnx:<id>`` (what results report) is the model id (breaker6, F4: refused before)."""
    args = build_parser().parse_args(["generate", "p.png", "-o", "out", "--cutout-engine", "onnx:u2netp"])
    assert args.cutout_engine == "u2netp"


def test_strict_exit_status_when_a_result_needs_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "p.jpg"
    src.write_bytes(product_jpeg())
    args = ["generate", str(src), "--long-side", "256", "--cutout-engine", "classical"]
    monkeypatch.setenv("PAQSHOT_REVIEW_THRESHOLD", "1.0")  # every cut-out needs review
    assert main([*args, "-o", str(tmp_path / "a")]) == 0  # without --strict: flagged, exit 0
    said = capsys.readouterr()
    line = next(x for x in (said.out + said.err).splitlines() if "NEEDS REVIEW" in x)
    assert "confidence 0." in line.split("NEEDS REVIEW", 1)[1], line  # the reason in words, not the flag alone
    assert main([*args, "-o", str(tmp_path / "b"), "--strict"]) == 3
    assert "1 of 1 need review (--strict)" in capsys.readouterr().err
    assert (tmp_path / "b" / "p.jpg").is_file()  # still written
    monkeypatch.setenv("PAQSHOT_REVIEW_THRESHOLD", "0.0")
    assert main([*args, "-o", str(tmp_path / "c"), "--strict"]) == 0


def test_mask_hint_flag_changes_the_matte_where_it_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "p.png"
    product_photo(size=(320, 320)).save(src, "PNG")
    hint = np.full((320, 320), 128, np.uint8)
    hint[10:40, 10:60] = 255  # keep a patch of backdrop
    Image.fromarray(hint, "L").save(tmp_path / "hint.png")
    args = ["generate", str(src), "--long-side", "256", "--cutout-engine", "classical", "--save-matte"]
    assert main([*args, "-o", str(tmp_path / "plain")]) == 0
    assert main([*args, "-o", str(tmp_path / "hinted"), "--mask-hint", str(tmp_path / "hint.png")]) == 0
    plain = np.asarray(Image.open(tmp_path / "plain" / "p.matte.png"))
    hinted = np.asarray(Image.open(tmp_path / "hinted" / "p.matte.png"))
    assert (plain[10:40, 10:60] == 0).all() and (hinted[10:40, 10:60] == 255).all()
    assert np.abs(hinted[hint == 128].astype(int) - plain[hint == 128].astype(int)).max() <= 1
    two = ["generate", str(src), str(src), "-o", str(tmp_path / "x"), "--mask-hint", str(tmp_path / "hint.png")]
    assert main(two) == 2 and "exactly one IMAGE" in capsys.readouterr().err
