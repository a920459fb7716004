"""A catalogue SKU as an output file name (docs/presets.md, "Catalogues"; the desktop repeats these lines in
``paqshot_desktop/catalogue.py``, as it must not import the server, and a test checks that both agree).

Letters, marks and digits of every script are kept (NFC), with ``.``, ``_`` and ``-``; anything else (separators,
Windows' reserved ``<>:"/\\|?*``, control and format characters, spaces) becomes ``_``; a leading dot (hidden
files, ``..``) too, and a Windows device name (``CON``, ``COM1``…) gets a ``_`` in front. A name that is not the SKU
itself (a character replaced, the SKU not in NFC, or cut to :data:`MAX_STEM_BYTES`) ends in ``-`` and 8 hex digits
of the SKU's SHA-256, so two SKUs never share a name (breaker11 B11-14: ``イ`` and ``ロ`` both became ``_``); nor do two
that differ only in case, which Windows and macOS file systems take for one name (:class:`OutputNames`).
"""

from __future__ import annotations

import hashlib
import unicodedata

# Under Linux's and macOS's 255-byte name limit with the suffix (9) and the longest extension (".webp").
MAX_STEM_BYTES = 200
_KEPT_CATEGORIES = ("L", "M", "N")  # Unicode letters, combining marks (Devanagari, Thai…), digits
_KEPT = frozenset("._-")
_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)


def output_name(sku: str) -> str:
    """The file name stem of ``sku`` (the rule: the module's docstring). Depends on ``sku`` alone."""
    text = unicodedata.normalize("NFC", sku)
    stem = "".join(c if c in _KEPT or unicodedata.category(c)[0] in _KEPT_CATEGORIES else "_" for c in text)
    if stem.startswith("."):
        stem = "_" + stem[1:]
    if stem.split(".", 1)[0].upper() in _DEVICES:
        stem = "_" + stem
    stem = stem.encode()[:MAX_STEM_BYTES].decode(errors="ignore")  # whole characters only
    return stem if stem == sku else _suffixed(stem, sku)


class OutputNames:
    """The names one catalogue's rows take, in order."""

    def __init__(self) -> None:
        self._skus: set[str] = set()
        self._names: set[str] = set()  # casefolded: Windows and macOS take names differing in case for one

    def claim(self, sku: str) -> str:
        """:func:`output_name` of ``sku``, with the SKU's hash added when an earlier row's name differs from it only
        in case.

        Raises:
            ValueError: an earlier row has the same SKU.
        """
        if sku in self._skus:
            raise ValueError(f"sku {sku!r} appears twice.")
        name = output_name(sku)
        if name.casefold() in self._names:
            name = _suffixed(name.removesuffix(_suffix(sku)), sku)
        if name.casefold() in self._names:  # two SKUs' hashes alike in 32 bits: a name is never shared
            raise ValueError(f"sku {sku!r} and an earlier one share the file name {name!r}.")
        self._skus.add(sku)
        self._names.add(name.casefold())
        return name


def _suffix(sku: str) -> str:
    return "-" + hashlib.sha256(sku.encode()).hexdigest()[:8]


def _suffixed(stem: str, sku: str) -> str:
    return stem + _suffix(sku)
