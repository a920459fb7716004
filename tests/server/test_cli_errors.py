"""An internal error in the CLI is one plain line, with the traceback on --verbose (never lost, never a dump)."""

from __future__ import annotations

from pathlib import Path

import pytest
from paqshot_server.cli import main
from paqshot_server.engines import Engines
from PIL import Image


def boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("a bug deep inside")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "p.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path, "JPEG")
    return path


def test_a_bug_on_one_file_says_how_to_see_the_traceback(
    photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(Engines, "render", boom)
    assert main(["generate", str(photo), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: a bug deep inside); run with --verbose" in err
    assert "Traceback" not in err
    assert main(["--verbose", "generate", str(photo), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "in boom" in err


def test_a_bug_in_a_command_exits_70_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from paqshot_server.cli import doctor

    monkeypatch.setattr(doctor, "run_checks", boom)
    assert main(["doctor", "--home", str(tmp_path / "h")]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (RuntimeError: a bug deep inside)" in err
    assert main(["--verbose", "doctor", "--home", str(tmp_path / "h")]) == 70
    assert "Traceback (most recent call last)" in capsys.readouterr().err
