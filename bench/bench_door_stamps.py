"""Where a 16-client submission's time goes: per-stage stamps of the slowest 1 % against the median, and what stalled
the event loop.

    .venv/bin/python bench/bench_door_stamps.py [--clients 16] [--seconds 5] [--runs 1] [--src DIR] [--keep DIR]

Starts ``serve --no-worker`` with ``bench/door_probe`` on ``PYTHONPATH`` (its ``sitecustomize`` stamps each
``POST /v1/generate``; see there), warms it with one wrk phase, stamps a second (``bench_api.py``'s body, key and
wrk), stops it and prints, for each stage, the median and p99 over every request, the mean of the slowest 1 % and
the mean of the 50 around the median; the loop's lateness (a 2 ms sleeper) and its stalls split into the loop
thread's own CPU, its wait on the OS run queue (the cores were busy with other threads or processes) and the rest
(off CPU and not runnable: waiting for the GIL, or blocked); the garbage collections. ``--src``: another checkout's
``server/src`` (an A/B through this environment). The probe costs a little: compare runs of it, not with
``bench_api.py``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_api import BIN, free_port, latency_ms, photo_jpeg, rate, wait_up, wrk
from paqshot_server.branding import DEFAULT_BRAND

PROBE = Path(__file__).resolve().parent / "door_probe"
TAIL = 0.01  # the slowest 1 %: the p99 the goal is about


def stages(r: dict[str, Any]) -> dict[str, float]:
    """A stamped request's stages, seconds, in the order they happen (keys: what a reader sees)."""
    queued, started, ended, resumed, cpu = r["trip"]

    def span(name: str) -> float:
        return r[name][1] - r[name][0] if name in r else 0.0

    return {
        "all (message begin -> response written)": r["resp1"] - r["begin"],
        "headers -> app called": r["app"] - r["headers"],
        "app called -> body complete": r["body"] - r["app"],
        "body -> parse_json starts": r["json"][0] - r["body"],
        "parse_json": span("json"),
        "parse_json -> base64 decode": r["b64"][0] - r["json"][1],
        "base64 decode": span("b64"),
        "base64 -> trip handed over": queued - r["b64"][1],
        "trip: wait for a lane": started - queued,
        "trip: in its thread": ended - started,
        "  store_image": span("store"),
        "    of it put (write, fsyncs)": span("put"),
        "  row insert + commit (grouped)": span("create"),
        "  queue entry": span("cae") - span("create"),
        "  the thread's CPU": cpu,
        "trip end -> loop resumes": resumed - ended,
        "resumed -> response written": r["resp1"] - resumed,
    }


