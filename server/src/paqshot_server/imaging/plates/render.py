"""``render_on_plate``: the plate engine (``engine: "plate"``) for studio_packshot with a ``background_image`` and
for the scene styles when a backdrop plate is used.

Per variant: fit the plate to the output (cover; long side exactly ``long_side``), optional depth of field,
find or take its floor line and light, stand the product on the floor (layout rules or ``placement``), nudge
its colour toward the plate (``harmonize``), draw its shadow from its matte, composite (exact product pixels
where alpha is 1, up to the recorded gains), let an installed inpainting model blend the contact band
(``seam``), paste the product again, encode.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from ...errors import InvalidRequest
from ..compose import (
    ProductLayer,
    alpha_on_canvas,
    apply_shadow,
    composite,
    layer_from_cutout,
    paste,
    reflection_layer,
)
from ..cutout import Cutout, cutout
from ..encode import output_format, render_image
from ..layout import exact_canvas_size
from ..options import MAX_SEED, RenderOptions
from ..product import layout_box, product_notes
from ..result import PRODUCT_ALPHA, ProgressFn, RenderedImage, RenderResult
from ..review import PLATE_FLOOR, ReviewReason, reason
from ..scenes.canvas import soft_blur
from ..scenes.framing import SIDE_ANCHORS
from ..scenes.generative import Inpainter
from ..scenes.layout_rules import plan_scene
from ..scenes.render import validate as validate_scene
from ..scenes.render import variant_seeds
from ..segment import Segmenter
from ..styles import family
from . import harmonize
from .geometry import (
    MAX_SILENT_PLATE_UPSCALE,
    Stand,
    fit_plate,
    floor_outside_frame,
    outside,
    plate_pixels,
    stand_product,
)
from .light import estimate_floor, estimate_light
from .plate import Light, LoadedPlate
from .seam import Seam, accepts_strength, seam_pass
from .shadow import ground_strength, plate_shadow

ENGINE = "plate"
STUDIO_FILL = 0.6  # a studio packshot on a plate: the product fills this share of the limiting side, centred
DEPTH_BLUR = 0.012  # background_blur 1: the sharpest-to-blurriest sigma, share of the long side (as the scenes)
PLATE_SHADOWS = ("none", "soft", "hard", "floating")  # natural (the photo's own shadow) never goes on a plate


def validate(options: RenderOptions) -> None:
    """The fields a plate render reads (scene fields too, for scene styles). Raises InvalidRequest."""
    if family(options.style) == "scene":
        validate_scene(options)
    if options.shadow not in PLATE_SHADOWS:
        raise InvalidRequest(
            "shadow 'natural' keeps the photo's own shadow, which does not belong on another background: "
            f"use one of {', '.join(PLATE_SHADOWS)} with a background image or backdrop."
        )
    if not 0.0 <= options.background_blur <= 1.0:
        raise InvalidRequest("background_blur must be from 0 to 1.")


@dataclass(frozen=True)
class _Variant:
    pixels: np.ndarray
    stand: Stand
    layer: ProductLayer
    facts: dict[str, object]


def render_on_plate(
    image: Image.Image,
    options: RenderOptions,
    plates: Sequence[LoadedPlate],
    *,
    segmenter: Segmenter | None = None,
    inpainter: Inpainter | None = None,
    progress: ProgressFn | None = None,
) -> RenderResult:
    """Render the product in ``image`` on ``plates`` (one per variant; ``options.num_variants`` of them, or one
    for every variant).

    ``inpainter``: an installed inpainting model that accepts ``strength`` blends the contact band (the result
    says so in ``backdrop.seam`` and its engine becomes ``plate+diffusion:<id>``).

    Raises:
        InvalidRequest: a field out of range (names the field).
        UnsupportedImage: no product found in the image.
    """
    validate(options)
    report = progress or (lambda _f: None)
    t0 = time.perf_counter()
    seed = options.seed if options.seed is not None else secrets.randbelow(MAX_SEED + 1)
    cut = cutout(image, segmenter)
    report(0.05)
    t_cut = time.perf_counter() - t0
    canvas = exact_canvas_size(options.aspect_ratio, options.long_side)
    fmt = output_format(options.output_format, False)
    seeds = variant_seeds(seed, options.num_variants)
    seam_model = inpainter if inpainter is not None and accepts_strength(inpainter) else None
    images: list[RenderedImage] = []
    facts: list[dict[str, object]] = []
    first: _Variant | None = None
    notes: list[str] = []
    reasons: dict[str, ReviewReason] = {}  # a variant's doubt about the layout (by code: the first one's figures)
    for i, vseed in enumerate(seeds):
        plate = plates[min(i, len(plates) - 1)]
        variant = _variant(cut, image, options, plate, canvas, vseed, seam_model, notes, reasons)
        first = first or variant
        images.append(
            replace(render_image(variant.pixels, fmt, options.jpeg_quality, options.max_file_bytes), plate=plate.data)
        )
        facts.append({**variant.facts, "seed": vseed})
        report(0.05 + 0.9 * (i + 1) / len(seeds))
    assert first is not None
    if options.background is not None:
        notes.append("background is not used on a backdrop plate (the plate is the background)")
    if options.placement is not None and outside(first.stand.placement):
        notes.append("the placement puts part of the product outside the image")
    seam = facts[0].get("seam")
    engine = f"{ENGINE}+{seam['engine']}" if isinstance(seam, dict) else ENGINE
    scene = {**facts[0], "source_box": list(first.stand.placement.source_box)}
    return RenderResult(
        images=tuple(images),
        engine=engine,
        confidence=round(cut.confidence, 3),
        notes=tuple(product_notes(cut, first.stand.placement, dict.fromkeys(notes))),
        review_reasons=(*cut.reasons, *reasons.values()),
        meta={
            "matte": cut.matte_image(),
            "cutout_source": cut.source,
            "seed": seed,
            "seeds": seeds,
            "scene": scene,
            "variants": facts,
            "backdrop": facts[0]["backdrop"],
            "source_box": list(first.stand.placement.source_box),
            "product_box": list(first.stand.placement.dest_box),
            "scale": round(first.stand.placement.scale, 4),
            "canvas": list(canvas),
            PRODUCT_ALPHA: alpha_on_canvas(first.layer, canvas),
            "timings_ms": {"cutout": round(t_cut * 1000, 1), "total": round((time.perf_counter() - t0) * 1000, 1)},
        },
    )


def _variant(
    cut: Cutout,
    image: Image.Image,
    options: RenderOptions,
    plate: LoadedPlate,
    canvas: tuple[int, int],
    seed: int,
    seam_model: Inpainter | None,
    notes: list[str],
    reasons: dict[str, ReviewReason],
) -> _Variant:
    """One variant's pixels and what was decided; a doubt about it goes into ``reasons``."""
    info = plate.info
    floor_frac = info.floor_y if info.floor_y is not None else estimate_floor(plate.image)
    light = info.light or estimate_light(plate.image, floor_frac)
    fit = fit_plate(plate.image.size, canvas, floor_frac, info.area)
    asked = options.placement
    stood = floor_outside_frame(fit, canvas) if asked is None or (asked.y is None and asked.floor_y is None) else None
    if stood is not None:  # the layout rules stand the product on a floor line where no product fits
        reasons.setdefault(PLATE_FLOOR, reason(PLATE_FLOOR, f"floor line at {stood:.0%} of the height"))
    if fit.scale > MAX_SILENT_PLATE_UPSCALE:
        notes.append(f"the backdrop was enlarged {fit.scale:.1f}x (it is smaller than the output): it may look soft")
    backdrop = plate_pixels(plate.image, fit, canvas)
    if options.background_blur > 0:
        backdrop = _depth_of_field(backdrop, fit.floor_y, options.background_blur)
    fill, centre_x = _layout(options, light, seed)
    stand = stand_product(
        layout_box(cut), fit, canvas, fill=fill, centre_x=centre_x, placement=options.placement, padding=options.padding
    )
    placement = stand.placement
    layer = layer_from_cutout(cut, placement)
    harmony = harmonize.IDENTITY
    if options.harmonize:
        harmony = harmonize.measure(_photo_rgb(image), cut.alpha8, backdrop, placement.dest_box)
    shown = harmonize.apply(layer, harmony)
    shadow = None
    if options.shadow != "none":
        shadow_light = Light(None, 1.0, light.source) if options.shadow == "floating" else light
        if options.shadow == "hard":
            shadow_light = Light(light.azimuth, min(light.softness, 0.3), light.source)
        strength = ground_strength(backdrop, stand.floor_y, placement.dest_box[0], placement.dest_box[2])
        shadow = plate_shadow(shown, canvas, placement.dest_box, stand.floor_y, shadow_light, strength)
    under = (reflection_layer(shown, stand.floor_y, depth=0.35),) if options.reflection else ()
    seam: Seam | None = None
    if seam_model is not None:  # the band under and beside the product, repainted before the product goes on
        if shadow is not None:
            apply_shadow(backdrop, shadow)
        for extra in under:
            paste(backdrop, extra)
        context = composite(backdrop, shown)
        seam = seam_pass(seam_model, backdrop, context, shown, placement.dest_box, stand.floor_y, seed)
        shadow, under = None, ()
    pixels = composite(backdrop, shown, shadow=shadow, under=under, copy=False)
    facts: dict[str, object] = {
        "engine": ENGINE,
        "backdrop": {
            **info.describe(),
            "floor_y": round(floor_frac, 4),
            "floor_source": "given" if info.floor_y is not None else "estimated",
            "light": light.describe(),
            "fit": fit.describe(),
            "harmonize": harmony.describe(),
            "seam": seam.describe() if seam else None,
            "background_blur": options.background_blur,
        },
        "placement": stand.describe(),
        "placement_source": "request" if options.placement is not None else "layout rules",
        "product_box": list(placement.dest_box),
        "seam": seam.describe() if seam else None,
    }
    return _Variant(pixels, stand, shown, facts)


