"""``render_scene``: the lifestyle, editorial and mockup styles, procedural or generative.

Cut out → plan the scene (per variant seed) → place the product → draw the set procedurally → (with an
inpainter) let the model repaint everything but the product → composite the original product pixels with
shadow and reflection → encode. The result's ``meta`` says what ran: seed(s), final prompts, the scene.
"""

from __future__ import annotations

import secrets
import time
from functools import partial

import numpy as np
from PIL import Image

from ...errors import InvalidRequest
from ..background import TRANSPARENT, parse_background
from ..compose import ProductLayer, alpha_on_canvas, layer_from_cutout
from ..cutout import Cutout, cutout
from ..encode import output_format, render_image
from ..layout import Placement, exact_canvas_size
from ..options import (
    ASPECT_RATIOS,
    MAX_LOCATION_CHARS,
    MAX_PROMPT_CHARS,
    MAX_SEED,
    MAX_VARIANTS,
    PEOPLE,
    SCENE_TYPES,
    RenderOptions,
)
from ..product import layout_box, product_notes
from ..result import PRODUCT_ALPHA, ProgressFn, RenderedImage, RenderResult
from ..segment import Segmenter
from .generative import Inpainter, generate_background, ground_strength, product_mask
from .layout_rules import place_product, plan_scene
from .palettes import PRESETS
from .plan import ScenePlan
from .procedural import composite_scene, draw_backdrop, shadow_kind
from .prompts import build_prompts
from .styles import SCENE_STYLES

SCENE_SHADOWS = ("none", "soft", "hard", "floating")
SEED_LIMIT = MAX_SEED + 1


def validate(options: RenderOptions) -> tuple[int, int, int] | None:
    """Check the fields a scene reads; returns the parsed background tint (None when not given).

    Raises:
        InvalidRequest: naming the field and what is allowed.
    """
    if options.style not in SCENE_STYLES:
        raise InvalidRequest(f"style {options.style!r} is not a scene style ({', '.join(SCENE_STYLES)}).")
    checks = (
        ("scene_type", options.scene_type, SCENE_TYPES),
        ("people", options.people, PEOPLE),
        ("aspect_ratio", options.aspect_ratio, ASPECT_RATIOS),
    )
    for name, value, allowed in checks:
        if value not in allowed:
            raise InvalidRequest(f"{name} {value!r} is not one of {', '.join(allowed)}.")
    for name, text, limit in (
        ("prompt", options.prompt, MAX_PROMPT_CHARS),
        ("negative_prompt", options.negative_prompt, MAX_PROMPT_CHARS),
        ("location", options.location, MAX_LOCATION_CHARS),
    ):
        if text is not None and len(text) > limit:
            raise InvalidRequest(f"{name} is {len(text)} characters; at most {limit} are allowed.")
    if options.shadow not in SCENE_SHADOWS:
        raise InvalidRequest(
            f"shadow {options.shadow!r} does not apply to scene styles (one of {', '.join(SCENE_SHADOWS)}); "
            "'natural' keeps the photo's own shadow and is for studio_packshot only."
        )
    if not 1 <= options.num_variants <= MAX_VARIANTS:
        raise InvalidRequest(f"num_variants must be between 1 and {MAX_VARIANTS}.")
    if options.seed is not None and not 0 <= options.seed < SEED_LIMIT:
        raise InvalidRequest(f"seed must be between 0 and {SEED_LIMIT - 1}.")
    if options.background is None:
        return None
    if options.background.strip().lower() == TRANSPARENT:
        raise InvalidRequest(f"background 'transparent' is only for studio_packshot, not {options.style}.")
    return parse_background(options.background)


def variant_seeds(seed: int, count: int) -> list[int]:
    """Seeds of ``count`` variants: the first is ``seed`` itself (so it reproduces variant 1)."""
    return [seed if i == 0 else (seed * 1_000_003 + i * 7919) % SEED_LIMIT for i in range(count)]


