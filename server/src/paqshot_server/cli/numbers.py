"""Number options of the commands: finite, within bounds, refused by argparse in words (exit 2).

Breaker17 B17-3 (B16-10's kind on the command line): ``keys create --quota 99999999999999999999`` exited 70
"internal error (OverflowError)", ``--quota -7 --rate-limit -5`` were stored, ``--rate-limit 0`` silently became 60,
and ``keys rotate-secret --grace-hours 1e300`` exited 70 while ``-5`` and ``nan`` were taken. Every number option is
a :class:`Bounded` (``tests/server/test_cli_numbers.py`` walks the parser: a plain ``int`` or ``float`` option fails
it), except the request fields of ``generate``, which the API's own request schema bounds.
"""

from __future__ import annotations

import argparse
import math

from ..settings import declared


class Bounded:
    """An argparse ``type``: a finite ``kind`` (int or float) from ``low`` to ``high`` inclusive.

    Raises ``argparse.ArgumentTypeError`` (argparse prints "argument --x: must be …" and exits 2) for text that is
    not such a number: ``nan``, ``inf``, ``1e300`` for a whole number, anything outside the bounds."""

    def __init__(self, kind: type[int] | type[float], low: float, high: float) -> None:
        self.kind, self.low, self.high = kind, low, high

    @classmethod
    def setting(cls, name: str) -> Bounded:
        """The bounds of the setting ``name`` (``settings.declared``): an option that overrides it takes what it
        takes."""
        setting = declared(name)
        assert setting.minimum is not None and setting.maximum is not None, name
        return cls(setting.type, setting.minimum, setting.maximum)

    @property
    def words(self) -> str:
        if self.kind is int:
            return f"a whole number from {int(self.low):,} to {int(self.high):,}"
        return f"a number from {self.low:g} to {self.high:g}"

    def __call__(self, text: str) -> int | float:
        try:
            number = self.kind(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {self.words}, not {text!r}") from None
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise argparse.ArgumentTypeError(f"must be {self.words}, not {text!r}")
        return number

    def __repr__(self) -> str:  # argparse names the type in some messages
        return f"Bounded({self.words})"
