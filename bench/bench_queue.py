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
2 workers. ``--repeats`` appliances per worker count; each runs one job first (the ETA has a measured job time: a
fresh appliance estimates from a prior), then four bursts: A+B, A alone, A alone, A+B (reversed in every other
appliance), so each burst with B has a burst of A alone next to it on the same appliance. Reports B's wait in job
times (submit → done over A's median job time), the ETA accuracy, A's throughput (A's jobs over first submission →
A's last job done) with and without B, and A's drop with B as the median over those adjacent pairs, beside what A
alone reads against A alone in the same appliance: on a shared machine the speed changes between bursts by more
than the 5 % goal (session 10: A alone spread 26-42 % from burst to burst, A against A -33 … +30 %), and a drop
smaller than that is not shown by the run. Also A's share of the workers' time (A's job durations over workers ×
span) with B against alone: what B's job and the fair policy's turns cost A, which the machine's speed moves little
(B's one job alone is 1/(burst + 1) of the jobs).

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
import itertools
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
from contextlib import closing
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
        with closing(sqlite3.connect(f"file:{self.home / 'app.db'}?mode=ro", uri=True, timeout=30)) as conn:
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


@dataclass
class Burst:
    """One burst of the fair experiment: key A's ``--burst`` jobs, with or without B's one job a second later."""

    with_b: bool
    workers: int
    a_jobs: int
    span: float  # seconds from just before A's first submission to A's last job done
    a_work: float  # seconds: the sum of A's job durations (meta.duration_ms)
    a_job_time: float  # seconds: the median of A's job durations
    b_wait: float | None  # seconds from just before B's submission to B's job done
    accuracy: float  # share of the burst's jobs done within ±50 % of the estimate given at submission

    @property
    def a_rate(self) -> float:
        """A's throughput, jobs per second."""
        return self.a_jobs / self.span

    @property
    def a_share(self) -> float:
        """The share of the workers' time spent on A's jobs (0..1): B's one job, idle gaps and claims take the rest."""
        return self.a_work / (self.workers * self.span)


@dataclass
class FairSummary:
    """A's throughput with B against A alone, from bursts run in the same appliances (:func:`fair_summary`).
    Drops are fractions (0.05 = 5 %), positive when A is slower with B."""

    drop: float  # median over the pairs of 1 - (A's jobs/s with B) / (A's jobs/s alone)
    drop_range: tuple[float, float]
    null_range: tuple[float, float]  # the same figure between the two bursts of A alone in each appliance
    share_drop: float  # median over the pairs of 1 - (A's share with B) / (A's share alone)
    job_time_ratio: float  # median over the pairs of A's median job time with B / alone
    pairs: int

    @property
    def noise(self) -> float:
        """The largest drop that A alone read against A alone: a drop under it is not shown by this run."""
        return max(abs(v) for v in self.null_range)


def fair_summary(appliances: list[list[Burst]]) -> FairSummary:
    """Pair each burst with B with the burst of A alone next to it in the same appliance (the order in each is A+B,
    A, A, A+B or its reverse: a drift of the machine's speed over an appliance's life weighs on both sides alike)
    and the two bursts of A alone with each other (what noise alone reads as a drop).

    Raises ValueError when no appliance holds a burst of each kind next to each other."""
    pairs: list[tuple[Burst, Burst]] = []
    nulls: list[float] = []
    for bursts in appliances:
        for first, second in itertools.pairwise(bursts):
            if first.with_b != second.with_b:
                pairs.append((first, second) if first.with_b else (second, first))
        alone = [b for b in bursts if not b.with_b]
        nulls += [1 - later.a_rate / earlier.a_rate for earlier, later in itertools.pairwise(alone)]
    if not pairs:
        raise ValueError("no burst with B next to a burst of A alone")
    drops = [1 - b.a_rate / a.a_rate for b, a in pairs]
    return FairSummary(
        drop=statistics.median(drops),
        drop_range=(min(drops), max(drops)),
        null_range=(min(nulls), max(nulls)) if nulls else (0.0, 0.0),
        share_drop=statistics.median(1 - b.a_share / a.a_share for b, a in pairs),
        job_time_ratio=statistics.median(b.a_job_time / a.a_job_time for b, a in pairs),
        pairs=len(pairs),
    )


def fair_burst(app: Appliance, a: dict, b: dict, photo: str, jobs: int, workers: int, with_b: bool) -> Burst:
    """A's ``jobs`` submitted one after another from one client; B's one job from another a second after the first."""
    estimates: dict[str, tuple[float, int]] = {}
    b_job = None

    def submit_b() -> None:
        nonlocal b_job
        time.sleep(1.0)
        with httpx.Client(timeout=60) as other:
            b_job, b_sent, b_est = app.submit(other, b, photo)
        estimates[b_job] = (b_sent, b_est)

    b_thread = threading.Thread(target=submit_b) if with_b else None
    t0 = time.time()
    with httpx.Client(timeout=60) as client:
        if b_thread:
            b_thread.start()
        for _ in range(jobs):
            job, sent, est = app.submit(client, a, photo)
            estimates[job] = (sent, est)
    if b_thread:
        b_thread.join()
    rows = app.wait_done(list(estimates))
    a_rows = {k: v for k, v in rows.items() if k != b_job}
    durations = [r[2] - r[1] for r in a_rows.values() if r[1] is not None and r[2] is not None]
    a_done = max(r[2] for r in a_rows.values() if r[2] is not None)
    b_done = rows[b_job][2] if b_job else None
    return Burst(
        with_b=with_b,
        workers=workers,
        a_jobs=len(a_rows),
        span=a_done - t0,
        a_work=sum(durations),
        a_job_time=statistics.median(durations),
        b_wait=b_done - estimates[b_job][0] if b_job and b_done is not None else None,
        accuracy=accuracy(estimates, rows),
    )


def eta(bursts: list[Burst], with_b: bool) -> str:
    """The mean ETA accuracy of those ``bursts`` with (or without) B, as a percentage; "-" when there are none."""
    shares = [burst.accuracy for burst in bursts if burst.with_b == with_b]
    return f"{100 * statistics.fmean(shares):.0f} %" if shares else "-"


def fair(args: argparse.Namespace) -> None:
    photo = product_photo()
    print(
        f"A-{args.burst} / B-1: per worker count {args.repeats} appliances, each one job first (the ETA has a job "
        f"time), then bursts A+B, A, A, A+B (reversed in every other appliance); {load()}"
    )
    for workers in args.workers:
        appliances: list[list[Burst]] = []
        for repeat in range(args.repeats):
            order = [True, False, False, True] if repeat % 2 == 0 else [False, True, True, False]
            app = start(workers)
            try:
                a, b = app.key("A"), app.key("B")
                with httpx.Client(timeout=60) as client:
                    warm, _, _ = app.submit(client, a, photo)
                    app.wait_done([warm])
                appliances.append([fair_burst(app, a, b, photo, args.burst, workers, with_b) for with_b in order])
            finally:
                stop(app)
        everything = [burst for bursts in appliances for burst in bursts]
        first = [bursts[0] for bursts in appliances]
        with_b = [burst for burst in everything if burst.with_b]
        alone = [burst for burst in everything if not burst.with_b]
        summary = fair_summary(appliances)
        b_waits = [burst.b_wait / burst.a_job_time for burst in with_b if burst.b_wait is not None]
        rates_b, rates_alone = [burst.a_rate for burst in with_b], [burst.a_rate for burst in alone]
        spread = (max(rates_alone) - min(rates_alone)) / statistics.median(rates_alone)
        print(
            f"{workers} worker(s), {load()}\n"
            f"  B waited {statistics.median(b_waits):.2f} job times (median of {len(b_waits)}; "
            f"{min(b_waits):.2f}-{max(b_waits):.2f})\n"
            f"  ETA within ±50 %, first bursts (a fresh appliance after one job): {eta(first, True)} with B, "
            f"{eta(first, False)} A alone; every burst: {eta(everything, True)} with B, "
            f"{eta(everything, False)} A alone\n"
            f"  A jobs/s with B {statistics.median(rates_b):.2f} ({min(rates_b):.2f}-{max(rates_b):.2f}), "
            f"alone {statistics.median(rates_alone):.2f} ({min(rates_alone):.2f}-{max(rates_alone):.2f}; "
            f"spread {100 * spread:.0f} % of the median)\n"
            f"  A's drop with B: {100 * summary.drop:.1f} % (median of {summary.pairs} pairs next to each other; "
            f"{100 * summary.drop_range[0]:+.1f} … {100 * summary.drop_range[1]:+.1f} %); A alone against A alone "
            f"in the same appliance: {100 * summary.null_range[0]:+.1f} … {100 * summary.null_range[1]:+.1f} %\n"
            f"  A's share of the workers' time: drop {100 * summary.share_drop:.1f} % (B's one job is "
            f"{100 / (args.burst + 1):.1f} % of the jobs); A's job time with B / alone {summary.job_time_ratio:.2f}"
        )
        if summary.noise >= 0.05:
            print(
                f"  the drop is not resolved by this run: A alone read up to {100 * summary.noise:.1f} % against "
                "itself (the machine's speed changed between bursts); the share of the workers' time is what B "
                "costs A's turns, free of that speed"
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
