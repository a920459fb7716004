"""The real-photo evaluation set: the handed cases plus any local folders of photos and composites.

- ``../shared/cases/photos/<kind>/*.jpg`` (the family is the case's kind; sources are read from the
  README's ``SOURCES:`` line; ``NAME.alpha_gt.png`` beside a photo is its exact reference alpha);
- extra folders given on the command line (photos fetched from public repositories, composites made by
  ``make_composites.py``), each with a ``SOURCES.tsv`` (``file<TAB>origin[<TAB>...<TAB>family]``; the
  family is the folder's name when the line has none). Fetched data stays outside the repository.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RealPhoto:
    """One photo of the set; ``reference`` is the exact alpha (float32 H x W in [0, 1]) when known."""

    name: str
    family: str
    path: Path
    source: str
    reference_path: Path | None
    colours_path: Path | None = None  # the product's own colours (composites): reference for edge colours

    def image(self) -> Image.Image:
        return Image.open(self.path).convert("RGB")

    def reference(self) -> np.ndarray | None:
        if self.reference_path is None:
            return None
        return np.asarray(Image.open(self.reference_path).convert("L"), np.float32) / 255.0

    def colours(self) -> np.ndarray | None:
        if self.colours_path is None:
            return None
        return np.asarray(Image.open(self.colours_path).convert("RGB"))


def cases_dir() -> Path | None:
    """``<repo>/../shared/cases/photos``, falling back to ``/work/shared/cases/photos``; None when absent."""
    for root in (REPO.parent / "shared", Path("/work/shared")):
        if (root / "cases" / "photos").is_dir():
            return root / "cases" / "photos"
    return None


def _readme_sources(readme: Path) -> dict[str, str]:
    """``name = origin`` pairs from a case README's ``SOURCES:`` line."""
    out: dict[str, str] = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("SOURCES:"):
            for part in line[len("SOURCES:") :].split(";"):
                if " = " in part:
                    name, origin = part.split(" = ", 1)
                    out[name.strip()] = origin.strip().replace("`", "")
    return out


def _photos_in(folder: Path, family: str, sources: dict[str, str], families: dict[str, str]) -> list[RealPhoto]:
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png") or "_gt." in path.name or ".alpha" in path.name:
            continue
        ref = path.with_name(f"{path.stem}.alpha_gt.png")
        fg = path.with_name(f"{path.stem}.fg_gt.png")
        out.append(
            RealPhoto(
                name=path.name,
                family=families.get(path.name, family),
                path=path,
                source=sources.get(path.name, "unknown"),
                reference_path=ref if ref.is_file() else None,
                colours_path=fg if fg.is_file() else None,
            )
        )
    return out


def load(cases: Path | None, extra: list[Path]) -> list[RealPhoto]:
    """Every photo of the handed cases (when ``cases`` is given) and of the ``extra`` folders."""
    photos: list[RealPhoto] = []
    if cases is not None:
        for kind in sorted(p for p in cases.iterdir() if p.is_dir()):
            readme = kind / "README.md"
            sources = _readme_sources(readme) if readme.is_file() else {}
            photos += _photos_in(kind, kind.name, sources, {})
    for folder in extra:
        sources: dict[str, str] = {}
        families: dict[str, str] = {}
        tsv = folder / "SOURCES.tsv"
        if tsv.is_file():
            with tsv.open(encoding="utf-8") as fh:
                for row in csv.reader(fh, delimiter="\t"):
                    if len(row) >= 2:
                        sources[row[0]] = " / ".join(row[1:3]) if len(row) > 3 else row[1]
                    if len(row) >= 4:
                        families[row[0]] = row[3]
        photos += _photos_in(folder, folder.name, sources, families)
    names = [p.name for p in photos]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"photo names must be unique across folders: {sorted(dupes)}")
    return photos


def short(name: str) -> str:
    """A short label for tables and contact sheets."""
    return re.sub(r"^(comp_)?(instantmesh_|triposr_|azure_)", r"\1", Path(name).stem)
