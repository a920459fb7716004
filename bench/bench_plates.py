"""Plate scene speed on one CPU core: median ms per 2048 px render on a backdrop plate, against the procedural
lifestyle render of the same product at the same size in the same run (the ratio is the figure to keep).

    taskset -c 0 .venv/bin/python bench/bench_plates.py [--runs 7] [--side 2048]

Pins the process to one core and single-threaded math libraries before numpy loads (``taskset -c 0`` too, so
every thread the process starts stays there). The plate is drawn by the project's procedural set renderer at the
output's size (no enlargement), an RGBA product isolates the plate engine (no cut-out), and an RGB photo adds the
classical cut-out. Phases of one plate render are timed apart (light and floor estimate, fit, harmonise, shadow,
composite, encode) to show where the time goes.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scenes import median_ms  # noqa: E402
from paqshot_server.imaging.compose import composite, layer_from_cutout  # noqa: E402
from paqshot_server.imaging.cutout import cutout  # noqa: E402
from paqshot_server.imaging.encode import render_image  # noqa: E402
from paqshot_server.imaging.layout import Placement, exact_canvas_size  # noqa: E402
from paqshot_server.imaging.options import RenderOptions  # noqa: E402
from paqshot_server.imaging.plates import harmonize  # noqa: E402
from paqshot_server.imaging.plates.geometry import fit_plate, plate_pixels, stand_product  # noqa: E402
from paqshot_server.imaging.plates.light import estimate_floor, estimate_light  # noqa: E402
from paqshot_server.imaging.plates.plate import LoadedPlate, PlateInfo  # noqa: E402
from paqshot_server.imaging.plates.render import render_on_plate  # noqa: E402
from paqshot_server.imaging.plates.shadow import plate_shadow  # noqa: E402
from paqshot_server.imaging.product import layout_box  # noqa: E402
from paqshot_server.imaging.scenes import render_scene  # noqa: E402
from paqshot_server.imaging.scenes.layout_rules import plan_scene  # noqa: E402
from paqshot_server.imaging.scenes.procedural import draw_backdrop  # noqa: E402
from PIL import Image  # noqa: E402
from scene_products import bottle  # noqa: E402


def project_plate(size: tuple[int, int]) -> Image.Image:
    """A kitchen plate drawn by the procedural set renderer at ``size`` (as tests/fixtures/plates are made)."""
    plan = plan_scene(RenderOptions(style="lifestyle", location="kitchen", prompt="marble"), None, 2)
    cx, base = round(plan.anchor_x * size[0]), round(plan.base_y * size[1])
    stand_in = Placement(size, (0, 0, 2, 2), 1.0, (cx - 1, base - 2, cx + 1, base))
    return Image.fromarray(draw_backdrop(plan, size, stand_in, 2, "none").pixels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--side", type=int, default=2048)
    args = parser.parse_args()
    canvas = exact_canvas_size("4:3", args.side)
    plate = project_plate(canvas)
    rgba, photo = bottle(rgba=True), bottle()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"cores pinned: {sorted(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}; "
        f"{canvas[0]}x{canvas[1]} output, {args.runs} runs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        "wall median / wall best / CPU median, ms"
    )
    given = [LoadedPlate(PlateInfo(None), plate)]
    opts = RenderOptions(style="lifestyle", aspect_ratio="4:3", seed=7, long_side=args.side)
    rows = [
        ("plate lifestyle, RGBA product", lambda: render_on_plate(rgba, opts, given)),
        ("plate lifestyle, harmonize false", lambda: render_on_plate(rgba, replace_opts(opts, harmonize=False), given)),
        (
            "plate lifestyle, background_blur 1",
            lambda: render_on_plate(rgba, replace_opts(opts, background_blur=1.0), given),
        ),
        ("procedural lifestyle kitchen (peer)", lambda: render_scene(rgba, replace_opts(opts, location="kitchen"))),
        ("plate lifestyle, RGB photo (cut-out)", lambda: render_on_plate(photo, opts, given)),
    ]
    figures = {}
    for name, fn in rows:
        med, best, cpu = median_ms(fn, args.runs)
        figures[name] = med
        print(f"  {name:40s} {med:8.1f} / {best:8.1f} / {cpu:8.1f}")
    ratio = figures["plate lifestyle, RGBA product"] / figures["procedural lifestyle kitchen (peer)"]
    print(f"  plate / procedural (same product, size and run): {ratio:.2f}x")
    phases(rgba, plate, canvas, args.runs)


def replace_opts(opts: RenderOptions, **changes: object) -> RenderOptions:
    from dataclasses import replace

    return replace(opts, **changes)


def phases(rgba: Image.Image, plate: Image.Image, canvas: tuple[int, int], runs: int) -> None:
    """Median ms of each phase of one plate render."""
    import statistics
    from contextlib import contextmanager

    import numpy as np

    cut = cutout(rgba)
    photo = np.asarray(rgba.convert("RGB"))
    timings: dict[str, list[float]] = {}

    @contextmanager
    def timed(name: str):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        yield
        timings.setdefault(name, []).append((time.perf_counter() - start) * 1000)

    for _ in range(runs):
        with timed("estimate floor"):
            floor = estimate_floor(plate)
        with timed("estimate light"):
            light = estimate_light(plate, floor)
        with timed("fit + plate resample"):
            fit = fit_plate(plate.size, canvas, floor, (0.0, 1.0))
            pixels = plate_pixels(plate, fit, canvas)
        with timed("product layer"):
            stand = stand_product(layout_box(cut), fit, canvas, fill=0.5, centre_x=0.5)
            layer = layer_from_cutout(cut, stand.placement)
        with timed("harmonize measure + apply"):
            shown = harmonize.apply(layer, harmonize.measure(photo, cut.alpha8, pixels, stand.placement.dest_box))
        with timed("shadow"):
            shade = plate_shadow(shown, canvas, stand.placement.dest_box, stand.floor_y, light, 1.0)
        with timed("composite"):
            out = composite(pixels, shown, shadow=shade, copy=False)
        with timed("encode JPEG + thumbnail"):
            render_image(out, "jpeg", 92)
    print("  phases of one plate render (median ms):")
    for name, values in timings.items():
        print(f"    {name:26s} {statistics.median(values):7.1f}")


if __name__ == "__main__":
    main()
