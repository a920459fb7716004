"""Start-up stays light: the window does not wait for the HTTP stack (timings live in bench/)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from paqshot_desktop.app import parse_args


def test_building_the_window_does_not_import_httpx() -> None:
    # httpx drags in its CLI's dependencies (~0.6 s); it is imported on a worker at first connection.
    code = (
        "import sys\n"
        "from paqshot_desktop.app import build\n"
        "from paqshot_desktop.branding import default_brand\n"
        "import tempfile, pathlib\n"
        "app = build(default_brand(), settings_path=pathlib.Path(tempfile.mkdtemp()) / 's.ini')\n"
        "app.window.show()\n"
        "print('httpx' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_command_line_options() -> None:
    args = parse_args(["--brand", "packaging/brands/noir", "--no-restore"])
    assert str(args.brand) == "packaging/brands/noir" and args.no_restore
    with pytest.raises(SystemExit):
        parse_args(["--bogus"])


def test_a_broken_brand_file_exits_with_a_message(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from paqshot_desktop.app import main

    (tmp_path / "brand.toml").write_text('[colors]\naccent = "nope"\n')
    assert main(["--brand", str(tmp_path)]) == 2
    assert "colors.accent must be #RRGGBB" in capsys.readouterr().err