def _layout(options: RenderOptions, light: Light, seed: int) -> tuple[float, float]:
    """(fill, centre x) the layout rules give: the scene style's framing (an off-centre style goes to the
    plate's light side), or a centred studio product."""
    if family(options.style) == "studio":
        return STUDIO_FILL, 0.5
    plan = plan_scene(options, None, seed)
    anchor = plan.anchor_x
    if anchor in SIDE_ANCHORS and light.azimuth is not None:
        anchor = SIDE_ANCHORS[0 if light.azimuth < 0 else 1]
    return plan.fill, anchor


def _photo_rgb(image: Image.Image) -> np.ndarray:
    """uint8 RGB of the product photo (the harmonisation's reference is its background)."""
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _depth_of_field(plate: np.ndarray, floor_y: float, amount: float) -> np.ndarray:
    """The plate blurred more the further a row is from the floor line (where the product is in focus);
    ``amount`` 1 blurs the far rows by :data:`DEPTH_BLUR` of the long side."""
    height, width = plate.shape[:2]
    sigma = amount * DEPTH_BLUR * max(width, height)
    if sigma < 0.5:
        return plate
    blurred = soft_blur(plate.astype(np.float32), sigma)
    rows = np.arange(height, dtype=np.float32)
    weight = np.clip(np.abs(rows - floor_y) / (0.25 * height), 0.0, 1.0)[:, None, None]
    return np.round(plate * (1 - weight) + blurred * weight).astype(np.uint8)
