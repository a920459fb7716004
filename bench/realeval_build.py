"""Rebuild the real-photo evaluation set of ``eval_real.py`` from pinned public files.

    .venv/bin/python bench/realeval_build.py --mirrors /work/.mirror --out /work/team/realeval
    .venv/bin/python bench/realeval_build.py --git-dir TencentARC/InstantMesh=/path/InstantMesh.git ... --out DIR

``bench/realeval_sources.toml`` names every file of the set: repository, commit, path, sha256, the repository's
licence, its role and family. The files are read out of local git directories of those repositories (bare
snapshots or clones: ``--mirrors`` is a folder holding them as ``owner+name/repo``, ``owner+name[.git]``,
``owner/name[.git]`` or ``name[.git]``; ``--git-dir OWNER/NAME=PATH`` names one directly) at the pinned commit,
and each one's sha256 is checked before anything is written. Nothing is downloaded here.

The output (outside the repository; the data is never committed):

- ``photos/``: the photos without a reference matte, downscaled the way the handed cases were (at most 800 px on
  the long side, Lanczos, JPEG quality 92: this reproduces the handed ``fork_10.jpg``, ``car_3.jpg`` and
  ``bike.jpg`` byte for byte from their sources), with ``SOURCES.tsv`` (``file, origin, licence, family``);
- ``comp/``: the composites with exact reference mattes, made by ``make_composites.py`` (fixed ``--seed``) from
  the cut-outs on the synthetic backdrops and the backdrop photos, with its ``SOURCES.tsv``;
- ``large/``: photos at the size customers send (role ``large``: upright, at most 3,000 px on the long side,
  Lanczos, JPEG 92; the model-input resize and the clean-up grid only change anything above the 800 px of
  ``photos/``), each with its reference matte as ``NAME.alpha_gt.png`` when one is pinned (role ``large_alpha``,
  named ``NAME.alpha_gt.png`` after its photo ``NAME.jpg``, same size as the photo, resized with it), and
  ``SOURCES.tsv``;
- ``src/cutouts``, ``src/backdrops``: the pinned inputs of the composites as fetched (not read by ``realset``);
- ``BUILD.tsv``: the sha256 of every file of ``comp/`` and ``photos/``; its own digest is printed as the set's
  digest, so two builds (other machine, other day) can be compared with one line. ``LARGE.tsv`` does the same for
  ``large/`` (printed as the large set's digest), so adding large photos leaves the set's digest as it was.

Then ``eval_real.py --extra OUT/comp --extra OUT/photos`` (and ``--extra OUT/large``). A folder that exists
without a ``BUILD.tsv`` is never overwritten; one made by this script is replaced whole.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_composites

MANIFEST = Path(__file__).resolve().parent / "realeval_sources.toml"
ROLES = ("cutout", "photo", "backdrop", "large", "large_alpha")
PHOTO_LONG_SIDE = 800
# Customers' phone and studio photos are 2,000-4,000 px; 3,000 keeps the bench's decode and clean-up times near
# what the appliance sees without writing 24 MP files (the model sees 320 x 320 either way).
LARGE_LONG_SIDE = 3000
ALPHA_SUFFIX = ".alpha_gt.png"
PHOTO_QUALITY = 92


class BuildError(Exception):
    """A pinned file that cannot be had or does not match its digest, or an output folder not ours."""


@dataclass(frozen=True)
class Source:
    """One pinned file: ``name`` in the built set, ``role`` (one of ``ROLES``), ``family``, where it comes
    from (``repo`` "owner/name", ``commit``, ``path``), its ``sha256`` as stored there and the repository's
    ``licence``."""

    name: str
    role: str
    family: str
    repo: str
    commit: str
    path: str
    sha256: str
    licence: str

    @property
    def origin(self) -> str:
        return f"{self.repo}@{self.commit[:12]}:{self.path}"


def load_manifest(path: Path = MANIFEST) -> list[Source]:
    """The ``[[file]]`` entries of ``path``; raises ``BuildError`` on a missing field, an unknown role, a repeated
    name, a name whose suffix does not fit its role (cut-outs are PNG; photos become JPEG; a large photo's matte is
    ``NAME.alpha_gt.png``) or a matte without its large photo."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    fields = Source.__dataclass_fields__
    sources = []
    for entry in data.get("file", []):
        missing = [f for f in fields if f not in entry]
        if missing:
            raise BuildError(f"{path}: entry {entry.get('name', '?')} lacks {missing}")
        src = Source(**{f: str(entry[f]) for f in fields})
        if src.role not in ROLES:
            raise BuildError(f"{path}: {src.name}: role {src.role!r} is not one of {ROLES}")
        if src.role == "cutout" and not src.name.endswith(".png"):
            raise BuildError(f"{path}: cut-out {src.name} must be named .png")
        if src.role in ("photo", "large") and not src.name.endswith(".jpg"):
            raise BuildError(f"{path}: photo {src.name} must be named .jpg")
        if src.role == "large_alpha" and not src.name.endswith(ALPHA_SUFFIX):
            raise BuildError(f"{path}: matte {src.name} must be named NAME{ALPHA_SUFFIX}")
        if len(src.commit) != 40 or len(src.sha256) != 64:
            raise BuildError(f"{path}: {src.name}: commit must be 40 hex digits and sha256 64")
        sources.append(src)
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BuildError(f"{path}: names used twice: {dupes}")
    large = {s.name for s in sources if s.role == "large"}
    orphans = [s.name for s in sources if s.role == "large_alpha" and _photo_of(s.name) not in large]
    if orphans:
        raise BuildError(f"{path}: mattes without a large photo of that name: {orphans}")
    return sources


