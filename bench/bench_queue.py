"""The queue as a user feels it, on a real appliance (serve + workers on loopback): pickup after idle, fairness
across keys, and how honest the ETA given at submission is.

    .venv/bin/python bench/bench_queue.py pickup [--jobs 20] [--idle 90]
    .venv/bin/python bench/bench_queue.py fair [--workers 1 2] [--burst 60] [--repeats 3]
    .venv/bin/python bench/bench_queue.py burst [--jobs 40] [--sizes 1 12 40] [--png] [--models]
    .venv/bin/python bench/bench_queue.py throughput [--jobs 40] [--repeats 3]

pickup: one worker; before each job the appliance is left idle ``--idle`` seconds; reports submit→claimed
(p50/p95; from just before the POST to the job's ``claimed_at``) and the worker's CPU while idle (percent of one
core, from /proc). With the wake-up pipe (``jobs/wakeup.py``) Huey's worker never sleeps with back-off: an idle
thread waits in ``select`` on the pipe with a 1 s ceiling, then reads the queue; that state is the same after 2 s
as after 90 s, so ``--idle`` may be shortened without changing what is measured (the default is the issue's 90).

fair: key A submits ``--burst`` jobs, key B one job a second later (the issue's A-60/B-1 experiment), with 1 and
2 workers, after one job that gives the ETA a measured job time (a fresh appliance estimates from a prior);
then A alone (the baseline of A's throughput, same run), alternating, ``--repeats`` times each.
Reports medians of B's wait in job times (submit → done over A's median job time), A's throughput with and
without B, and the mean ETA accuracy over every job.

burst: one key submits ``--jobs`` jobs at once; reports the ETA accuracy (done within ±50 % of
``estimated_seconds``; done = claimed_at + the job's measured duration). ``--sizes``: photos of these many
megapixels (4:3), mixed in a fixed shuffled order, after one warm-up job of each size (smallest first); the
accuracy is also reported per size. ``--png``: noiseless PNG photos, which the worker decodes whole (a JPEG's DCT
scaling makes a 40 MP JPEG cost little more than a 12 MP one).

throughput: packshots per second with 1 and with 2 workers (first claim to last done), alternating runs.

Jobs are studio packshots of a 1200x900 JPEG product photo (classical cut-out; burst ``--models``: the cut-out
model installed with the package, ``paqshot models setup``). Numbers only; never a test.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from appliance_support import free_port, wait_until_200
from paqshot_server.branding import DEFAULT_BRAND
from PIL import Image

BIN = Path(sys.executable).parent / DEFAULT_BRAND.cli_name
PREFIX = DEFAULT_BRAND.env_prefix


def product_photo(size: tuple[int, int] = (1200, 900), png: bool = False) -> str:
    """A product on a plain light background with sensor noise, as base64 JPEG; ``png``: without the noise (a noisy
    40 MP PNG is over the appliance's 10 MB), as PNG (decoded whole by the worker: no DCT scaling)."""
    w, h = size
    rng = np.random.default_rng(3)
    img = np.full((h, w, 3), 236.0, np.float32)
    img[h // 5 : 4 * h // 5, w // 4 : 3 * w // 4] = (190, 30, 35)
    img[h // 3 : h // 2, w // 3 : 2 * w // 3] = (250, 250, 250)
    if not png:
        img += rng.normal(0, 2.0, img.shape)
    out = io.BytesIO()
    photo = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    if png:
        photo.save(out, "PNG")
    else:
        photo.save(out, "JPEG", quality=90)
    return base64.b64encode(out.getvalue()).decode()


@dataclass
class Appliance:
    home: Path
    url: str
    proc: subprocess.Popen

    def key(self, name: str) -> dict:
        env = {**os.environ, f"{PREFIX}HOME": str(self.home)}
        out = subprocess.run(
            [str(BIN), "keys", "create", "--name", name, "--rate-limit", "100000", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(out.stdout))

    def submit(self, client: httpx.Client, key: dict, photo: str) -> tuple[str, float, int]:
        """(job id, time just before the POST, estimated_seconds)."""
        sent = time.time()
        answer = client.post(
            f"{self.url}/v1/generate",
            json={"product_image": photo, "style": "studio_packshot"},
            headers={"Authorization": f"Bearer {key['key']}"},
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        return body["id"], sent, int(body["estimated_seconds"])

    def rows(self, ids: list[str]) -> dict[str, tuple[str, float | None, float | None]]:
        """id → (state, claimed_at, done_at) where done_at = claimed_at + the job's measured duration."""
        with sqlite3.connect(f"file:{self.home / 'app.db'}?mode=ro", uri=True, timeout=30) as conn:
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                "SELECT id, state, claimed_at, json_extract(result, '$.meta.duration_ms') FROM jobs "
                f"WHERE id IN ({marks})",
                ids,
            ).fetchall()
        return {r[0]: (r[1], r[2], r[2] + r[3] / 1000 if r[2] is not None and r[3] is not None else None) for r in rows}

    def wait_done(self, ids: list[str], timeout: float = 900) -> dict[str, tuple[str, float | None, float | None]]:
        deadline = time.time() + timeout
        while True:
            rows = self.rows(ids)
            if len(rows) == len(ids) and all(r[0] in ("completed", "failed") for r in rows.values()):
                return rows
            assert time.time() < deadline, "jobs did not finish"
            time.sleep(0.5)

    def worker_pids(self) -> list[int]:
        tasks = Path(f"/proc/{self.proc.pid}/task").iterdir()  # a child belongs to the thread that started it
        return [int(p) for task in tasks for p in (task / "children").read_text().split()]


def start(workers: int, models: bool = False) -> Appliance:
    """An appliance on loopback; ``models``: with the models installed with the package (else none: classical)."""
    home = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    port = free_port()
    env = {**os.environ, f"{PREFIX}HOME": str(home), f"{PREFIX}LOG_LEVEL": "WARNING"}
    if not models:
        env[f"{PREFIX}INSTALL_MODELS_DIR"] = ""
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_200(url + "/readyz", timeout=120)
    return Appliance(home, url, proc)


def stop(app: Appliance) -> None:
    app.proc.terminate()
    app.proc.wait(60)
    shutil.rmtree(app.home, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def pickup(args: argparse.Namespace) -> None:
    app = start(1)
    photo = product_photo()
    try:
        key = app.key("pickup")
        waits, idle_cpu = [], []
        with httpx.Client(timeout=60) as client:
            first, _, _ = app.submit(client, key, photo)  # the warm-up is the worker's, at start; this checks it ran
            app.wait_done([first])
            (worker,) = app.worker_pids()
            for _ in range(args.jobs):
                c0, t0 = cpu_seconds(worker), time.monotonic()
                time.sleep(args.idle)
                idle_cpu.append(100 * (cpu_seconds(worker) - c0) / (time.monotonic() - t0))
                job, sent, _ = app.submit(client, key, photo)
                claimed = app.wait_done([job])[job][1]
                assert claimed is not None
                waits.append((claimed - sent) * 1000)
        print(f"pickup after {args.idle:.0f} s idle, {args.jobs} jobs, 1 worker; {load()}")
        print(
            f"  submit -> claimed: p50 {pct(waits, 50):7.1f} ms   p95 {pct(waits, 95):7.1f} ms   (goal p95 <= 100 ms)"
        )
        print(f"  worker CPU while idle: mean {statistics.fmean(idle_cpu):.2f} % of a core   (goal < 1 %)")
    finally:
        stop(app)


def accuracy(estimates: dict[str, tuple[float, int]], rows: dict) -> float:
    """Share of jobs done within ±50 % of the estimate given at submission."""
    ok = 0
    for job, (sent, estimate) in estimates.items():
        done = rows[job][2]
        ok += done is not None and 0.5 * estimate <= done - sent <= 1.5 * estimate
    return ok / len(estimates)


def job_time(rows: dict) -> float:
    durations = sorted(r[2] - r[1] for r in rows.values() if r[1] is not None and r[2] is not None)
    return statistics.median(durations)


def fair(args: argparse.Namespace) -> None:
    photo = product_photo()
    print(f"A-{args.burst} / B-1, {args.repeats} repeats (medians), {load()}")
    print("workers  B waited (job times)  B waited (s)  A jobs/s with B  A jobs/s alone  A drop  ETA within ±50 %")
    for workers in args.workers:
        figures = []
        for with_b in [True, False] * args.repeats:
            app = start(workers)
            try:
                a, b = app.key("A"), app.key("B")
                with httpx.Client(timeout=60) as client:  # one job first, as in burst: the ETA has a job time
                    warm, _, _ = app.submit(client, a, photo)
                    app.wait_done([warm])
                estimates: dict[str, tuple[float, int]] = {}
                b_job = None
                t0 = time.time()

                def submit_b(app: Appliance = app, key: dict = b, estimates: dict = estimates) -> None:
                    nonlocal b_job
                    time.sleep(1.0)
                    with httpx.Client(timeout=60) as other:
                        b_job, b_sent, b_est = app.submit(other, key, photo)
                    estimates[b_job] = (b_sent, b_est)

                b_thread = threading.Thread(target=submit_b) if with_b else None
                with httpx.Client(timeout=60) as client:
                    if b_thread:
                        b_thread.start()
                    for _ in range(args.burst):
                        job, sent, est = app.submit(client, a, photo)
                        estimates[job] = (sent, est)
                if b_thread:
                    b_thread.join()
                rows = app.wait_done(list(estimates))
                a_rows = {k: v for k, v in rows.items() if k != b_job}
                a_done = max(r[2] for r in a_rows.values() if r[2] is not None)
                a_rate = len(a_rows) / (a_done - t0)
                t = job_time(a_rows)
                b_wait = rows[b_job][2] - estimates[b_job][0] if b_job else None
                figures.append((a_rate, b_wait, t, accuracy(estimates, rows)))
            finally:
                stop(app)
        with_b_runs, alone_runs = figures[0::2], figures[1::2]
        rate_b = statistics.median(f[0] for f in with_b_runs)
        rate_alone = statistics.median(f[0] for f in alone_runs)
        b_wait = statistics.median(f[1] for f in with_b_runs if f[1] is not None)
        t = statistics.median(f[2] for f in with_b_runs)
        acc = statistics.fmean(f[3] for f in with_b_runs)
        acc_alone = statistics.fmean(f[3] for f in alone_runs)
        print(
            f"{workers:7d}  {b_wait / t:20.2f}  {b_wait:12.2f}  {rate_b:15.2f}  {rate_alone:14.2f}  "
            f"{100 * (1 - rate_b / rate_alone):5.1f} %  {100 * acc:5.0f} % (A alone {100 * acc_alone:.0f} %)"
        )
    print("goals: B within 2 job times; A's drop <= 5 %; 80 % of ETAs within ±50 %")


def photo_of(megapixels: float, png: bool) -> str:
    """:func:`product_photo` of ``megapixels`` (4:3, within the appliance's 40 MP limit)."""
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    return product_photo((width, width * 3 // 4), png)


def burst(args: argparse.Namespace) -> None:
    sizes = sorted(args.sizes) if args.sizes else [None]
    photos = {mp: product_photo(png=args.png) if mp is None else photo_of(mp, args.png) for mp in sizes}
    order = [sizes[i % len(sizes)] for i in range(args.jobs)]
    np.random.default_rng(7).shuffle(order)
    app = start(1, args.models)
    try:
        key = app.key("burst")
        with httpx.Client(timeout=60) as client:
            warm = [app.submit(client, key, photos[mp])[0] for mp in sizes]  # measured first: the ETA has job times
            app.wait_done(warm)
            estimates, size_of = {}, {}
            for mp in order:
                job, sent, est = app.submit(client, key, photos[mp])
                estimates[job], size_of[job] = (sent, est), mp
        rows = app.wait_done(list(estimates))
        errors = sorted((rows[j][2] - s) / e - 1 for j, (s, e) in estimates.items() if rows[j][2] is not None)
        what = "1200x900" if args.sizes is None else "mixed " + "/".join(f"{mp:g}" for mp in sizes) + " MP"
        what += (" PNG" if args.png else " JPEG") + (", installed cut-out model" if args.models else "")
        print(f"burst of {args.jobs} jobs ({what}), 1 worker, {load()}")
        print(f"  job time (median): {job_time(rows):.2f} s")
        print(f"  ETA within ±50 %: {100 * accuracy(estimates, rows):.0f} %   (goal >= 80 %)")
        spread = "  ".join(f"p{q} {pct(errors, q):+.2f}" for q in (10, 50, 90))
        print(f"  (done - submit) / estimate - 1: {spread}")
        for mp in sizes if args.sizes else []:
            mine = {j: v for j, v in estimates.items() if size_of[j] == mp}
            times = {j: rows[j] for j in mine}
            print(
                f"  {mp:g} MP: {len(mine)} jobs, job time (median) {job_time(times):.2f} s, "
                f"ETA within ±50 % {100 * accuracy(mine, rows):.0f} %"
            )
    finally:
        stop(app)


def throughput(args: argparse.Namespace) -> None:
    photo = product_photo()
    rates: dict[int, list[float]] = {}
    for _ in range(args.repeats):
        for workers in (1, 2):
            app = start(workers)
            try:
                key = app.key("throughput")
                with httpx.Client(timeout=60) as client:
                    ids = [app.submit(client, key, photo)[0] for _ in range(args.jobs)]
                rows = app.wait_done(ids)
                claimed = [r[1] for r in rows.values() if r[1] is not None]
                done = [r[2] for r in rows.values() if r[2] is not None]
                rates.setdefault(workers, []).append(len(done) / (max(done) - min(claimed)))
            finally:
                stop(app)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"throughput, {args.jobs} packshots per run, {args.repeats} repeats (medians), {load()}")
    print(f"  1 worker : {one:.2f} jobs/s   2 workers: {two:.2f} jobs/s   ratio {two / one:.2f}   (goal >= 1.7)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("pickup")
    p.add_argument("--jobs", type=int, default=20)
    p.add_argument("--idle", type=float, default=90.0)
    p.set_defaults(func=pickup)
    f = sub.add_parser("fair")
    f.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    f.add_argument("--burst", type=int, default=60)
    f.add_argument("--repeats", type=int, default=3, help="runs of each (medians are reported)")
    f.set_defaults(func=fair)
    b = sub.add_parser("burst")
    b.add_argument("--jobs", type=int, default=40)
    b.add_argument("--sizes", type=float, nargs="+", help="megapixels of the photos, mixed (default: one 1200x900)")
    b.add_argument("--png", action="store_true", help="noiseless PNG photos (decoded whole by the worker)")
    b.add_argument("--models", action="store_true", help="the cut-out model installed with the package")
    b.set_defaults(func=burst)
    t = sub.add_parser("throughput")
    t.add_argument("--jobs", type=int, default=40)
    t.add_argument("--repeats", type=int, default=3)
    t.set_defaults(func=throughput)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
