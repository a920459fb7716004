"""Costs of issue 13's changes, each against its baseline in the same run (ratios, never assertions):

    .venv/bin/python bench/bench_marketplace.py [--runs 7]

1. Default long side 2048 vs the old 1024: studio packshot render (classical cut-out, so only layout, compose
   and encode scale) of one 2000x2000 photo, median wall ms, ratio.
2. Provenance per format (JPEG, PNG, WebP at 2048): bytes the XMP label and the signed C2PA manifest add (main
   image + thumbnail), and ms to label, against the encode alone.
3. Compliance report (amazon_main, product alpha known) on the 2048 JPEG: ms, against the render.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_packshot import product_jpeg  # noqa: E402
from paqshot_server.credentials import make_self_signed  # noqa: E402
from paqshot_server.finishing import Finisher  # noqa: E402
from paqshot_server.imaging import compliance  # noqa: E402
from paqshot_server.imaging.options import RenderOptions  # noqa: E402
from paqshot_server.imaging.packshot import render_packshot  # noqa: E402
from paqshot_server.imaging.presets import load_presets  # noqa: E402
from paqshot_server.imaging.result import PRODUCT_ALPHA  # noqa: E402
from paqshot_server.settings import Settings  # noqa: E402


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"load average: {os.getloadavg()[0]:.2f} (figures need a quiet machine)")
    raw = product_jpeg(2000, "bottle", "grey")
    photo = Image.open(io.BytesIO(raw)).convert("RGB")

    print("\n1. long side (studio packshot, classical cut-out, JPEG q92 + thumbnail)")
    times = {}
    for side in (1024, 2048):
        options = RenderOptions(long_side=side)
        times[side] = median_ms(lambda o=options: render_packshot(photo, o), args.runs)
        print(f"  {side:>5} px: {times[side]:8.1f} ms")
    print(f"  2048 / 1024 = {times[2048] / times[1024]:.2f}x")

    print("\n2. provenance (XMP label + signed C2PA manifest, main image + thumbnail) at 2048")
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        make_self_signed(settings)
        finisher = Finisher(settings, load_presets())
        unsigned = Finisher(replace(settings, content_credentials=False), load_presets())
        for fmt in ("jpeg", "png", "webp"):
            result = render_packshot(photo, RenderOptions(long_side=2048, output_format=fmt))
            image = result.images[0]
            signed = finisher.finish(result, product_photo=raw, title="bench", checks=[]).result.images[0]
            labelled = unsigned.finish(result, product_photo=raw, title="bench", checks=[]).result.images[0]
            label_ms = median_ms(
                lambda r=result: finisher.finish(r, product_photo=raw, title="b", checks=[]), args.runs
            )
            print(
                f"  {fmt:>4}: file {len(image.data):>9} B, +{len(labelled.data) - len(image.data)} B XMP, "
                f"+{len(signed.data) - len(image.data)} B XMP+C2PA "
                f"({100 * (len(signed.data) - len(image.data)) / len(image.data):.2f} %); "
                f"thumbnail +{len(signed.thumbnail) - len(image.thumbnail)} B; label+sign {label_ms:.1f} ms"
            )

        print("\n3. compliance report (amazon_main, product alpha from compositing) on the 2048 JPEG")
        result = render_packshot(photo, RenderOptions(long_side=2048, shadow="none"))
        data, alpha = result.images[0].data, result.meta[PRODUCT_ALPHA]
        preset = load_presets().get("amazon_main")
        check_ms = median_ms(lambda: compliance.check(data, preset, product_alpha=alpha), args.runs)
        render_ms = median_ms(lambda: render_packshot(photo, RenderOptions(long_side=2048, shadow="none")), args.runs)
        print(f"  check {check_ms:.1f} ms vs render {render_ms:.1f} ms ({check_ms / render_ms:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
