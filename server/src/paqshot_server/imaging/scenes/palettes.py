"""Palettes per location: the colours, surface, environment and light a scene is built from.

The six spec presets have a palette each; a few extra palettes (beach, kitchen, bathroom, bedroom, night)
exist so that free-text locations land somewhere sensible. Free text picks the palette whose keywords it
mentions most (ties: the earlier palette); colour words in free text tint the palette.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Everything a location contributes to a scene.

    Attributes:
        name: palette id (a preset location name or one of the extra palettes).
        wall_top, wall_bottom: the backdrop's gradient (sRGB).
        surface: material of the surface the product stands on (see ``textures.MATERIALS``).
        surface_base, surface_detail: the material's two colours (grain/veins/weave over a base).
        accents: colours for props, sets and clothing.
        bokeh: colours of out-of-focus highlights.
        environment: what suggests the place behind the set (``none``, ``window``, ``lights``, ``sky``,
            ``foliage``, ``city``).
        light: colour of the key light (multiplies the set).
        warmth: -1 (cool) .. 1 (warm), for the prompt's light description.
        phrase: how the prompt names the place.
        keywords: words in free-text locations that select this palette.
    """

    name: str
    wall_top: RGB
    wall_bottom: RGB
    surface: str
    surface_base: RGB
    surface_detail: RGB
    accents: tuple[RGB, ...]
    bokeh: tuple[RGB, ...]
    environment: str
    light: RGB
    warmth: float
    phrase: str
    keywords: tuple[str, ...] = ()


PALETTES: dict[str, Palette] = {
    p.name: p
    for p in (
        Palette(
            "studio",
            (214, 211, 205),
            (236, 233, 227),
            "paper",
            (234, 231, 225),
            (222, 219, 212),
            ((196, 188, 176), (150, 160, 168), (220, 206, 190)),
            ((255, 250, 240),),
            "none",
            (255, 252, 246),
            0.1,
            "a professional photo studio with a seamless paper backdrop",
            ("studio", "seamless", "backdrop", "plain", "minimal", "minimalist"),
        ),
        Palette(
            "office",
            (200, 207, 212),
            (226, 228, 226),
            "wood",
            (196, 170, 136),
            (150, 118, 84),
            ((72, 92, 110), (206, 200, 190), (120, 132, 120)),
            ((255, 255, 250), (210, 228, 240)),
            "window",
            (246, 250, 255),
            -0.3,
            "a bright modern office desk by a window",
            ("office", "desk", "workspace", "work", "meeting", "coworking", "business", "laptop", "corporate"),
        ),
        Palette(
            "outdoor",
            (142, 184, 222),
            (230, 222, 204),
            "concrete",
            (188, 182, 172),
            (150, 144, 136),
            ((210, 170, 120), (120, 150, 110), (230, 220, 200)),
            ((255, 244, 214), (255, 255, 240)),
            "sky",
            (255, 244, 222),
            0.5,
            "outdoors on a sunlit stone ledge under an open sky",
            ("outdoor", "outdoors", "outside", "terrace", "balcony", "patio", "sunny", "sky", "summer", "mountain"),
        ),
        Palette(
            "cafe",
            (96, 70, 52),
            (150, 116, 88),
            "wood",
            (138, 94, 60),
            (92, 58, 34),
            ((180, 120, 80), (60, 80, 70), (214, 190, 160)),
            ((255, 196, 120), (255, 226, 170), (255, 170, 90)),
            "lights",
            (255, 226, 186),
            0.9,
            "a cosy cafe table with warm lights in the background",
            ("cafe", "coffee", "restaurant", "bar", "bistro", "bakery", "brunch", "breakfast", "table", "pub"),
        ),
        Palette(
            "urban",
            (70, 78, 96),
            (132, 134, 138),
            "concrete",
            (146, 146, 146),
            (108, 108, 112),
            ((220, 80, 120), (70, 170, 200), (200, 200, 204)),
            ((255, 90, 150), (80, 200, 255), (255, 200, 120)),
            "city",
            (226, 232, 255),
            -0.6,
            "a city street at dusk on raw concrete with neon lights behind",
            ("urban", "city", "street", "downtown", "rooftop", "neon", "metro", "subway", "industrial", "loft"),
        ),
        Palette(
            "nature",
            (110, 140, 96),
            (176, 186, 150),
            "wood",
            (150, 120, 86),
            (104, 78, 52),
            ((96, 130, 80), (200, 180, 140), (150, 110, 70)),
            ((236, 255, 200), (255, 250, 210), (200, 230, 150)),
            "foliage",
            (255, 248, 220),
            0.4,
            "nature, a weathered wooden stump among green foliage in dappled light",
            ("nature", "forest", "garden", "park", "woods", "jungle", "leaves", "plants", "moss", "natural"),
        ),
        Palette(
            "beach",
            (150, 196, 226),
            (236, 226, 204),
            "sand",
            (226, 206, 170),
            (196, 172, 134),
            ((240, 220, 190), (90, 170, 190), (250, 246, 236)),
            ((255, 250, 226), (255, 255, 255)),
            "sky",
            (255, 246, 226),
            0.6,
            "a sunny beach on fine sand with the sea behind",
            ("beach", "sand", "sea", "ocean", "coast", "seaside", "tropical", "island", "pool", "holiday"),
        ),
        Palette(
            "kitchen",
            (220, 218, 212),
            (238, 236, 230),
            "marble",
            (236, 234, 230),
            (150, 150, 156),
            ((170, 150, 120), (110, 130, 120), (230, 226, 216)),
            ((255, 255, 245),),
            "window",
            (255, 250, 240),
            0.2,
            "a clean kitchen counter of white marble",
            ("kitchen", "counter", "cooking", "food", "home", "house", "apartment", "dining"),
        ),
        Palette(
            "bathroom",
            (210, 214, 214),
            (232, 234, 232),
            "marble",
            (232, 232, 230),
            (160, 164, 170),
            ((200, 210, 206), (160, 176, 170), (240, 240, 236)),
            ((255, 255, 255),),
            "window",
            (248, 252, 255),
            -0.1,
            "a calm bathroom shelf of pale marble, spa mood",
            ("bathroom", "bath", "spa", "shower", "vanity", "sink", "wellness", "skincare"),
        ),
        Palette(
            "bedroom",
            (214, 200, 186),
            (232, 222, 210),
            "linen",
            (226, 214, 198),
            (200, 186, 168),
            ((180, 150, 130), (140, 150, 160), (236, 226, 214)),
            ((255, 236, 210), (255, 248, 236)),
            "window",
            (255, 240, 220),
            0.6,
            "a soft bedroom scene on linen sheets in morning light",
            ("bedroom", "bed", "linen", "sheets", "cozy", "cosy", "morning", "pillow", "sofa", "living"),
        ),
        Palette(
            "night",
            (18, 20, 30),
            (48, 46, 56),
            "marble",
            (60, 58, 64),
            (112, 108, 118),
            ((120, 90, 170), (40, 120, 160), (200, 160, 90)),
            ((255, 200, 120), (160, 120, 255), (90, 180, 255)),
            "lights",
            (220, 210, 255),
            -0.4,
            "a moody night scene with dark stone and glowing lights",
            ("night", "evening", "dark", "club", "party", "moody", "luxury", "noir", "midnight"),
        ),
    )
}
PRESETS = ("office", "outdoor", "cafe", "studio", "urban", "nature")
DEFAULT_PALETTE = "studio"

