"""API throughput and latency on loopback, against a bare Litestar endpoint measured in the same run.

    .venv/bin/python bench/bench_api.py [--seconds 10]

Needs `wrk` (Debian package). Prints: status polling req/s (64 connections) for the real endpoint
(auth + SQLite read + signed URLs) and the bare endpoint, their ratio; submit (POST /v1/generate, 1 MB JPEG
as base64, 16 connections) p50/p99 latency and throughput. The server runs with --no-worker so the figures
are the API's own. Load generator and server share this machine's cores: figures are conservative.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import shutil
import socket
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
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
        real_get = wrk(["-t2", "-c64", "-d" + seconds, "-H", auth, f"{api}/v1/generate/{job['id']}"])
        bare_get = wrk(["-t2", "-c64", "-d" + seconds, f"{bare}/status"])
        script = home / "post.lua"
        (home / "body.json").write_text(body)
        script.write_text(
            'wrk.method = "POST"\n'
            f'local f = io.open("{home / "body.json"}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        post = wrk(["-t2", "-c16", "-d" + seconds, "--latency", "-H", auth, "-s", str(script), f"{api}/v1/generate"])
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", post)
        r_real, r_bare = rate(real_get), rate(bare_get)
        print(f"input JPEG: {len(jpeg) / 1e6:.2f} MB ({len(body) / 1e6:.2f} MB request body)")
        print(f"GET /v1/generate/{{id}}  64 conns: {r_real:8.0f} req/s")
        print(f"bare Litestar GET      64 conns: {r_bare:8.0f} req/s")
        print(f"polling / bare ratio:            {r_real / r_bare:8.2f}   (goal >= 0.50)")
        print(
            f"POST /v1/generate      16 conns: {rate(post):8.1f} req/s, p50 {latency_ms(post, '50'):.1f} ms, "
            f"p99 {latency_ms(post, '99'):.1f} ms   (goal p99 < 100 ms)"
            + (f", NON-2xx: {errors.group(1)}" if errors else "")
        )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
