"""A catalogue SKU as an output file name: the same lines as the command's ``cli/skunames.py`` in the server package
(the rule is written there and in docs/presets.md, "Catalogues"), repeated because the desktop must not import the
server; ``tests/desktop/test_desktop_catalogue.py`` checks that the two files' code is the same.
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
