"""Procedural scene speed: median ms per 1024² render on one CPU core (goal: lifestyle < 500 ms).

    .venv/bin/python bench/bench_scenes.py [--runs 15] [--side 1024]

Pins the process to one core and single-threaded math libraries before numpy loads. Times the whole
``render_scene`` (cut-out of an RGBA product, scene, composite, JPEG + thumbnail encode) per style and
scene type, the backdrop alone, and a lifestyle render from an RGB photo (classical cut-out included).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paqshot_server.imaging.layout import exact_canvas_size  # noqa: E402
from paqshot_server.imaging.options import RenderOptions  # noqa: E402
from paqshot_server.imaging.scenes import render_scene  # noqa: E402
from paqshot_server.imaging.scenes.layout_rules import place_product, plan_scene  # noqa: E402
from paqshot_server.imaging.scenes.procedural import draw_backdrop  # noqa: E402
from scene_products import bottle  # noqa: E402


def median_ms(fn, runs: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(median wall ms, best wall ms, median CPU ms of this process): on a shared machine the CPU time is
    the steadier figure, the wall time the one a user waits."""
    fn()  # warm-up: lookup tables, imports
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--side", type=int, default=1024)
    args = parser.parse_args()
    rgba, photo = bottle(rgba=True), bottle()
    print(
        f"cores pinned: {sorted(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}; "
        f"{args.side}² canvas, {args.runs} runs; wall median / wall best / CPU median, ms"
    )
    cases = [
        ("lifestyle auto cafe", dict(style="lifestyle", location="cafe")),
        ("lifestyle auto nature +people", dict(style="lifestyle", location="nature", people="with_people")),
        ("lifestyle action outdoor", dict(style="lifestyle", scene_type="action", location="outdoor")),
        ("editorial auto office", dict(style="editorial", location="office")),
        ("editorial abstract urban", dict(style="editorial", scene_type="abstract", location="urban")),
        ("mockup auto studio (podium)", dict(style="mockup", location="studio")),
        ("mockup product_packshot cafe", dict(style="mockup", scene_type="product_packshot", location="cafe")),
    ]
    for name, fields in cases:
        opts = RenderOptions(**fields, seed=7, long_side=args.side)  # type: ignore[arg-type]
        med, best, cpu = median_ms(lambda opts=opts: render_scene(rgba, opts), args.runs)
        print(f"  render_scene  {name:34s} {med:7.1f} / {best:7.1f} / {cpu:7.1f}")
    opts = RenderOptions(style="lifestyle", location="cafe", seed=7, long_side=args.side)
    canvas = exact_canvas_size(opts.aspect_ratio, opts.long_side)
    plan = plan_scene(opts, None, 7)
    placement = place_product(plan, (200, 100, 400, 740), canvas, None)
    med, best, cpu = median_ms(lambda: draw_backdrop(plan, canvas, placement, 7, "soft"), args.runs)
    print(f"  backdrop only lifestyle auto cafe                  {med:7.1f} / {best:7.1f} / {cpu:7.1f}")
    med, best, cpu = median_ms(lambda: render_scene(photo, opts), max(3, args.runs // 3))
    print(
        f"  render_scene  lifestyle cafe from an RGB photo     {med:7.1f} / {best:7.1f} / {cpu:7.1f}"
        "  (classical cut-out included)"
    )


if __name__ == "__main__":
    main()
