"""Local input files checked before they are read (breaker14 B14-4; ``cli.common.read_bounded``). The kind: a
local input read whole before its size was checked: a catalogue row's image ``/dev/zero`` took 6.4 GB in 12 s, a
named pipe would wait for ever. Should: anything but a regular file refused, a file over the limit refused from
its size, at most limit + 1 bytes read."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = str(Path(sys.executable).parent / "paqshot")
LIMIT = 10 * 1024 * 1024  # the default max_image_bytes


def inputs(folder: Path) -> dict[str, Path]:
    """A character device, a named pipe nobody writes, and a 300 MB sparse file (no disk used)."""
    fifo = folder / "pipe.jpg"
    os.mkfifo(fifo)
    big = folder / "big.jpg"
    with big.open("wb") as fh:
        fh.truncate(300_000_000)
    return {"device": Path("/dev/null"), "pipe": fifo, "big": big}


def test_devices_pipes_and_oversized_files_are_refused_before_reading(tmp_path: Path) -> None:
    from paqshot_server.cli.common import read_bounded
    from paqshot_server.errors import ImageTooLarge, InvalidRequest

    given = inputs(tmp_path)
    for name in ("device", "pipe"):
        with pytest.raises(InvalidRequest, match="not a regular file"):
            read_bounded(given[name], LIMIT, "image file")
    with pytest.raises(ImageTooLarge, match=r"big\.jpg is 300\.0 MB; the limit is 10 MB"):
        read_bounded(given["big"], LIMIT, "image file")
    with pytest.raises(IsADirectoryError):
        read_bounded(tmp_path, LIMIT, "image file")
    (tmp_path / "ok.jpg").write_bytes(b"x" * LIMIT)
    assert len(read_bounded(tmp_path / "ok.jpg", LIMIT, "image file")) == LIMIT  # the limit itself is taken


def test_a_catalogue_refuses_them_row_by_row(tmp_path: Path) -> None:
    given = inputs(tmp_path)
    manifest = tmp_path / "m.csv"
    manifest.write_text("sku,image\n" + "".join(f"{name},{path}\n" for name, path in given.items()))
    out = tmp_path / "out"
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [BIN, "generate", "--manifest", str(manifest), "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # before the fix the pipe's row waited for ever
    )
    assert done.returncode == 1, done.stderr
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        errors = {row["sku"]: row["error"] for row in csv.DictReader(fh)}
    assert "not a regular file" in errors["device"] and "not a regular file" in errors["pipe"], errors
    assert "big.jpg is 300.0 MB; the limit is 10 MB" in errors["big"], errors


def run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(home)}
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_plate_and_a_manifest_are_checked_before_they_are_read(tmp_path: Path) -> None:
    """breaker15 B15-2, the same kind on the inputs B14-4's fix missed: ``backdrops add /dev/zero`` read 8.75 GB in
    12 s and a named pipe waited for ever; a manifest was read whole too."""
    given = inputs(tmp_path)
    for name in ("pipe", "device"):
        added = run(["backdrops", "add", str(given[name])], tmp_path / "home")
        assert added.returncode == 1 and "plate image is not a regular file" in added.stderr, added.stderr
        listed = run(["generate", "--manifest", str(given[name]), "-o", str(tmp_path / "out")], tmp_path / "home")
        assert listed.returncode == 2 and "manifest is not a regular file" in listed.stderr, listed.stderr
    added = run(["backdrops", "add", str(given["big"])], tmp_path / "home")
    assert added.returncode == 1 and "big.jpg is 300.0 MB; the limit is 10 MB" in added.stderr, added.stderr
