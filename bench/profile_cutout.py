"""Where the studio packshot's time goes outside the cut-out model: stage by stage, per image, one core.

    PAQSHOT_HOME=... taskset -c 0 .venv/bin/python bench/profile_cutout.py [--photos DIR] [--n 16]
        [--repeat 2] [--model ID] [--cprofile FILE]

The bench's inputs (``bench_cutout_speed.prepare``: 2000x1500 JPEG q90 from the handed case photos) go through
what a job does for them (``decode_image`` -> ``render_packshot``: white, soft shadow, 1,024 px JPEG +
thumbnail), with the model for real. Named stages are timed by wrapping the functions the pipeline calls (the
names they are looked up by in the calling module), so a stage's inclusive time holds its children; the model is
``graph.run`` alone (its input resize and normalisation are ``preprocess``, ours). Printed: ms per image
inclusive and exclusive of the named stages below it, and calls per image; the first ``--repeat`` pass warms up
and is not counted when ``--repeat`` > 1. ``--cprofile FILE``: also a cProfile of the counted passes (with its
own overhead) in FILE, for the functions under a stage.

Numbers only, never a test; take them on a quiet machine (the load average is printed before and after).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


class Stages:
    """Inclusive and exclusive wall time of wrapped functions, nested by the call stack."""

    def __init__(self) -> None:
        self.inclusive: dict[str, float] = defaultdict(float)
        self.exclusive: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.parent: dict[str, str] = {}
        self.stack: list[list[Any]] = []  # [name, start, time spent in children]
        self.on = True

    def wrap(self, owner: Any, attr: str, name: str | None = None, label: Callable[..., str] | None = None) -> None:
        fn = getattr(owner, attr)
        key = name or attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return fn(*args, **kwargs)
            stage = label(*args, **kwargs) if label else key
            frame = [stage, time.perf_counter(), 0.0]
            if self.stack:
                self.parent.setdefault(stage, self.stack[-1][0])
            self.stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self.stack.pop()
                spent = time.perf_counter() - frame[1]
                self.inclusive[stage] += spent
                self.exclusive[stage] += spent - frame[2]
                self.calls[stage] += 1
                if self.stack:
                    self.stack[-1][2] += spent

        setattr(owner, attr, timed)

    def table(self, images: int) -> str:
        children: dict[str, list[str]] = defaultdict(list)
        for stage in self.inclusive:
            children[self.parent.get(stage, "")].append(stage)
        lines = [f"{'stage':46s} {'incl ms':>8s} {'excl ms':>8s} {'calls':>6s}"]

        def walk(node: str, depth: int) -> None:
            for stage in sorted(children[node], key=lambda s: -self.inclusive[s]):
                lines.append(
                    f"{'  ' * depth + stage:46s} {1000 * self.inclusive[stage] / images:8.1f} "
                    f"{1000 * self.exclusive[stage] / images:8.1f} {self.calls[stage] / images:6.2f}"
                )
                walk(stage, depth + 1)

        walk("", 0)
        return "\n".join(lines)


def instrument(stages: Stages, seg: Any) -> None:
    """Wrap the pipeline's named steps (where the calling modules look them up)."""
    import paqshot_server.imaging.cleanup as cleanup
    import paqshot_server.imaging.compose as compose
    import paqshot_server.imaging.cutout as cutout
    import paqshot_server.imaging.encode as encode
    import paqshot_server.imaging.packshot as packshot
    import paqshot_server.imaging.refine as refine
    import paqshot_server.inference.segmenters as segmenters
    from paqshot_server.imaging.cutout import Cutout
    from paqshot_server.inference.sessions import Graph

    def grid(prob: Any, rgb: Any, *args: Any, **kwargs: Any) -> str:
        return f"_to_grid -> {'photo' if max(rgb.shape[:2]) > 640 else 'analysis'} grid"

    for owner, attrs in (
        (packshot, ["cutout", "layout_product", "_shadow", "composite", "render_image", "product_notes"]),
        (packshot, ["alpha_on_canvas"]),
        (compose, ["apply_shadow", "paste"]),
        (encode, ["encode", "thumbnail"]),
        (cutout, ["_checked"]),
        (segmenters, ["refine", "assess_refined", "refusal"]),
        (
            refine,
            [
                "select_products",
                "crop_box",
                "_analysis_rgb",
                "_resample",
                "drop_frame_ghosts",
                "clean_backdrop",
                "guided_filter",
                "decontaminate",
                "_mask_box",
                "surround_share",
                "map_entropy",
                "_sure_pieces",
                "_crop_touch",
                "constrain",
            ],
        ),
        (cleanup, ["fit_background", "shadow_candidates", "_holes", "_left_out", "estimate_photo_shadow"]),
        (cleanup, ["to_linear", "linear_to_lab", "box", "backdrop_distance", "gradient", "_shadow_pieces"]),
    ):
        for attr in attrs:
            stages.wrap(owner, attr, f"{attr}" if owner is not cleanup else f"{attr} (clean-up)")
    stages.wrap(refine, "_to_grid", label=grid)
    stages.wrap(
        refine,
        "guided_upsample",
        label=lambda small, rgb, *a, **k: f"guided_upsample -> {'photo' if max(rgb.shape[:2]) > 640 else 'analysis'}",
    )
    stages.wrap(Cutout, "matte_image", "Cutout.matte_image")
    stages.wrap(seg, "segment", "segment")
    stages.wrap(seg, "predict", "predict")
    stages.wrap(seg, "preprocess", "preprocess (input resize, normalise)")
    stages.wrap(Graph, "run", "MODEL (graph.run)")  # every graph's: a pass at another side runs the free-size one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--model", default=None)
    parser.add_argument("--cprofile", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH))
    import paqshot_server.imaging.decode as decode
    from bench_cutout_speed import prepare, source_photos
    from eval_real import load_segmenter
    from paqshot_server.errors import UnsupportedImage
    from paqshot_server.imaging.options import RenderOptions
    from paqshot_server.imaging.packshot import render_packshot
    from paqshot_server.inference.sessions import cpu_plan, set_cpu_plan
    from paqshot_server.settings import load_settings

    files = prepare(source_photos(args.photos), Path(tempfile.mkdtemp(prefix="profile-")) / "in", args.n)
    set_cpu_plan(cpu_plan(1))  # as a worker does: one intra-op thread
    seg = load_segmenter(load_settings().models_dir, "", None, args.model)
    stages = Stages()
    instrument(stages, seg)
    stages.wrap(decode, "decode_image")
    options = RenderOptions(background="white", shadow="soft", long_side=1024)
    limits = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 100_000_000}
    datas = [f.read_bytes() for f in files]
    load_before = os.getloadavg()
    print(f"{len(files)} images 2000x1500; model {seg.name}; cpus {sorted(os.sched_getaffinity(0))}")
    profiler = cProfile.Profile() if args.cprofile else None
    total = 0.0
    for run in range(args.repeat):
        counted = run > 0 or args.repeat == 1
        stages.on = counted
        if counted and profiler:
            profiler.enable()
        t0 = time.perf_counter()
        for data in datas:
            with contextlib.suppress(UnsupportedImage):
                render_packshot(decode.decode_image(data, **limits).image, options, segmenter=seg)
        if counted:
            total += time.perf_counter() - t0
        if counted and profiler:
            profiler.disable()
    images = len(datas) * max(1, args.repeat - 1)
    model = stages.inclusive["MODEL (graph.run)"]
    print(stages.table(images))
    print(
        f"\nper image: {1000 * total / images:.1f} ms in all, {1000 * model / images:.1f} ms in the model "
        f"(graph.run, {stages.calls['MODEL (graph.run)'] / images:.2f} runs), "
        f"{1000 * (total - model) / images:.1f} ms outside it"
    )
    print(f"load average before {load_before}, after {os.getloadavg()}")
    if profiler:
        profiler.dump_stats(str(args.cprofile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
