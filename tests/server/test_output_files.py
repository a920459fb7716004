"""Local runs never write over a file they did not make (breaker17 B17-5; ``cli.outputfiles``). The kind: output
names that collide with existing files or with each other. ``generate photos/*.jpg -o photos`` replaced every
photo by its packshot; ``a/x.jpg b/x.png`` were both written to ``OUT/x.jpg`` (one result lost); a catalogue row
whose SKU was its photo's name replaced the photo; all with exit 0. Should: an input never replaced, another file
only with ``--overwrite`` (or, for a catalogue, when its journal names it as its own output), names within a run
made distinct."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

from support import product_jpeg

BIN = str(Path(sys.executable).parent / "paqshot")


def paqshot(home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(home), "PAQSHOT_OUTPUT_LONG_SIDE": "512"}
    return subprocess.run([BIN, *map(str, args)], env=env, capture_output=True, text=True, timeout=300)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_generate_never_replaces_its_input_and_refuses_other_files_without_overwrite(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    photo = photos / "shoe.jpg"
    photo.write_bytes(product_jpeg())
    original = digest(photo)
    home = tmp_path / "home"
    fast = ("--cutout-engine", "classical")
    for extra in ((), ("--overwrite",)):  # not even with --overwrite
        into_photos = paqshot(home, "generate", photo, "-o", photos, *fast, *extra)
        assert into_photos.returncode == 1, into_photos.stderr
        assert f"{photo} is an input of this run and is never replaced" in into_photos.stderr
        assert digest(photo) == original and sorted(p.name for p in photos.iterdir()) == ["shoe.jpg"]

    out = tmp_path / "out"
    first = paqshot(home, "generate", photo, "-o", out, *fast)
    assert first.returncode == 0, first.stderr
    made = digest(out / "shoe.jpg")
    (out / "shoe.jpg").write_bytes(b"the user's own file")  # a file the next run did not make
    again = paqshot(home, "generate", photo, "-o", out, *fast)
    assert again.returncode == 1 and "already exists and this run did not make it; pass --overwrite" in again.stderr
    assert (out / "shoe.jpg").read_bytes() == b"the user's own file"
    replaced = paqshot(home, "generate", photo, "-o", out, *fast, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert digest(out / "shoe.jpg") == made


def test_two_inputs_with_one_name_get_two_outputs(tmp_path: Path) -> None:
    a, b = tmp_path / "shop1", tmp_path / "shop2"
    a.mkdir(), b.mkdir()
    (a / "IMG_0001.jpg").write_bytes(product_jpeg())
    (b / "img_0001.png").write_bytes(product_jpeg((480, 640)))  # differs in case: one name on Windows and macOS
    out = tmp_path / "out"
    done = paqshot(
        tmp_path / "home", "generate", a / "IMG_0001.jpg", b / "img_0001.png", "-o", out,
        "--cutout-engine", "classical", "--thumbnails",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "IMG_0001.jpg", "IMG_0001.thumb.jpg", "img_0001-2.jpg", "img_0001-2.thumb.jpg",
    ]  # fmt: skip
    assert digest(out / "IMG_0001.jpg") != digest(out / "img_0001-2.jpg")  # each input's own result


def test_a_catalogue_replaces_its_own_outputs_and_nothing_else(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "shoe.jpg").write_bytes(product_jpeg())
    (photos / "bag.jpg").write_bytes(product_jpeg((600, 400)))
    original = digest(photos / "shoe.jpg")
    manifest = photos / "m.csv"
    manifest.write_text("sku,image\nshoe,shoe.jpg\nbag,bag.jpg\n")
    home = tmp_path / "home"

    into_photos = paqshot(home, "generate", "--manifest", manifest, "-o", photos, "--overwrite")
    assert into_photos.returncode == 1, into_photos.stderr
    with (photos / "summary.csv").open(encoding="utf-8") as fh:
        rows = {row["sku"]: row for row in csv.DictReader(fh)}
    assert rows["shoe"]["status"] == "failed" and "is an input of this run" in rows["shoe"]["error"], rows
    assert rows["bag"]["status"] == "failed" and digest(photos / "shoe.jpg") == original

    out = tmp_path / "out"
    out.mkdir()
    (out / "bag.jpg").write_bytes(b"the user's own file")
    first = paqshot(home, "generate", "--manifest", manifest, "-o", out)
    assert first.returncode == 1 and "bag: failed (not written:" in first.stderr, first.stderr
    assert (out / "bag.jpg").read_bytes() == b"the user's own file" and (out / "shoe.jpg").is_file()
    made = digest(out / "shoe.jpg")
    (photos / "shoe.jpg").write_bytes(product_jpeg((800, 480)))  # a changed photo renders again
    second = paqshot(home, "generate", "--manifest", manifest, "-o", out)
    assert second.returncode == 1 and "shoe: completed" in second.stderr, second.stderr  # its own file replaced
    assert digest(out / "shoe.jpg") != made and (out / "bag.jpg").read_bytes() == b"the user's own file"
    third = paqshot(home, "generate", "--manifest", manifest, "-o", out, "--overwrite")
    assert third.returncode == 0, third.stderr
    assert "shoe: skipped" in third.stderr and "bag: completed" in third.stderr, third.stderr
    assert (out / "bag.jpg").read_bytes()[:2] == b"\xff\xd8"
