"""What a finished studio job costs, stage by stage: render, finishing (product map, seal, labels, audit), store.

    .venv/bin/python bench/bench_finishing.py [--runs 5] [--kinds studio-jpeg amazon ...] [--signed]

The job's own path, as the worker runs it (``jobs.runner``): the photo decoded, rendered by the studio packshot
(``render_packshot``), finished (``finishing.Finisher.finish``: the product map, its seal over the written file's
pixels, the XMP label, a C2PA manifest with ``--signed``, the compliance audit of a preset job), stored
(``runner._store``: each file written and fsynced, the matte encoded), in one warm process pinned to one core with
the worker's allocator. Kinds: a plain studio job in each output format (no preset: no audit) and two preset jobs
(``amazon_main``: 2000 px JPEG, ``shopify``: 2048 px JPEG, which the audit measures on a reduced copy).

To compare two trees, run this file from each with ``PYTHONPATH=<tree>/server/src`` (alternated, under the CPU
lock): it uses only what both have. Numbers only; never a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: no hidden thread pools

import msgspec  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_packshot import product_jpeg  # noqa: E402
from paqshot_server.checking import classical_product  # noqa: E402
from paqshot_server.finishing import Finisher  # noqa: E402
from paqshot_server.imaging.decode import decode_image  # noqa: E402
from paqshot_server.imaging.options import RenderOptions  # noqa: E402
from paqshot_server.imaging.packshot import render_packshot  # noqa: E402
from paqshot_server.imaging.presets import load_presets  # noqa: E402
from paqshot_server.jobs.allocator import keep_freed_memory  # noqa: E402
from paqshot_server.jobs.runner import _store  # noqa: E402
from paqshot_server.settings import Settings  # noqa: E402
from paqshot_server.storage.files import FileStore  # noqa: E402

# kind -> (request values, preset checked); a preset's render values apply as the API applies them
KINDS: dict[str, tuple[dict[str, object], str | None]] = {
    "studio-jpeg": ({}, None),
    "studio-png": ({"output_format": "png"}, None),
    "studio-webp": ({"output_format": "webp"}, None),
    "amazon": ({}, "amazon_main"),
    "shopify": ({}, "shopify"),
}
LIMITS = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 100_000_000}


def options_for(kind: str, presets) -> tuple[RenderOptions, list[str]]:  # type: ignore[no-untyped-def]
    values, preset = KINDS[kind]
    merged = dict(msgspec.to_builtins(presets.get(preset).render)) if preset else {}
    merged.update(values)
    checks = [preset] if preset else []
    fields = {f.name for f in dataclasses.fields(RenderOptions)}
    if "max_file_bytes" in fields and hasattr(presets, "max_file_bytes"):  # trees before session 14 lack it
        merged["max_file_bytes"] = presets.max_file_bytes(checks)
    return RenderOptions(**merged), checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--signed", action="store_true", help="sign with a self-signed test certificate (C2PA)")
    parser.add_argument("--label", default="", help="a name for this tree in the report")
    args = parser.parse_args(argv)
    keep_freed_memory()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    photo = product_jpeg(2000, "bottle", "white")
    presets = load_presets()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home")
        if args.signed:
            from paqshot_server.credentials import make_self_signed

            make_self_signed(settings)
        finisher = Finisher(settings, presets)
        ctx = SimpleNamespace(files=FileStore(Path(tmp) / "files"))
        print(f"tree: {args.label or sys.path[0]}; load average {os.getloadavg()[0]:.2f}; runs {args.runs}")
        for kind in args.kinds:
            options, checks = options_for(kind, presets)
            stages: dict[str, list[float]] = {"render": [], "finish": [], "store": [], "job": []}
            for run in range(args.runs + 1):  # the first run warms up (imports, tables, the seal key)
                job = SimpleNamespace(id=f"gen_bench{run:04d}", attempts=1, input_notes=[])
                t0 = time.perf_counter()
                result = render_packshot(decode_image(photo, **LIMITS).image, options)
                t1 = time.perf_counter()
                finished = finisher.finish(
                    result, product_photo=photo, title=job.id, checks=checks, find_product=classical_product
                )
                t2 = time.perf_counter()
                _store(ctx, job, finished, 0.0, [])  # type: ignore[arg-type]
                t3 = time.perf_counter()
                if run:
                    for name, (a, b) in {"render": (t0, t1), "finish": (t1, t2), "store": (t2, t3)}.items():
                        stages[name].append((b - a) * 1000)
                    stages["job"].append((t3 - t0) * 1000)
            image = finished.result.images[0]
            verdict = [(r["preset"], r["passed"]) for r in finished.compliance]
            medians = "  ".join(f"{name} {statistics.median(v):6.1f}" for name, v in stages.items())
            print(
                f"{kind:12s} {image.width}x{image.height} {image.mime:10s} {len(image.data) / 1e3:7.1f} kB  "
                f"median ms: {medians}  verdict {verdict}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
