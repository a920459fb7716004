"""Diffusion runtime benchmark on the tiny SD-inpaint model (CPU): numpy runtime vs optimum's ORT pipeline.

    .venv/bin/python bench/bench_diffusion.py [--size 256] [--steps 4] [--repeats 3] [--no-optimum] [--json]

Prints ms per denoising step (whole loop iteration: UNet with CFG + scheduler) for the runtime and for
optimum's ORTStableDiffusionInpaintPipeline on the same noise in the same run (the latter in the export
venv, as a subprocess: it imports torch), the overhead ratio (goal <= 1.1), session load time and memory.
Figures only, never asserted. The first of ``--repeats`` runs is a warm-up on both sides.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models" / "export"))

from paqshot_server.inference import sessions  # noqa: E402
from paqshot_server.inference.diffusion import DiffusionPipeline  # noqa: E402
from parity import EXPORT_PYTHON, Case, compare, make_inputs, run_runtime  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "tests" / "fixtures" / "models" / "tiny-sd-inpaint")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-optimum", action="store_true", help="runtime only (no export venv needed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    base_rss = rss_mb()
    sessions.clear_cache()
    start = time.perf_counter()
    pipe = DiffusionPipeline(args.model, device="cpu")
    load_ms = (time.perf_counter() - start) * 1000
    loaded_rss = rss_mb()

    case = Case("bench", args.model, "inpaint", size=(args.size, args.size), steps=args.steps, repeats=args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result: dict[str, float | str | None] = {
            "model": args.model.name,
            "size": args.size,
            "steps": args.steps,
            "provider": pipe.provider,
            "session_load_ms": load_ms,
            "rss_after_load_mb": loaded_rss - base_rss,
        }
        if args.no_optimum or not EXPORT_PYTHON.exists():
            inputs = make_inputs(case, pipe.vae_scale, work)
            _, step_ms, total_ms = run_runtime(case, inputs, pipe)
            result.update(
                runtime_ms_per_step=float(np.mean(step_ms)),
                runtime_total_ms=float(np.mean(total_ms[1:] or total_ms)),
                max_abs_diff=None,
                optimum_ms_per_step=None,
                note="optimum side skipped" if args.no_optimum else "no export venv: run models/export/setup.sh",
            )
        else:
            (row,) = compare([case], work, {case.name: pipe})
            result.update(row)
            result["overhead_ratio"] = row["runtime_ms_per_step"] / row["optimum_ms_per_step"]
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = pipe.timings
        result.update(text_ms=t.text_ms, vae_encode_ms=t.vae_encode_ms, vae_decode_ms=t.vae_decode_ms)

    if args.json:
        print(json.dumps(result))
        return 0
    print(f"tiny SD inpaint {args.size}x{args.size}, {args.steps} steps, CFG, {pipe.provider}")
    for key, value in result.items():
        if isinstance(value, float):
            print(f"  {key:24s} {value:12.2f}")
        elif value is not None:
            print(f"  {key:24s} {value!s:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
