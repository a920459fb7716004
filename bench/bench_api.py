"""API throughput and latency on loopback, against a bare Litestar endpoint measured in the same run.

    .venv/bin/python bench/bench_api.py [--seconds 10] [--repeats 3] [--clients 1 4 16]

Needs `wrk` (Debian package). Prints: status polling req/s (64 connections) for the real endpoint
(auth + SQLite read + signed URLs + the live ETA) and the bare endpoint, alternating, their ratio (median of
the repeats); submit (POST /v1/generate, a ~0.8 MB JPEG as base64) at 1, 4 and 16 clients: req/s, MB/s of
input, p50/p99 latency and the API process's CPU per request (from /proc). The server runs with --no-worker
so the figures are the API's own. Load generator and server share this machine's cores: figures are
conservative.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from paqshot_server.branding import DEFAULT_BRAND
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / DEFAULT_BRAND.cli_name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def photo_jpeg(target_bytes: int = 1_000_000) -> bytes:
    """A product photo of about 1 MB: a textured object on a soft gradient, sensor noise."""
    rng = np.random.default_rng(1)
    h, w = 1500, 2000
    y, x = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), np.float32)
    img[...] = 235 - 25 * (y / h)[..., None]
    mask = ((x - w / 2) / 600) ** 2 + ((y - h / 2) / 500) ** 2 < 1
    img[mask] = [150, 60, 40] + 40 * np.sin(x[mask, None] / 9.0)
    for quality in (95, 92, 90, 85, 80, 75):
        noisy = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(noisy).save(out, "JPEG", quality=quality)
        if out.tell() <= target_bytes * 1.1:
            break
    return out.getvalue()


def wrk(args: list[str]) -> str:
    return subprocess.run(["wrk", *args], capture_output=True, text=True, check=True).stdout


def rate(output: str) -> float:
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def latency_ms(output: str, pct: str) -> float:
    match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's waited-for children (each wrk run, once it has ended)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_done(output: str) -> int:
    return int(re.search(r"(\d+) requests in", output).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="polling runs (real and bare alternate; medians)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], help="concurrent submitters")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    home = Path(tempfile.mkdtemp(prefix="bench-api-"))
    prefix = DEFAULT_BRAND.env_prefix
    env = {**os.environ, f"{prefix}HOME": str(home), f"{prefix}LOG_LEVEL": "WARNING"}
    api_port, bare_port = free_port(), free_port()
    procs = [
        subprocess.Popen(
            [str(BIN), "serve", "--no-worker", "--port", str(api_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(bare_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
        wait_up(api + "/healthz")
        wait_up(bare + "/status")
        key = json.loads(
            subprocess.run(
                [str(BIN), "keys", "create", "--name", "bench", "--rate-limit", "1000000", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        auth = f"Authorization: Bearer {key['key']}"
        jpeg = photo_jpeg()
        body = json.dumps({"product_image": base64.b64encode(jpeg).decode(), "style": "studio_packshot"})
        job = httpx.post(
            f"{api}/v1/generate",
            content=body,
            timeout=30,
            headers={"Authorization": f"Bearer {key['key']}", "Content-Type": "application/json"},
        ).json()
        seconds = f"{args.seconds}s"
        print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {os.cpu_count()} cores")
        real_rates, bare_rates = [], []
        for _ in range(args.repeats):
            real_rates.append(rate(wrk(["-t2", "-c64", "-d" + seconds, "-H", auth, f"{api}/v1/generate/{job['id']}"])))
            bare_rates.append(rate(wrk(["-t2", "-c64", "-d" + seconds, f"{bare}/status"])))
        ratios = sorted(r / b for r, b in zip(real_rates, bare_rates, strict=True))
        print(f"polling, 64 connections, {args.repeats} x {seconds} each, alternating (queued job, eta_seconds on)")
        print(f"  GET /v1/generate/{{id}}: {statistics.median(real_rates):8.0f} req/s (median)")
        print(f"  bare Litestar GET     : {statistics.median(bare_rates):8.0f} req/s (median)")
        runs = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"  ratio: median {statistics.median(ratios):.2f}, runs {runs}   (goal >= 0.50)")
        script = home / "post.lua"
        (home / "body.json").write_text(body)
        script.write_text(
            'wrk.method = "POST"\n'
            f'local f = io.open("{home / "body.json"}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        sizes = f"{len(jpeg) / 1e6:.2f} MB JPEG as base64 ({len(body) / 1e6:.2f} MB body)"
        print(f"submit: POST /v1/generate, {sizes}, {seconds} each")
        print("  clients    req/s    MB/s   p50 ms   p99 ms   CPU ms/req   p99 goal ms   wrk CPU ms/req   with wrk ms")
        cores = len(os.sched_getaffinity(0))
        for clients in args.clients:
            before = cpu_seconds(procs[0].pid)
            client_before = children_cpu_seconds()
            threads, conns = f"-t{min(clients, 2)}", f"-c{clients}"
            post = wrk(
                [threads, conns, "-d" + seconds, "--latency", "-H", auth, "-s", str(script), f"{api}/v1/generate"]
            )
            cpu_ms = 1000 * (cpu_seconds(procs[0].pid) - before) / max(1, requests_done(post))
            wrk_ms = 1000 * (children_cpu_seconds() - client_before) / max(1, requests_done(post))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", post)
            goal = 30.0 if clients == 1 else clients * cpu_ms / cores + 50
            print(
                f"  {clients:7d} {rate(post):8.1f} {rate(post) * len(jpeg) / 1e6:7.1f} {latency_ms(post, '50'):8.1f} "
                f"{latency_ms(post, '99'):8.1f} {cpu_ms:12.1f} {goal:13.1f} {wrk_ms:16.1f} "
                f"{clients * (cpu_ms + wrk_ms) / cores + 50 if clients > 1 else 30.0:13.1f}"
                + (f"   NON-2xx: {errors.group(1)}" if errors else "")
            )
        print("goals: CPU per request <= 8 ms; p99 <= the goal column (1 client: 30 ms; N: N x CPU / cores + 50 ms)")
        print("'with wrk': the same bound counting the load generator's CPU per request too (it shares these cores)")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
