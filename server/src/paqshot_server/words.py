"""How a count is written in the appliance's messages: "1 generation", "3 generations", never "generation(s)" nor
"1 generations". Imports nothing, so any unit may use it (the desktop writes the same rule in its
``labels.counted``: it must not import the server)."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str = "") -> str:
    """``count`` and its noun, singular for exactly one: ``counted(1, "day")`` -> "1 day", ``counted(0, "day")``
    -> "0 days"; ``plural`` for a noun that does not take an s (``counted(2, "attempt was", "attempts were")``)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
