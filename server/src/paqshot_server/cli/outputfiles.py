"""Where a local run (``generate``, a catalogue) may write its outputs: never over a file it did not make.

Breaker17 B17-5: ``generate photos/*.jpg -o photos`` replaced every photo by its packshot, two inputs ``a/x.jpg`` and
``b/x.png`` were both written to ``OUT/x.jpg`` (one result lost), and a catalogue row whose SKU was its photo's
name replaced the photo, all with exit 0. The rule (README, "Command line"; docs/presets.md, "Catalogues"):

- an input of the run is never replaced, not even with ``--overwrite``;
- a file this run wrote is never replaced by another of its outputs (names that would collide are made distinct
  beforehand by :func:`distinct_stems`; this catches what is left, e.g. an input named like another's variant);
- any other file already there is replaced only with ``--overwrite``, or when the catalogue's resume journal
  names it as an output of that catalogue (``ours``): a re-run replaces its own results, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path


class OutputTaken(OSError):
    """An output name that must not be written; the message says which file, why and what to do.

    An ``OSError`` raised with one sentence, so the commands' ``os_error_words`` prints it as it is."""


class OutputGuard:
    """The outputs one run writes into ``folder``.

    Args:
        folder: the output folder (exists).
        inputs: the run's local input files (any form of their paths; compared resolved).
        overwrite: ``--overwrite`` was given: files already there may be replaced (never an input).
        ours: names in ``folder`` the run may replace without ``--overwrite`` (a catalogue's earlier outputs).
    """

    def __init__(self, folder: Path, inputs: Iterable[Path], *, overwrite: bool, ours: Iterable[str] = ()) -> None:
        self.folder = folder
        self._inputs = {_key(path) for path in inputs}
        self._overwrite = overwrite
        self._ours = {_key(folder / name) for name in ours if name}
        self._written: set[Path] = set()

    def check(self, names: Sequence[str]) -> None:
        """Refuse before anything of one result is written.

        Raises:
            OutputTaken: a name is an input, was written earlier in this run, or is an existing file neither
                ``ours`` nor allowed by ``overwrite``.
        """
        for name in names:
            target = self.folder / name
            key = _key(target)
            if key in self._inputs:
                raise OutputTaken(
                    f"not written: {target} is an input of this run and is never replaced; choose another output "
                    "folder (-o)"
                )
            if key in self._written:
                raise OutputTaken(
                    f"not written: {target} was written earlier in this run for another input; rename one of them"
                )
            if target.exists() and not self._overwrite and key not in self._ours:
                raise OutputTaken(
                    f"not written: {target} already exists and this run did not make it; pass --overwrite to "
                    "replace it, or choose another output folder (-o)"
                )

    def write(self, name: str, data: bytes) -> Path:
        """Write ``data`` as ``folder/name`` (call :meth:`check` first for all the result's names); its path.

        Raises:
            OutputTaken: as :meth:`check` (a file that appeared since is not replaced either).
            OSError: the file cannot be written.
        """
        self.check([name])
        target = self.folder / name
        replace = self._overwrite or _key(target) in self._ours
        try:
            with target.open("wb" if replace else "xb") as fh:  # "xb": a file made meanwhile is not replaced
                fh.write(data)
        except FileExistsError:
            self.check([name])  # it appeared between the check and the write: the same words
            raise
        self._written.add(_key(target))
        return target


def distinct_stems(paths: Sequence[Path]) -> list[str]:
    """Output stems for ``paths``, in order: each file's stem, or ``stem-2``, ``stem-3``… when an earlier input
    took it (compared case-folded: Windows and macOS file systems take ``X`` and ``x`` for one name)."""
    taken: set[str] = set()
    stems = []
    for path in paths:
        stem, n = path.stem, 1
        while stem.casefold() in taken:
            n += 1
            stem = f"{path.stem}-{n}"
        taken.add(stem.casefold())
        stems.append(stem)
    return stems


def _key(path: Path) -> Path:
    """``path`` resolved (symlinks, ``..``): two spellings of one file compare equal."""
    return Path(path).expanduser().resolve()
