"""Font facts the brand validator needs without Qt: the family names a font file declares, and the families
fontconfig knows on this machine.

The family names come from the OpenType ``name`` table (name IDs 1 "Font Family" and 16 "Typographic Family";
OpenType spec, chapter "name — Naming Table"). Read here in a few lines rather than through fontTools so that the
validator keeps no dependency beyond the standard library, like its PNG reader.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

_SFNT_VERSIONS = (b"\x00\x01\x00\x00", b"OTTO", b"true")  # TrueType outlines, CFF outlines, Apple TrueType
_FAMILY_NAME_IDS = (1, 16)


def font_families(data: bytes) -> set[str]:
    """The family names (IDs 1 and 16) a TrueType/OpenType file declares, e.g. ``{"League Spartan"}``.

    Raises:
        ValueError: not a single TrueType/OpenType font (a collection, WOFF or another file), or a damaged one.
    """
    if data[:4] not in _SFNT_VERSIONS:
        raise ValueError("not a TrueType or OpenType font")
    try:
        (tables,) = struct.unpack_from(">H", data, 4)
        for i in range(tables):
            tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            if tag == b"name":
                break
        else:
            raise ValueError("the font has no name table")
        _format, count, strings = struct.unpack_from(">HHH", data, offset)
        names = set()
        for j in range(count):
            platform, encoding, _language, name_id, size, start = struct.unpack_from(">6H", data, offset + 6 + 12 * j)
            raw = data[offset + strings + start : offset + strings + start + size]
            if name_id not in _FAMILY_NAME_IDS or len(raw) != size:
                continue
            if platform in (0, 3):  # Unicode and Windows names are UTF-16BE
                names.add(raw.decode("utf-16-be", errors="replace").strip())
            elif platform == 1 and encoding == 0:  # Macintosh Roman
                names.add(raw.decode("mac_roman").strip())
    except struct.error as exc:
        raise ValueError("the font file is truncated") from exc
    names.discard("")
    if not names:
        raise ValueError("the font declares no family name")
    return names


def installed_font_families() -> set[str] | None:
    """Lower-case family names fontconfig knows here, or None where fontconfig (``fc-list``) is absent."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return {name.strip().lower() for line in listed.stdout.splitlines() for name in line.split(",") if name.strip()}
