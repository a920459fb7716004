"""``paqshot generate``: many files in one process, every request field a flag, mattes on request."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from imaging_support import product_photo
from paqshot_server.cli import build_parser, main
from PIL import Image


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.endswith("_HOME") or name.endswith("_CONFIG"):
            monkeypatch.delenv(name, raising=False)


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
        ]
    )
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


def test_bad_options_fail_each_file_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "p.jpg"
    product_photo().save(src, "JPEG")
    code = main(["generate", str(src), "-o", str(tmp_path / "o"), "--padding", "0.7", "--long-side", "256"])
    assert code == 1
    assert "padding 0.7 leaves no room" in capsys.readouterr().err
    assert not (tmp_path / "o" / "p.jpg").exists()


def test_a_combination_no_engine_accepts_stops_before_any_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "p.jpg"
    product_photo().save(src, "JPEG")
    code = main(["generate", str(src), "-o", str(tmp_path / "o"), "--num-variants", "2"])
    assert code == 2  # bad options, like the API's 400: no file is tried
    assert "num_variants applies to scene styles" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
