"""Speed of the studio packshot, end to end, next to the codec floor measured in the same run.

    .venv/bin/python bench/bench_packshot.py [--runs 30] [--size 2000]

Builds a 2000x2000 JPEG product photo on a plain background (from the synthetic evaluation set), then,
in this one warm process pinned to one core: decode (the door check) -> cut-out -> layout, shadow,
compose -> encode 2048² JPEG + thumbnail, with the C allocator set as a worker sets it (``jobs.allocator``;
``--malloc-defaults``: glibc's defaults). Reports median and p95 (wall and CPU time), peak RSS, page faults, and
the floor: Pillow decode of the same input + encode of the same output. Numbers only; never a test.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: no hidden thread pools

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evalset  # noqa: E402
from paqshot_server.imaging.decode import decode_image  # noqa: E402
from paqshot_server.imaging.encode import encode, thumbnail  # noqa: E402
from paqshot_server.imaging.options import RenderOptions  # noqa: E402
from paqshot_server.imaging.packshot import render_packshot  # noqa: E402
from paqshot_server.jobs.allocator import keep_freed_memory  # noqa: E402


def product_jpeg(size: int, obj: str, family: str) -> bytes:
    sample = evalset.make_sample(obj, family, size=800)
    img = np.asarray(sample.image.resize((size, size), Image.Resampling.LANCZOS), dtype=np.float32)
    # sensor noise at full resolution, as in a real photo (and a realistically sized JPEG)
    img += np.random.default_rng(0).normal(0, 2.0, img.shape).astype(np.float32)
    img = Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def timed(fn) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--object", default="bottle", choices=evalset.OBJECTS)
    parser.add_argument("--family", default="white", choices=evalset.FAMILIES)
    parser.add_argument(
        "--malloc-defaults",
        action="store_true",
        help="leave glibc's allocator as it is (a worker keeps its freed memory: jobs.allocator)",
    )
    args = parser.parse_args(argv)
    kept = False if args.malloc_defaults else keep_freed_memory()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    data = product_jpeg(args.size, args.object, args.family)
    options = RenderOptions()
    limits = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 100_000_000}
    result = render_packshot(decode_image(data, **limits).image, options)  # warm-up (imports, tables)
    output = Image.open(io.BytesIO(result.images[0].data))
    output.load()

    def pipeline() -> None:
        decoded = decode_image(data, **limits)
        render_packshot(decoded.image, options)

    def floor() -> None:
        img = Image.open(io.BytesIO(data))
        img.load()
        encode(output, "jpeg", options.jpeg_quality)
        encode(thumbnail(output), "jpeg", 85)

    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    runs = [timed(pipeline) for _ in range(args.runs)]
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) // args.runs
    floors = [timed(floor) for _ in range(args.runs)]
    wall = [r[0] for r in runs]
    cpu = [r[1] for r in runs]
    f_wall = statistics.median(f[0] for f in floors)
    f_cpu = statistics.median(f[1] for f in floors)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"input: {args.size}x{args.size} JPEG ({len(data) / 1e6:.2f} MB), {args.object} on {args.family}; "
        f"output {result.images[0].width}x{result.images[0].height} JPEG q{options.jpeg_quality} + thumbnail"
    )
    print(f"runs: {args.runs}, one core, load average at start of report {load:.2f}; freed memory kept: {kept}")
    print(f"end to end  wall: median {statistics.median(wall):6.1f} ms  p95 {pct(wall, 95):6.1f} ms")
    print(f"end to end  cpu : median {statistics.median(cpu):6.1f} ms  p95 {pct(cpu, 95):6.1f} ms")
    print(
        f"codec floor wall: median {f_wall:6.1f} ms   cpu: median {f_cpu:6.1f} ms "
        "(Pillow decode of the input + encode of the output and thumbnail)"
    )
    ratio_wall, ratio_cpu = statistics.median(wall) / f_wall, statistics.median(cpu) / f_cpu
    print(f"ratio to floor   wall {ratio_wall:4.1f}x   cpu {ratio_cpu:4.1f}x")
    print(f"peak RSS: {rss_mb:.0f} MB; page faults per packshot: {faults}")
    print(f"stage timings of the last run (wall ms): {result.meta.get('timings_ms')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