def report(data: dict[str, Any], since: float) -> None:
    """Print the stage table, the loop's stalls and the collections for the requests that began after ``since``."""
    recs = [r for r in data["recs"] if "resp1" in r and "trip" in r and r["begin"] >= since]
    if not recs:
        raise SystemExit("no stamped submissions")
    table = [stages(r) for r in recs]
    total = np.array([t["all (message begin -> response written)"] for t in table])
    order = np.argsort(total)
    slow = order[-max(1, int(len(order) * TAIL)) :]
    middle = order[max(0, len(order) // 2 - 25) : len(order) // 2 + 25]
    start, end = min(r["begin"] for r in recs), max(r["resp1"] for r in recs)
    print(f"  {len(recs)} submissions over {end - start:.1f} s; slowest 1 %: {len(slow)}")
    print(f"  {'stage (ms)':42s} {'median':>7s} {'p99':>7s} {'slowest 1 %':>12s} {'50 at median':>13s}")
    for name in table[0]:
        ms = np.array([t[name] for t in table]) * 1000
        print(
            f"  {name:42s} {np.median(ms):7.1f} {np.percentile(ms, 99):7.1f} "
            f"{ms[slow].mean():12.1f} {ms[middle].mean():13.1f}"
        )
    lags = np.array([lag for lag in data["lags"] if start <= lag[0] <= end])
    windows = lags[:, 1] + 0.002
    print(
        f"  loop lateness (2 ms sleeper, {len(lags)}): median {np.median(lags[:, 1]) * 1000:.1f}, "
        f"p99 {np.percentile(lags[:, 1], 99) * 1000:.1f}, max {lags[:, 1].max() * 1000:.1f} ms"
    )
    for floor in (0.0, 0.010, 0.025):
        late = lags[:, 1] > floor
        spent = windows[late].sum()
        if spent:
            cpu, queue = lags[late, 2].sum(), lags[late, 3].sum()
            print(
                f"  {'all windows' if not floor else f'stalls > {floor * 1000:.0f} ms'} ({late.sum()}, "
                f"{spent * 1000:.0f} ms): loop on CPU {100 * cpu / spent:.0f} %, on the run queue "
                f"{100 * queue / spent:.0f} %, neither (GIL, blocked) {100 * (spent - cpu - queue) / spent:.0f} %"
            )
    stalls = []
    for r in (recs[i] for i in slow):
        inside = lags[(lags[:, 0] >= r["app"]) & (lags[:, 0] <= r["body"]), 1]
        stalls.append(inside.max() * 1000 if len(inside) else 0.0)
    print(f"  slowest 1 %: the longest loop stall while its body came in, mean {np.mean(stalls):.1f} ms")
    collections = [g for g in data["gcs"] if start <= g[0] <= end]
    for generation in (0, 1, 2):
        spans = np.array([g[1] - g[0] for g in collections if g[2] == generation]) * 1000
        if len(spans):
            print(
                f"  gc generation {generation}: {len(spans)}, total {spans.sum():.1f} ms, longest {spans.max():.1f} ms"
            )
    print(f"  objects frozen at start-up: {data['frozen']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1, help="fresh servers, one after the other")
    parser.add_argument("--src", help="another checkout's server/src, run through this environment")
    parser.add_argument("--keep", help="folder to keep each run's raw stamps in (JSON)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    for run in range(args.runs):
        home = Path(tempfile.mkdtemp(prefix="bench-door-stamps-"))
        out = home / "stamps.json"
        prefix = DEFAULT_BRAND.env_prefix
        paths = [str(PROBE), *([args.src] if args.src else []), os.environ.get("PYTHONPATH", "")]
        env = {
            **os.environ,
            f"{prefix}HOME": str(home),
            f"{prefix}LOG_LEVEL": "WARNING",
            "DOOR_STAMPS_OUT": str(out),
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        }
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN), "serve", "--no-worker", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(api + "/healthz")
            created = subprocess.run(
                [str(BIN), "keys", "create", "--name", "bench", "--rate-limit", "1000000", "--json"],
                env={k: v for k, v in env.items() if k != "DOOR_STAMPS_OUT"},
                capture_output=True,
                text=True,
                check=True,
            )
            auth = f"Authorization: Bearer {json.loads(created.stdout)['key']}"
            body = json.dumps({"product_image": base64.b64encode(photo_jpeg()).decode(), "style": "studio_packshot"})
            (home / "body.json").write_text(body)
            script = home / "post.lua"
            script.write_text(
                'wrk.method = "POST"\n'
                f'local f = io.open("{home / "body.json"}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
            flags = [f"-t{min(args.clients, 2)}", f"-c{args.clients}", f"-d{args.seconds}s", "--latency", "-H", auth]
            wrk([*flags, "-s", str(script), f"{api}/v1/generate"])  # warm: threads, connections, first commits
            since = time.perf_counter()  # the same clock as the probe's (CLOCK_MONOTONIC) on Linux
            load = " ".join(f"{v:.2f}" for v in os.getloadavg())
            post = wrk([*flags, "-s", str(script), f"{api}/v1/generate"])
        finally:
            server.terminate()
            server.wait(30)
        print(
            f"run {run + 1}: {args.clients} clients, {rate(post):.1f} req/s, wrk p50 {latency_ms(post, '50'):.1f} "
            f"p99 {latency_ms(post, '99'):.1f} ms; load average at start {load}"
        )
        report(json.loads(out.read_text()), since)
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(out, Path(args.keep) / f"stamps-{run + 1}.json")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