def render_scene(
    image: Image.Image,
    options: RenderOptions,
    *,
    inpainter: Inpainter | None = None,
    segmenter: Segmenter | None = None,
    progress: ProgressFn | None = None,
) -> RenderResult:
    """Render ``options.style`` (lifestyle, editorial or mockup) for the product in ``image``.

    Procedural (engine ``procedural``) when ``inpainter`` is None, else generative (engine
    ``diffusion:<model id>``). ``progress(fraction)`` is called as work advances and may raise to cancel.

    Raises:
        InvalidRequest: a field out of range (names the field).
        UnsupportedImage: no product found in the image.
    """
    tint = validate(options)
    report = progress or (lambda _f: None)
    t0 = time.perf_counter()
    seed = options.seed if options.seed is not None else secrets.randbelow(SEED_LIMIT)
    cut = cutout(image, segmenter)
    report(0.05)
    t_cut = time.perf_counter() - t0
    canvas = exact_canvas_size(options.aspect_ratio, options.long_side)
    fmt = output_format(options.output_format, False)
    seeds = variant_seeds(seed, options.num_variants)
    images: list[RenderedImage] = []
    scenes: list[dict[str, object]] = []
    prompts: list[tuple[str, str]] = []
    placement: Placement | None = None
    main_alpha: np.ndarray | None = None
    box = layout_box(cut)
    per = 0.9 / len(seeds)
    for i, vseed in enumerate(seeds):
        plan = plan_scene(options, tint, vseed)
        placement = place_product(plan, box, canvas, options.padding)
        layer = layer_from_cutout(cut, placement)
        if main_alpha is None:
            main_alpha = alpha_on_canvas(layer, canvas)
        shadow = shadow_kind(plan, options.shadow)
        backdrop = draw_backdrop(plan, canvas, placement, vseed, shadow)
        prompt, negative = build_prompts(options, plan)
        prompts.append((prompt, negative))
        start = 0.05 + i * per
        report(start + per * (0.2 if inpainter else 0.8))
        step = partial(_scaled, report, start + per * 0.2, per * 0.75)
        pixels = _finish(
            backdrop.pixels,
            layer,
            placement,
            plan,
            shadow,
            options.reflection,
            inpainter,
            (prompt, negative),
            vseed,
            step,
        )
        images.append(render_image(pixels, fmt, options.jpeg_quality, options.max_file_bytes))
        scenes.append(
            {
                **plan.describe(),
                "drawn": list(backdrop.drawn),
                "seed": vseed,
                "product_box": list(placement.dest_box),
                "source_box": list(placement.source_box),
            }
        )
    assert placement is not None
    report(1.0)
    return RenderResult(
        images=tuple(images),
        engine=f"diffusion:{inpainter.id}" if inpainter else "procedural",
        confidence=round(cut.confidence, 3),
        notes=tuple(_notes(cut, placement, options, scenes[0])),
        review_reasons=cut.reasons,
        meta={
            "matte": cut.matte_image(),
            "cutout_source": cut.source,
            "seed": seed,
            "seeds": seeds,
            "prompt": prompts[0][0],
            "negative_prompt": prompts[0][1],
            "scene": scenes[0],
            "variants": scenes,
            "scale": round(placement.scale, 4),
            "canvas": list(canvas),
            PRODUCT_ALPHA: main_alpha,
            "timings_ms": {"cutout": round(t_cut * 1000, 1), "total": round((time.perf_counter() - t0) * 1000, 1)},
        },
    )


def _finish(
    backdrop: np.ndarray,
    layer: ProductLayer,
    placement: Placement,
    plan: ScenePlan,
    shadow: str,
    reflection: bool,
    inpainter: Inpainter | None,
    prompts: tuple[str, str],
    seed: int,
    progress: ProgressFn,
) -> np.ndarray:
    """The variant's final pixels: procedural backdrop, or the model's scene over it; product on top."""
    strength = 1.0
    if inpainter is not None:
        keep = product_mask(layer, placement.canvas)
        backdrop = generate_background(inpainter, backdrop, keep, prompts[0], prompts[1], seed, progress)
        strength = ground_strength(backdrop, placement.dest_box)
    return composite_scene(
        backdrop,
        layer,
        placement,
        plan,
        shadow=shadow,
        reflection=reflection,
        strength=strength,
    )


def _scaled(report: ProgressFn, start: float, span: float, fraction: float) -> None:
    report(start + span * fraction)


def _notes(cut: Cutout, placement: Placement, options: RenderOptions, scene: dict[str, object]) -> list[str]:
    notes = product_notes(cut, placement)
    location = (options.location or "").strip()
    if location and location.lower() not in PRESETS and not scene.get("palette_matched"):
        notes.append(
            "the location text matched no known place; the studio palette was used "
            "(the text is still part of the prompt)"
        )
    return notes