def _photo_of(matte_name: str) -> str:
    return matte_name[: -len(ALPHA_SUFFIX)] + ".jpg"


def find_git_dir(repo: str, mirrors: list[Path], explicit: dict[str, Path]) -> Path:
    """The git directory of ``repo`` ("owner/name"): ``explicit[repo]``, else the first of the usual layouts under
    one of ``mirrors`` (a work tree's ``.git`` is taken too)."""
    owner, name = repo.split("/", 1)
    candidates = [explicit[repo]] if repo in explicit else []
    for root in mirrors:
        candidates += [
            root / f"{owner}+{name}" / "repo",
            root / f"{owner}+{name}",
            root / f"{owner}+{name}.git",
            root / owner / name,
            root / owner / f"{name}.git",
            root / name,
            root / f"{name}.git",
        ]
    for cand in candidates:
        if (cand / ".git").is_dir():
            return cand / ".git"
        if (cand / "objects").is_dir() and (cand / "HEAD").is_file():
            return cand
    raise BuildError(f"no git directory for {repo} (looked in: {', '.join(str(c) for c in candidates) or 'nothing'})")


def git_reader(mirrors: list[Path], explicit: dict[str, Path]) -> Callable[[Source], bytes]:
    """A function that reads a source's blob at its pinned commit out of its repository's git directory."""

    def read(src: Source) -> bytes:
        git_dir = find_git_dir(src.repo, mirrors, explicit)
        proc = subprocess.run(
            ["git", "--git-dir", str(git_dir), "cat-file", "blob", f"{src.commit}:{src.path}"],
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            why = proc.stderr.decode(errors="replace").strip()
            raise BuildError(f"{src.name}: {src.origin} not in {git_dir}: {why}")
        return proc.stdout

    return read


def fetch_checked(sources: list[Source], read: Callable[[Source], bytes]) -> dict[str, bytes]:
    """Every source's bytes by name, each checked against its sha256 (``BuildError`` naming every mismatch)."""
    out: dict[str, bytes] = {}
    bad = []
    for src in sources:
        data = read(src)
        digest = hashlib.sha256(data).hexdigest()
        if digest != src.sha256:
            bad.append(f"{src.name} ({src.origin}): sha256 {digest}, pinned {src.sha256}")
        out[src.name] = data
    if bad:
        raise BuildError("digest mismatch:\n  " + "\n  ".join(bad))
    return out


def _capped(img: Image.Image, long_side: int) -> Image.Image:
    k = long_side / max(img.size)
    if k >= 1:
        return img
    return img.resize((round(img.width * k), round(img.height * k)), Image.Resampling.LANCZOS)


def prepare_photo(data: bytes, long_side: int = PHOTO_LONG_SIDE) -> bytes:
    """A photo as the handed cases were made: upright, RGB, at most ``long_side`` px on the long side (Lanczos),
    JPEG 92."""
    img = _capped(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"), long_side)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=PHOTO_QUALITY)
    return buf.getvalue()


def prepare_matte(data: bytes, photo: bytes, name: str) -> bytes:
    """A large photo's reference matte (8-bit grey PNG) at the size ``prepare_photo(photo, LARGE_LONG_SIDE)``
    writes, resized the same way (Lanczos); ``BuildError`` when it is not the photo's size (upright)."""
    matte = Image.open(io.BytesIO(data)).convert("L")
    size = ImageOps.exif_transpose(Image.open(io.BytesIO(photo))).size
    if matte.size != size:
        raise BuildError(f"{name}: matte {matte.size} is not the size of its photo {size}")
    buf = io.BytesIO()
    _capped(matte, LARGE_LONG_SIDE).save(buf, "PNG")
    return buf.getvalue()


def _write_tsv(path: Path, rows: list[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write("\t".join(row) + "\n")


def _claim(out: Path) -> None:
    """Make ``out`` ours to write: absent, empty, or an earlier build (its parts are removed)."""
    if out.exists() and any(out.iterdir()):
        if not (out / "BUILD.tsv").is_file():
            raise BuildError(f"{out} holds files but no BUILD.tsv: not a folder this script made; choose another")
        for part in ("comp", "photos", "large", "src", "BUILD.tsv", "LARGE.tsv"):
            target = out / part
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _listing(out: Path, folders: tuple[Path, ...], tsv: Path) -> str:
    """Write the sha256 of every file under ``folders`` into ``tsv``; returns the sha256 of ``tsv``."""
    rows: list[tuple[str, ...]] = [
        (str(p.relative_to(out)), hashlib.sha256(p.read_bytes()).hexdigest())
        for folder in folders
        if folder.is_dir()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]
    _write_tsv(tsv, rows)
    return hashlib.sha256(tsv.read_bytes()).hexdigest()


def build(sources: list[Source], read: Callable[[Source], bytes], out: Path, seed: int = 0) -> tuple[str, str]:
    """Build the set into ``out`` (see the module's doc); returns the set's digest (sha256 of ``BUILD.tsv``) and
    the large set's (sha256 of ``LARGE.tsv``). Every digest is checked before anything is written."""
    blobs = fetch_checked(sources, read)
    _claim(out)
    cut_dir, back_dir, photo_dir, comp_dir = out / "src/cutouts", out / "src/backdrops", out / "photos", out / "comp"
    large_dir = out / "large"
    for folder in (cut_dir, back_dir, photo_dir, large_dir):
        folder.mkdir(parents=True)
    rows: dict[str, list[tuple[str, ...]]] = {"cutout": [], "backdrop": [], "photo": [], "large": []}
    for src in sorted(sources, key=lambda s: s.name):
        if src.role == "photo":
            (photo_dir / src.name).write_bytes(prepare_photo(blobs[src.name]))
            rows["photo"].append((src.name, src.origin, src.licence, src.family))
        elif src.role == "large":
            (large_dir / src.name).write_bytes(prepare_photo(blobs[src.name], LARGE_LONG_SIDE))
            rows["large"].append((src.name, src.origin, src.licence, src.family))
        elif src.role == "large_alpha":
            matte = prepare_matte(blobs[src.name], blobs[_photo_of(src.name)], src.name)
            (large_dir / src.name).write_bytes(matte)
        else:
            folder = cut_dir if src.role == "cutout" else back_dir
            (folder / src.name).write_bytes(blobs[src.name])
            rows[src.role].append((src.name, f"{src.origin} ({src.licence})"))
    _write_tsv(cut_dir / "SOURCES.tsv", rows["cutout"])
    _write_tsv(back_dir / "SOURCES.tsv", rows["backdrop"])
    _write_tsv(photo_dir / "SOURCES.tsv", rows["photo"])
    _write_tsv(large_dir / "SOURCES.tsv", rows["large"])
    n_cut = len(rows["cutout"])
    if n_cut:
        argv = ["--cutouts", str(cut_dir), "--out", str(comp_dir), "--seed", str(seed)]
        if rows["backdrop"]:
            argv += ["--backdrops", str(back_dir)]
        make_composites.main(argv)
        made = len(list(comp_dir.glob("comp_*.jpg")))
        if made != 2 * n_cut:  # make_composites skips a PNG that is not RGBA
            raise BuildError(f"{made} composites from {n_cut} cut-outs: every cut-out must be an RGBA PNG")
    return _listing(out, (comp_dir, photo_dir), out / "BUILD.tsv"), _listing(out, (large_dir,), out / "LARGE.tsv")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, action="append", default=[], help="folder of git directories")
    parser.add_argument("--git-dir", action="append", default=[], metavar="OWNER/NAME=PATH")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0, help="make_composites' seed (the recorded set: 0)")
    args = parser.parse_args(argv)
    explicit = {}
    for item in args.git_dir:
        repo, _, path = item.partition("=")
        explicit[repo] = Path(path)
    try:
        sources = load_manifest(args.manifest)
        digest, large_digest = build(sources, git_reader(args.mirrors, explicit), args.out, args.seed)
    except BuildError as exc:
        print(f"realeval_build: {exc}", file=sys.stderr)
        return 1
    counts = {r: sum(s.role == r for s in sources) for r in ROLES}
    print(f"{counts} -> {args.out} (comp/, photos/, large/); set digest {digest}; large set digest {large_digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
