"""Speed of the studio packshot with the cut-out model, side by side with rembg (same weights) in ONE run.

    PAQSHOT_HOME=... .venv/bin/python bench/bench_cutout_speed.py [--photos DIR] [--n 16]
        [--rembg-python /work/team/rembg-venv/bin/python] [--u2net-home /work/team/u2net_home]
        [--models ID,ID...] [--config key=value,...] [--render key=value,...]

``--models u2netp,u2netp-int8`` measures each installed model in the same run (the int8 variant is made by
``paqshot models quantize u2netp``).

Profile one worker with py-spy (any venv): ``py-spy record -o prof.svg -- .venv/bin/python
bench/bench_cutout_speed.py --worker 0 --repeat 3 FILE...`` (the inputs are kept in the folder printed).

Inputs: the handed case photos (or ``--photos``), each cropped to 4:3 and resized to 2000x1500, JPEG q90.

- One core (the worker processes pin themselves to the first CPU of this process's affinity, like
  ``taskset -c 0``): ours = decode -> ``render_packshot`` (white, soft shadow, 1,024 px JPEG + thumbnail) with
  the refinement included (``--render aspect_ratio=4:3,shadow=none``: the output rembg writes, a 1,024 x 768
  JPEG on white with no shadow, like for like; the size ours wrote is printed); rembg = ``rembg.remove`` -> paste
  on white -> 1,024 px JPEG (``rembg_peer.py``
  in rembg's own venv, ``OMP_NUM_THREADS=1`` so its session uses the one core it has). Per image: median
  and mean wall time, and the mean including the start-up (model load) spread over the images. For ours
  also the time inside the model (``predict``) and the share outside it. For both, the time in the graph alone
  (onnxruntime's ``run``: ours per pass, rembg's one session run), so the model's share of the gap is read in
  the same run.
- Two workers on two cores (when this process may use two): two worker processes, each pinned to its own
  core, each doing all the images; images per minute against one worker on one core.
- Peak RSS of one worker (``ru_maxrss``) with the model loaded.
- What else ran on those cores meanwhile (``/proc/stat``): during each run of the two-worker comparison, the CPU
  time the cores spent on other processes (their busy time less this bench's workers') and the time the
  hypervisor gave to other machines (steal). On a shared machine a speed-up under 2x with a few seconds of
  others' CPU in the two-worker run is their work, not the workers'. The same line under each one-core run.
- How fast each core is right now (``core_probe_ms``: a fixed pure-Python loop's CPU time on that core, best of 3,
  before each run): on a virtual machine the host may share a physical core with work that shows neither as load nor
  as steal (session 12: one u2netp-int8 run took 436 ms of CPU time on cpu 0 and 301 on cpu 1 at the same moment).
  Probes that differ between the runs compared mean the comparison says little.

Each worker process starts as a real worker does: its CPU plan (one intra-op thread) and its allocator settings
(``jobs.allocator.keep_freed_memory``: freed memory kept for the next job's arrays, one arena; before session 9 the
bench left glibc's defaults, whose page faults a real worker does not pay: ``--malloc-defaults`` measures that).

Numbers only, never a test. The machine may be shared: the load average is printed before and after; figures
taken under load must be re-measured on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SIZE = (2000, 1500)


def prepare(photos: list[Path], out: Path, n: int) -> list[Path]:
    """``n`` 2000x1500 JPEGs made from ``photos`` (cycled), cropped to 4:3 around the centre."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        src = Image.open(photos[i % len(photos)]).convert("RGB")
        w, h = src.size
        if w / h > 4 / 3:
            cw = round(h * 4 / 3)
            src = src.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
        else:
            ch = round(w * 3 / 4)
            src = src.crop((0, (h - ch) // 2, w, (h - ch) // 2 + ch))
        path = out / f"in_{i:02d}.jpg"
        src.resize(SIZE, Image.Resampling.LANCZOS).save(path, quality=90)
        files.append(path)
    return files


def source_photos(folder: Path | None) -> list[Path]:
    """The photos the inputs are made from: ``folder``'s JPEG/PNG files, else the handed case photos."""
    if folder:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    sys.path.insert(0, str(BENCH))
    import realset

    cases = realset.cases_dir()
    if cases is None:
        raise SystemExit("no photos: give --photos (the handed cases are not beside this checkout)")
    return [p.path for p in realset.load(cases, [])]


def render_options(overrides: str) -> dict[str, object]:
    """``RenderOptions`` fields from ``key=value,...`` (``true``/``false`` are booleans, numbers are numbers)."""
    fields: dict[str, object] = {}
    for item in filter(None, overrides.split(",")):
        key, value = item.split("=", 1)
        if value in ("true", "false"):
            fields[key] = value == "true"
        else:
            try:
                fields[key] = float(value)
            except ValueError:
                fields[key] = value
    return fields


def worker(
    files: list[Path],
    model_id: str | None,
    config: str,
    cpu: int,
    repeat: int,
    malloc_defaults: bool = False,
    render: str = "",
) -> dict:
    """Run ours on ``files`` pinned to ``cpu``; return the timings (runs in a child process)."""
    os.sched_setaffinity(0, {cpu})
    t0 = time.perf_counter()
    from paqshot_server.jobs import allocator

    # As a worker does at start (jobs.worker.run_worker): freed memory is kept for the next job's arrays, one arena.
    kept = False if malloc_defaults else allocator.keep_freed_memory(arenas=allocator.WORKER_ARENAS)
    import numpy as np
    from eval_real import load_segmenter
    from paqshot_server.errors import UnsupportedImage
    from paqshot_server.imaging.decode import decode_image
    from paqshot_server.imaging.options import RenderOptions
    from paqshot_server.imaging.packshot import render_packshot
    from paqshot_server.inference.sessions import Graph, cpu_plan, set_cpu_plan
    from paqshot_server.settings import load_settings

    set_cpu_plan(cpu_plan(1))  # as a worker does at start: one job on the one CPU it may use (1 intra-op thread)
    seg = load_segmenter(load_settings().models_dir, config, None, model_id)
    seg.load_graphs()  # a pass at another side runs the free-size graph: loaded in the start-up, as a worker's
    model_ms: list[float] = []
    raw = seg.predict

    def timed_predict(rgb: np.ndarray, side: int = 0, *, letterbox: bool = False) -> np.ndarray:
        s = time.perf_counter()
        out = raw(rgb, side, letterbox=letterbox)
        model_ms.append((time.perf_counter() - s) * 1000)
        return out

    seg.predict = timed_predict  # type: ignore[method-assign]
    graph_ms: list[float] = []  # the graph alone (onnxruntime's run), as the peer's line times rembg's session
    # Every graph's runs (the class's method): a pass at another input side runs the free-size graph.
    run_graph = Graph.run

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        s = time.perf_counter()
        try:
            return run_graph(*args, **kwargs)
        finally:
            graph_ms.append((time.perf_counter() - s) * 1000)

    Graph.run = timed_run  # type: ignore[method-assign]
    options = RenderOptions(**{"background": "white", "shadow": "soft", "long_side": 1024, **render_options(render)})
    limits = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 100_000_000}
    datas = [f.read_bytes() for f in files]
    startup_ms = (time.perf_counter() - t0) * 1000
    per_image: list[dict[str, float]] = []
    written: set[tuple[int, int]] = set()
    for _ in range(repeat):
        for data in datas:
            before, graph_before = len(model_ms), len(graph_ms)
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                image = render_packshot(decode_image(data, **limits).image, options, segmenter=seg).images[0]
                size = len(image.data)
                written.add((image.width, image.height))
            except UnsupportedImage:  # refused (with the reason) after the cut-out: timed all the same
                size = 0
            wall = (time.perf_counter() - w0) * 1000
            per_image.append(
                {
                    "wall_ms": wall,
                    "cpu_ms": (time.process_time() - c0) * 1000,
                    "model_ms": sum(model_ms[before:]),
                    "passes": len(model_ms) - before,
                    "graph_ms": sum(graph_ms[graph_before:]),
                    "bytes": size,
                }
            )
    import onnxruntime

    return {
        "startup_ms": startup_ms,
        "per_image": per_image,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "written": sorted(written),
        "model": seg.name,
        "onnxruntime": onnxruntime.__version__,
        "threads": seg.graph.session.get_session_options().intra_op_num_threads,
        "allocator": "worker's (freed memory kept, one arena)" if kept else "glibc's defaults",
    }


def run_ours(files: list[Path], args: argparse.Namespace, cpu: int, model: str | None) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--worker", str(cpu), "--repeat", str(args.repeat), "--config", args.config]
    cmd += ["--models", model] if model else []
    cmd += ["--malloc-defaults"] if args.malloc_defaults else []
    cmd += ["--render", args.render] if args.render else []
    cmd += [str(f) for f in files]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def run_rembg(files: list[Path], args: argparse.Namespace, cpu: int, out: Path) -> subprocess.Popen:
    env = {**os.environ, "U2NET_HOME": args.u2net_home, "OMP_NUM_THREADS": "1"}
    for var in ("PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(var, None)
    cmd = ["taskset", "-c", str(cpu), args.rembg_python, str(BENCH / "rembg_peer.py"), "--out", str(out)]
    cmd += ["--repeat", str(args.repeat), *(str(f) for f in files)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)


def _last_json(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"worker failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def core_seconds(cpus: list[int]) -> tuple[float, float] | None:
    """(busy, steal) seconds of ``cpus`` since boot from ``/proc/stat`` (busy: user, nice, system, irq and softirq;
    steal: time the hypervisor ran other machines), or None where there is no ``/proc/stat``."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    busy = steal = 0
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            user, nice, system, _idle, _iowait, irq, softirq, stolen = (int(f) for f in fields[:8])
            busy += user + nice + system + irq + softirq
            steal += stolen
    return busy / tick, steal / tick


class Others:
    """CPU time that processes other than this one's children took on ``cpus`` between ``__enter__`` and
    ``__exit__`` (seconds; the children must have been waited for), and the steal time there."""

    def __init__(self, cpus: list[int]) -> None:
        self.cpus = cpus
        self.seconds: float | None = None
        self.steal = 0.0

    def __enter__(self) -> Others:
        self.start = core_seconds(self.cpus)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.ours = usage.ru_utime + usage.ru_stime
        return self

    def __exit__(self, *exc: object) -> None:
        end = core_seconds(self.cpus)
        if self.start is None or end is None:
            return
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours = usage.ru_utime + usage.ru_stime - self.ours
        self.seconds = max(0.0, end[0] - self.start[0] - ours)
        self.steal = end[1] - self.start[1]

    def line(self, wall_s: float) -> str:
        if self.seconds is None:
            return "others' CPU time unknown (no /proc/stat)"
        share = self.seconds / (wall_s * len(self.cpus))
        return f"others {self.seconds:.1f} s CPU ({share:.0%} of cpus {self.cpus}), steal {self.steal:.1f} s"


PROBE_LOOP = 1_000_000  # additions in core_probe_ms's loop (~30-50 ms of one core here)


def core_probe_ms(cpu: int) -> float:
    """CPU time (ms, best of 3) of a fixed pure-Python loop with this process pinned to ``cpu``; the affinity is
    restored after. Its CPU time, not its wall time: what it shows is how fast the core itself runs."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        best = float("inf")
        for _ in range(3):
            c0 = time.process_time()
            total = 0
            for i in range(PROBE_LOOP):
                total += i
            best = min(best, time.process_time() - c0)
        return best * 1000
    finally:
        os.sched_setaffinity(0, before)


def written_sizes(folder: Path) -> set[str]:
    """The sizes (``WxH``) of the packshots the peer wrote into ``folder``."""
    from PIL import Image

    return {"{}x{}".format(*Image.open(path).size) for path in folder.glob("*.packshot.jpg")}


def summary(name: str, times: list[float], startup_ms: float, n: int) -> str:
    return (
        f"{name:8s} median {statistics.median(times):7.1f} ms  mean {statistics.fmean(times):7.1f} ms  "
        f"mean with start-up spread over {n}: {statistics.fmean(times) + startup_ms / n:7.1f} ms  "
        f"(start-up {startup_ms:.0f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--models", default="", help="model ids, comma-separated (default: the preferred one)")
    parser.add_argument("--config", default="", help="RefineConfig overrides, key=value,...")
    parser.add_argument("--render", default="", help="RenderOptions overrides, key=value,... (default: white, soft)")
    parser.add_argument("--rembg-python", default="/work/team/rembg-venv/bin/python")
    parser.add_argument("--u2net-home", default="/work/team/u2net_home")
    parser.add_argument("--no-rembg", action="store_true")
    parser.add_argument("--no-pair", action="store_true", help="skip the two-worker run")
    parser.add_argument(
        "--malloc-defaults",
        action="store_true",
        help="workers keep glibc's allocator defaults (as this bench did before session 9) instead of a worker's",
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        timings = worker(
            args.files, args.models or None, args.config, args.worker, args.repeat, args.malloc_defaults, args.render
        )
        print(json.dumps(timings))
        return 0

    photos = source_photos(args.photos)
    cpus = sorted(os.sched_getaffinity(0))
    tmp = Path(tempfile.mkdtemp(prefix="speed-"))
    files = prepare(photos, tmp / "in", args.n)
    load_before = os.getloadavg()
    print(f"{len(files)} images 2000x1500 from {len(photos)} photos; cpus {cpus}; load average {load_before}")

    print(f"inputs in {tmp / 'in'}")
    models: list[str | None] = list(filter(None, args.models.split(","))) or [None]
    for model in models:
        probe = core_probe_ms(cpus[0])
        with Others(cpus[:1]) as others:
            t0 = time.perf_counter()
            ours = _last_json(run_ours(files, args, cpus[0], model))
            wall = time.perf_counter() - t0
        ours_ms = [r["wall_ms"] for r in ours["per_image"]]
        model_ms = [r["model_ms"] for r in ours["per_image"]]
        passes = [r["passes"] for r in ours["per_image"]]
        n_img = len(ours_ms)
        print(
            f"\none core (cpu {cpus[0]}), model {ours['model']}, onnxruntime {ours['onnxruntime']}, "
            f"session intra-op threads {ours['threads'] or 'default'}; allocator: {ours['allocator']}"
        )
        print(summary("ours", ours_ms, ours["startup_ms"], n_img))
        outside = 1 - statistics.fmean(model_ms) / statistics.fmean(ours_ms)
        print(
            f"         in the model {statistics.fmean(model_ms):.1f} ms per image ({statistics.fmean(passes):.2f} "
            f"passes), outside it {statistics.fmean(ours_ms) - statistics.fmean(model_ms):.1f} ms = {outside:.0%}"
        )
        graph = statistics.fmean(r["graph_ms"] for r in ours["per_image"])
        print(
            f"         the graph alone (onnxruntime's run) {graph:.1f} ms per image "
            f"({graph / max(1, sum(passes)) * n_img:.1f} a run): the rest of the model's time is its input resize"
        )
        refused = sum(1 for r in ours["per_image"] if not r["bytes"])
        print(f"         peak worker RSS {ours['rss_mb']:.0f} MB; refused (needs a better photo): {refused}")
        sizes = ", ".join(f"{w}x{h}" for w, h in ours["written"])
        print(f"         wrote JPEG {sizes} on white, shadow {render_options(args.render).get('shadow', 'soft')}")
        print(f"         meanwhile: {others.line(wall)}; core probe before {probe:.1f} ms")
    if not args.no_rembg:
        probe = core_probe_ms(cpus[0])
        with Others(cpus[:1]) as others:
            t0 = time.perf_counter()
            peer = _last_json(run_rembg(files, args, cpus[0], tmp / "rembg"))
            wall = time.perf_counter() - t0
        peer_ms = [t["wall_ms"] for t in peer["times"]]
        print(f"\none core (cpu {cpus[0]}), {peer['peer']}, onnxruntime {peer['onnxruntime']}, same u2netp file")
        print(summary("rembg", peer_ms, peer["startup_ms"], len(peer_ms)))
        graph = statistics.fmean(t["graph_ms"] for t in peer["times"])
        print(
            f"         the graph alone (onnxruntime's run) {graph:.1f} ms per image (one run), the rest of rembg's "
            f"pipeline {statistics.fmean(peer_ms) - graph:.1f} ms"
        )
        print(f"         wrote JPEG {', '.join(sorted(written_sizes(tmp / 'rembg')))} on white, no shadow")
        print(f"         meanwhile: {others.line(wall)}; core probe before {probe:.1f} ms")
    if not args.no_pair and len(cpus) >= 2:
        for model in models:
            probes = ", ".join(f"cpu {cpu} {core_probe_ms(cpu):.1f} ms" for cpu in cpus[:2])
            with Others(cpus[:2]) as others_pair:
                t0 = time.perf_counter()
                procs = [run_ours(files, args, cpu, model) for cpu in cpus[:2]]
                results = [_last_json(p) for p in procs]
                wall_pair = time.perf_counter() - t0
            with Others(cpus[:1]) as others_one:
                t0 = time.perf_counter()
                single = _last_json(run_ours(files, args, cpus[0], model))
                wall_one = time.perf_counter() - t0
            per_min_one = 60 * len(single["per_image"]) / wall_one
            per_min_two = 60 * sum(len(r["per_image"]) for r in results) / wall_pair
            print(
                f"\n{single['model']}: two workers on cpus {cpus[:2]}: {per_min_two:.1f} images/min; one worker on "
                f"one core: {per_min_one:.1f} images/min; speed-up {per_min_two / per_min_one:.2f}x (start-up "
                f"included); peak RSS of the two workers {max(r['rss_mb'] for r in results):.0f} MB"
            )
            print(
                f"         meanwhile, two workers: {others_pair.line(wall_pair)}; "
                f"one worker: {others_one.line(wall_one)}; core probes before: {probes}"
            )
    print(f"\nload average before {load_before}, after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
