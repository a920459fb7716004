"""Trim a PyInstaller analysis of the desktop app: Qt parts a desktop window never loads, and the libraries only
they needed (used by the generated spec file; no PyInstaller import here, so it is testable on its own).

PyInstaller's Qt hooks collect every plugin of a plugin family (all platform plugins, all platform themes) and every
library those plugins link. A desktop app needs the xcb and wayland platforms (offscreen and minimal for tests and
headless runs), not the embedded-Linux ones (eglfs, linuxfb, vnc, Vulkan display), and not the GTK platform theme:
that one drags the build machine's GTK stack (cairo, pango, atk, glib) into the bundle, where it would mix with the
user's own GTK at run time. Qt's own translations only translate Qt's standard dialogs; the app is not translated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from pathlib import PurePosixPath

# (destination name, source path, PyInstaller type code), as in PyInstaller's TOC lists.
Entry = tuple[str, str, str]

DROP_PATTERNS: tuple[str, ...] = (
    "PySide6/Qt/translations/*",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
)


def dropped(dest: str, patterns: Iterable[str] = DROP_PATTERNS) -> bool:
    """Whether a bundle path matches one of the patterns."""
    posix = PurePosixPath(dest).as_posix()
    return any(fnmatch(posix, pattern) for pattern in patterns)


def _is_root(entry: Entry) -> bool:
    """Binaries loaded by something other than the dynamic linker: Python extensions, Qt plugins, libpython."""
    dest, _, kind = entry
    name = PurePosixPath(dest).name
    return kind == "EXTENSION" or "/plugins/" in PurePosixPath(dest).as_posix() or name.startswith("libpython")


def prune(
    binaries: list[Entry], datas: list[Entry], imports_of: Callable[[str], Iterable[str]]
) -> tuple[list[Entry], list[Entry], list[str]]:
    """Drop the unwanted entries and every shared library no remaining binary links (transitively).

    ``imports_of(source_path)`` gives the names (base names) a binary links. Symbolic links survive when their
    target's name survives. Returns the kept binaries, the kept data files and the destinations removed.
    """
    kept_datas = [d for d in datas if not dropped(d[0])]
    candidates = [b for b in binaries if not dropped(b[0])]
    by_name: dict[str, list[Entry]] = {}
    alias: dict[str, str] = {}  # symbolic link name -> its target's name
    for entry in candidates:
        name = PurePosixPath(entry[0]).name
        if entry[2] == "SYMLINK":
            alias[name] = PurePosixPath(entry[1]).name
        else:
            by_name.setdefault(name, []).append(entry)
    queue = [e for e in candidates if e[2] != "SYMLINK" and _is_root(e)]
    reachable = {PurePosixPath(e[0]).name for e in queue}
    while queue:
        entry = queue.pop()
        for needed in imports_of(entry[1]):
            name = alias.get(PurePosixPath(needed).name, PurePosixPath(needed).name)
            if name in by_name and name not in reachable:
                reachable.add(name)
                queue.extend(by_name[name])
    kept = [
        b
        for b in candidates
        if (alias[PurePosixPath(b[0]).name] if b[2] == "SYMLINK" else PurePosixPath(b[0]).name) in reachable
    ]
    removed = sorted({d[0] for d in binaries + datas} - {k[0] for k in kept + kept_datas})
    return kept, kept_datas, removed
