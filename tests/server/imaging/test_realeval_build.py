"""The real-photo evaluation set is pinned (``bench/realeval_sources.toml``) and rebuilt byte for byte
(``bench/realeval_build.py``): the manifest names the labelled photos, a build checks every digest and two builds
give identical files."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tomllib
from pathlib import Path

import make_composites
import numpy as np
import pytest
import realeval_build as rb
import realset
from PIL import Image

BENCH = Path(__file__).resolve().parents[3] / "bench"


def test_manifest_pins_the_labelled_set() -> None:
    sources = rb.load_manifest()
    roles = {r: sorted(s.name for s in sources if s.role == r) for r in rb.ROLES}
    assert (len(roles["cutout"]), len(roles["photo"]), len(roles["backdrop"])) == (18, 27, 4)
    assert len(roles["large"]) >= 8 and roles["large_alpha"] == []  # no reference matte found yet (session 15)
    labels = tomllib.loads((BENCH / "real_labels.toml").read_text(encoding="utf-8"))
    # The photos and every composite the build makes keep the names the by-eye labels use.
    assert [n for n in roles["photo"] if n not in labels] == []
    planned = make_composites.plan([Path(n) for n in roles["cutout"]], [Path(n) for n in roles["backdrop"]], 2)
    assert [p.name for p in planned if f"{p.name}.jpg" not in labels] == []
    families = [p.family for p in planned]
    assert {f: families.count(f) for f in set(families)} == {
        "paper": 5,
        "wall_table": 5,
        "sweep": 5,
        "dark": 5,
        "photo": 16,
    }
    assert all(s.licence and s.family for s in sources)


def _png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG")
    return buf.getvalue()


def _git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def source_repo(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A small git repository standing in for a public one: two RGBA cut-outs, a backdrop photo, a photo and a
    large photo (3,600 x 1,800) with its matte."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    rng = np.random.default_rng(1)
    files: dict[str, bytes] = {}
    for k, name in enumerate(("ex/bottle.png", "ex/mug.png")):
        rgba = np.zeros((60, 50, 4), np.uint8)
        rgba[10 + k : 55, 12:38, :3] = (200, 40 + 60 * k, 30)
        rgba[10 + k : 55, 12:38, 3] = 255
        rgba[10 + k : 55, 11, 3] = 128  # a soft edge
        files[name] = _png(rgba)
    files["ex/floor.png"] = _png(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    big = Image.fromarray(rng.integers(0, 255, (1000, 1200, 3), dtype=np.uint8))
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=95)
    files["ex/photo.jpeg"] = buf.getvalue()
    ramp = np.linspace(0, 255, 3600, dtype=np.float32)[None, :, None] * np.ones((1800, 1, 3), np.float32)
    buf = io.BytesIO()
    Image.fromarray(ramp.astype(np.uint8)).save(buf, "JPEG", quality=90)
    files["ex/large.jpg"] = buf.getvalue()
    matte = np.zeros((1800, 3600), np.uint8)
    matte[300:1500, 900:2700] = 255  # the object: rows 300-1499, columns 900-2699
    files["ex/large_gt.png"] = _png(matte)
    repo = tmp_path / "owner+name" / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    for name, data in files.items():
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_bytes(data)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "files")
    return repo, files


def _sources(repo: Path, files: dict[str, bytes]) -> list[rb.Source]:
    commit = _git(repo, "rev-parse", "HEAD")
    names = {
        "ex/bottle.png": ("t_bottle.png", "cutout"),
        "ex/mug.png": ("t_mug.png", "cutout"),
        "ex/floor.png": ("bd_floor.png", "backdrop"),
        "ex/photo.jpeg": ("t_photo.jpg", "photo"),
        "ex/large.jpg": ("t_large.jpg", "large"),
        "ex/large_gt.png": ("t_large.alpha_gt.png", "large_alpha"),
    }
    return [
        rb.Source(name, role, "test", "owner/name", commit, path, hashlib.sha256(files[path]).hexdigest(), "MIT")
        for path, (name, role) in names.items()
    ]


def test_two_builds_are_byte_identical_and_read_as_the_set(
    source_repo: tuple[Path, dict[str, bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(make_composites, "SIZE", (240, 180))  # small composites: the same code, faster
    repo, files = source_repo
    sources = _sources(repo, files)
    read = rb.git_reader([repo.parents[1]], {})  # found as owner+name/repo under the mirrors folder
    first = rb.build(sources, read, tmp_path / "a", seed=0)
    second = rb.build(sources, read, tmp_path / "b", seed=0)
    assert first == second
    assert (tmp_path / "a" / "LARGE.tsv").read_text().count("large/") == 3  # photo, matte, SOURCES
    listing = (tmp_path / "a" / "BUILD.tsv").read_text().splitlines()
    assert len(listing) == 2 * 2 * 3 + 1 + 1 + 1  # 4 composites x (jpg, alpha, colours) + SOURCES + photo + SOURCES
    for line in listing:
        rel = line.split("\t")[0]
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    # another seed gives other composites (the seed reaches make_composites); a rebuild replaces the folder
    assert rb.build(sources, read, tmp_path / "a", seed=1) != first
    assert rb.build(sources, read, tmp_path / "a", seed=0) == first
    photos = realset.load(None, [tmp_path / "a" / "comp", tmp_path / "a" / "photos"])
    by_name = {p.name: p for p in photos}
    assert sorted(by_name) == [  # the kinds dealt out in turn: paper, wall + table, sweep, dark, the floor photo
        "comp_t_bottle_paper0.jpg",
        "comp_t_bottle_wall_table1.jpg",
        "comp_t_mug_dark1.jpg",
        "comp_t_mug_sweep0.jpg",
        "t_photo.jpg",
    ]
    assert by_name["t_photo.jpg"].reference_path is None
    with Image.open(by_name["t_photo.jpg"].path) as img:
        assert img.size == (800, 667)  # at most 800 px on the long side, like the handed cases
    assert "owner/name@" in by_name["t_photo.jpg"].source
    comp = by_name["comp_t_mug_sweep0.jpg"]
    assert comp.reference() is not None and comp.family == "sweep"
    (large,) = realset.load(None, [tmp_path / "a" / "large"])
    assert large.name == "t_large.jpg" and large.family == "test" and "owner/name@" in large.source
    with Image.open(large.path) as img:
        assert img.size == (3000, 1500)  # capped at 3,000 px on the long side, not at the 800 of photos/
    ref = large.reference()
    assert ref is not None and ref.shape == (1500, 3000)
    # the matte was scaled with its photo: the object is rows 250-1249, columns 750-2249 at 5/6 of the size
    # (10 px kept clear of the edge, where Lanczos rings)
    assert ref[260:1240, 760:2240].min() > 0.99 and ref[:240].max() < 0.01 and ref[:, :740].max() < 0.01


def test_a_large_photo_matte_must_fit_its_photo(source_repo: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    repo, files = source_repo
    sources = _sources(repo, files)
    read = rb.git_reader([], {"owner/name": repo})
    wrong = [
        rb.Source(**{**s.__dict__, "path": "ex/floor.png", "sha256": hashlib.sha256(files["ex/floor.png"]).hexdigest()})
        if s.role == "large_alpha"
        else s
        for s in sources
    ]
    with pytest.raises(rb.BuildError, match=r"t_large\.alpha_gt\.png: matte \(120, 90\) is not the size"):
        rb.build(wrong, read, tmp_path / "out")
    manifest = tmp_path / "m.toml"
    orphan = "\n".join(f'{k} = "{v}"' for k, v in {**sources[-1].__dict__, "name": "other.alpha_gt.png"}.items())
    manifest.write_text(f"[[file]]\n{orphan}\n", encoding="utf-8")
    with pytest.raises(rb.BuildError, match="without a large photo"):
        rb.load_manifest(manifest)


def test_a_wrong_digest_or_a_foreign_folder_stops_the_build(
    source_repo: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    repo, files = source_repo
    sources = _sources(repo, files)
    read = rb.git_reader([], {"owner/name": repo})
    bad = [rb.Source(**{**s.__dict__, "sha256": "0" * 64}) if s.name == "t_photo.jpg" else s for s in sources]
    with pytest.raises(rb.BuildError, match=r"t_photo\.jpg"):
        rb.build(bad, read, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written before every digest is checked
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("not ours")
    with pytest.raises(rb.BuildError, match=r"BUILD\.tsv"):
        rb.build(sources, read, foreign)
    assert (foreign / "keep.txt").read_text() == "not ours"
    missing = [rb.Source(**{**sources[0].__dict__, "path": "ex/none.png"})]
    with pytest.raises(rb.BuildError, match="not in"):
        rb.build(missing, read, tmp_path / "out2")
