"""The peer: rembg doing what its user would, run in rembg's OWN virtual environment (never ours).

    U2NET_HOME=/work/team/u2net_home /work/team/rembg-venv/bin/python bench/rembg_peer.py \
        --model u2netp --out DIR [--repeat N] IMAGE...

For every image: ``rembg.remove`` (its default settings) -> paste the RGBA on white -> resize to 1,024 px on
the long side -> JPEG quality 92. Writes ``NAME.alpha.png`` (rembg's alpha at the input's size) and
``NAME.packshot.jpg`` into ``--out``, and prints one JSON line with the per-image wall times (ms) of the
whole user-side pipeline (decode .. JPEG bytes), the time of each in onnxruntime's run, and the session start-up
time. ``--repeat`` runs the list
that many times (timings of every run are reported; files are written once).

This file imports only rembg, Pillow and the standard library: it must run in the peer's environment.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="u2netp")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--long-side", type=int, default=1024)
    parser.add_argument("images", nargs="+", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    from PIL import Image
    from rembg import new_session, remove

    session = new_session(args.model)
    startup_ms = (time.perf_counter() - t0) * 1000
    graph_ms = [0.0]  # the time in onnxruntime's run (rembg's session.predict calls it once per image)
    run_graph = session.inner_session.run

    def timed_run(*run_args, **run_kwargs):
        s = time.perf_counter()
        try:
            return run_graph(*run_args, **run_kwargs)
        finally:
            graph_ms[0] += (time.perf_counter() - s) * 1000

    session.inner_session.run = timed_run
    times: list[dict[str, float]] = []
    for run in range(args.repeat):
        for path in args.images:
            w0 = time.perf_counter()
            c0 = time.process_time()
            graph_ms[0] = 0.0
            photo = Image.open(path)
            photo.load()
            cut = remove(photo, session=session)
            white = Image.new("RGB", cut.size, (255, 255, 255))
            white.paste(cut, mask=cut.getchannel("A"))
            k = args.long_side / max(white.size)
            out = white.resize((round(white.width * k), round(white.height * k)), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            out.save(buf, "JPEG", quality=92)
            wall = (time.perf_counter() - w0) * 1000
            cpu = (time.process_time() - c0) * 1000
            times.append({"image": path.name, "run": run, "wall_ms": wall, "cpu_ms": cpu, "graph_ms": graph_ms[0]})
            if run == 0:
                cut.getchannel("A").save(args.out / f"{path.stem}.alpha.png")
                (args.out / f"{path.stem}.packshot.jpg").write_bytes(buf.getvalue())
    import onnxruntime
    import rembg

    print(
        json.dumps(
            {
                "peer": f"rembg {getattr(rembg, '__version__', '?')}",
                "onnxruntime": onnxruntime.__version__,
                "model": args.model,
                "u2net_home": os.environ.get("U2NET_HOME"),
                "startup_ms": startup_ms,
                "times": times,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
