"""Prompts for the generative engine, built from the same plan the procedural engine draws.

The prompt names the style's photography, the scene type, the place (a preset's phrase, or the user's own
location text), the set and surface, the light, people, and ends with the user's ``prompt``. The negative
prompt keeps people out unless ``with_people`` is asked, and always asks the model to leave the product
alone (the product is re-composited anyway; this keeps the model from painting a second one).
"""

from __future__ import annotations

from ..options import LOCATIONS, RenderOptions
from .kinds import KINDS
from .plan import ScenePlan
from .styles import scene_style

SET_PHRASES = {
    "surface": "standing on a {surface} surface",
    "podium": "standing on a round podium",
    "pedestal": "standing on a square stone pedestal",
    "shelf": "standing on a wooden wall shelf",
    "tabletop": "standing on a {surface} tabletop",
    "plinth": "standing on a low round plinth",
    "hand": "held on the open palm of a hand",
}
LIGHT_PHRASES = {
    "natural": "soft natural daylight",
    "dramatic": "hard raking window light with patterned shadows",
    "studio": "softbox studio lighting",
    "dynamic": "bright dynamic light",
}
PEOPLE_PHRASES = {
    "with_people": "a person's hands interacting with the product, people in the background, "
    "the product fully visible and unobstructed",
    "without_people": "an empty, unoccupied scene",
}
BASE_NEGATIVE = (
    "blurry product, deformed, distorted, duplicate product, extra objects covering the product, text, "
    "watermark, logo, low quality, jpeg artifacts"
)
NO_PEOPLE_NEGATIVE = "people, person, human, hands, fingers, face, body"


def build_prompts(options: RenderOptions, plan: ScenePlan) -> tuple[str, str]:
    """(prompt, negative prompt) for ``options`` as planned by ``plan``."""
    kind = KINDS[plan.kind]
    parts = [scene_style(plan.style).prompt]
    if kind.prompt:
        parts.append(kind.prompt)
    location = (options.location or "").strip()
    if location and location.lower() not in LOCATIONS:
        parts.append(f"in {location}")  # the user's own words go in verbatim
    elif kind.names_place:
        parts.append(f"in {plan.palette.phrase}")
    parts.append(SET_PHRASES[plan.set_piece].format(surface=plan.surface))
    if plan.tint:
        parts.append(f"{plan.tint} colour palette")
    light = LIGHT_PHRASES[plan.light]
    if plan.warmth > 0.35:
        light += ", warm tones"
    elif plan.warmth < -0.35:
        light += ", cool tones"
    parts.append(light)
    if options.people in PEOPLE_PHRASES:
        parts.append(PEOPLE_PHRASES[options.people])
    parts.append("high detail, photorealistic")
    prompt = ", ".join(p for p in parts if p)
    if options.prompt and options.prompt.strip():
        prompt = f"{prompt}. {options.prompt.strip()}"
    negative = [BASE_NEGATIVE]
    if options.people in ("none", "without_people"):
        negative.append(NO_PEOPLE_NEGATIVE)
    if options.people == "without_people":
        negative.append("crowd, silhouettes, mannequin, reflections of people")
    if options.negative_prompt and options.negative_prompt.strip():
        negative.append(options.negative_prompt.strip())
    return prompt, ", ".join(negative)