# Colour words in free text (location or prompt) pull the backdrop and accents towards that colour.
COLOUR_WORDS: dict[str, RGB] = {
    "red": (196, 60, 56),
    "orange": (230, 140, 60),
    "yellow": (236, 206, 90),
    "gold": (212, 172, 90),
    "green": (96, 150, 96),
    "teal": (60, 140, 140),
    "blue": (70, 120, 196),
    "navy": (40, 54, 100),
    "purple": (130, 90, 170),
    "lilac": (190, 170, 214),
    "pink": (236, 160, 180),
    "beige": (222, 204, 178),
    "brown": (130, 90, 60),
    "grey": (150, 150, 150),
    "gray": (150, 150, 150),
    "black": (30, 30, 32),
    "white": (246, 246, 244),
    "pastel": (226, 210, 230),
    "terracotta": (196, 110, 80),
    "sage": (160, 180, 150),
}
_WORD = re.compile(r"[a-z]+")


def words(text: str | None) -> list[str]:
    """Lower-case words of ``text`` (empty for None)."""
    return _WORD.findall((text or "").lower())


def match_palette(location: str | None) -> tuple[Palette, bool]:
    """The palette for a location value and whether it matched (a preset name or a keyword).

    None or empty text is the studio palette. Free text scores each palette by the keywords it
    mentions (ties go to the palette of the later word); with no keyword at all it falls back to the studio
    palette (``matched`` False).
    """
    if not location or not location.strip():
        return PALETTES[DEFAULT_PALETTE], True
    key = location.strip().lower()
    if key in PALETTES:
        return PALETTES[key], True
    said = words(key)
    said += [w[:-1] for w in said if w.endswith("s")]  # plural keywords
    position = {w: i % (len(said) or 1) for i, w in enumerate(said)}
    best, best_score = PALETTES[DEFAULT_PALETTE], (0, -1)
    for palette in PALETTES.values():
        hits = [position[k] for k in palette.keywords if k in position]
        # More keywords win; on a tie the later word wins ("a sunny beach": the noun comes last).
        score = (len(hits), max(hits, default=-1))
        if score > best_score:
            best, best_score = palette, score
    return best, best_score[0] > 0


def colour_words(*texts: str | None) -> list[str]:
    """Colour words mentioned in ``texts``, in order, without repeats."""
    seen: list[str] = []
    for text in texts:
        for w in words(text):
            if w in COLOUR_WORDS and w not in seen:
                seen.append(w)
    return seen


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """sRGB mix of two colours (t = 0 gives ``a``)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def tinted(palette: Palette, colour: RGB, amount: float) -> Palette:
    """The palette with its backdrop and first accent pulled towards ``colour`` (the surface keeps its
    material colours, lightly tinted so that the set still reads as one light)."""
    return replace(
        palette,
        wall_top=mix(palette.wall_top, colour, amount),
        wall_bottom=mix(palette.wall_bottom, colour, amount * 0.85),
        surface_base=mix(palette.surface_base, colour, amount * 0.25),
        surface_detail=mix(palette.surface_detail, colour, amount * 0.25),
        accents=(mix(palette.accents[0], colour, 0.7), *palette.accents[1:]),
    )
