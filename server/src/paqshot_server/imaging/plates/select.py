"""Which library plate a scene uses: the request's words against each plate's tags.

Words come from ``location`` and ``prompt`` (the place words), ``scene_type`` and ``style``. A tag matches when
every word of it is among the request's words ("white marble" needs both). A plate's score is the sum of its
matched tags' weights (:data:`WEIGHTS`, by where the word came from; a tag matching several places counts its
best). Eligible plates:

- a request with place words: plates matching at least one place word (a "beach" request never gets a
  kitchen plate because both say "lifestyle");
- a request without: every plate (the key or operator has a library; a photograph beats a drawn set);
- ``scene_type`` action or abstract: only plates tagged with it (the procedural engine draws motion and
  geometric sets; an untagged photograph has neither); and a plate tagged action or abstract serves only
  that kind of scene.

Best score first; at equal scores the key's own plates before the operator's shared ones, then a choice by
the variant's seed (so variants of one request may stand on different equally good plates). No eligible
plate: None, and the scene is drawn as before.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from ..options import RenderOptions
from .plate import PlateInfo

WEIGHTS = {"location": 3.0, "prompt": 2.0, "scene_type": 2.0, "style": 1.0}
PLACE_SOURCES = ("location", "prompt")
REQUIRES_TAG = ("action", "abstract")  # scene types a plate must be tagged with
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script (str patterns are Unicode)


def words(text: str | None) -> set[str]:
    """Lowercase words of ``text``: runs of letters and digits of any script, NFKC-normalised (so a tag typed
    with a composed or a decomposed "ü" is one word); ``product_packshot`` gives product and packshot."""
    return set(_WORD.findall(unicodedata.normalize("NFKC", text or "").lower()))


def request_words(options: RenderOptions) -> dict[str, set[str]]:
    """The request's words by where they came from."""
    scene_type = "" if options.scene_type == "auto" else options.scene_type
    return {
        "location": words(options.location),
        "prompt": words(options.prompt),
        "scene_type": words(scene_type),
        "style": words(options.style),
    }


def score(plate: PlateInfo, asked: dict[str, set[str]]) -> tuple[float, bool]:
    """(score, whether a place word matched) of ``plate`` for the request's words ``asked``."""
    total, place = 0.0, False
    for tag in plate.tags:
        needed = words(tag)
        if not needed:
            continue
        best = 0.0
        for source, weight in WEIGHTS.items():
            if needed <= asked[source]:
                best = max(best, weight)
                place = place or source in PLACE_SOURCES
        total += best
    return total, place


def eligible(plates: Sequence[PlateInfo], options: RenderOptions) -> list[tuple[float, PlateInfo]]:
    """(score, plate) of the plates this request may use, best first (own before shared at equal scores)."""
    asked = request_words(options)
    has_place = bool(asked["location"] | asked["prompt"])
    out = []
    for plate in plates:
        value, place = score(plate, asked)
        kinds = {kind for kind in REQUIRES_TAG for tag in plate.tags if kind in words(tag)}
        if kinds != ({options.scene_type} & set(REQUIRES_TAG)):
            continue
        if has_place and not place:
            continue
        out.append((value, plate))
    out.sort(key=lambda item: (-item[0], item[1].shared))
    return out


def choose(plates: Sequence[PlateInfo], options: RenderOptions, seed: int) -> PlateInfo | None:
    """The plate for one variant (``seed``): among the best-scoring eligible plates (own ones first), one picked
    by the seed; None when no plate is eligible."""
    ranked = eligible(plates, options)
    if not ranked:
        return None
    top_score, top_shared = ranked[0][0], ranked[0][1].shared
    best = [plate for value, plate in ranked if value == top_score and plate.shared == top_shared]
    return best[int(np.random.default_rng(seed ^ 0xBAC).integers(len(best)))]
