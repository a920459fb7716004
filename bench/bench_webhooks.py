"""Webhook lateness of a healthy receiver while other receivers hang or drip, against the same receiver with no
hostile traffic measured in the same run; and /readyz meanwhile.

    .venv/bin/python bench/bench_webhooks.py [--controls 20] [--hang 8] [--drip 4] [--workers 2]

Starts `serve` on loopback (private network allowed, retries scaled down so hostile events are re-attempted
at once) and a receiver on loopback. Phase 1: control jobs of key A, one every 0.5 s, webhook to `/ok/…`
(answers at once). Phase 2: key B's jobs whose webhooks hang (no answer for 60 s) or drip (1 byte a second)
are submitted first; once their attempts are in flight, the same control jobs again. Lateness = receipt −
the moment the job ended (its event became due). Goal (issue 11): phase 2 ≤ phase 1 + 1 s.
Also counts /readyz answers that were not 200 (probed every second through both phases).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from appliance_support import free_port, wait_until_200
from paqshot_server.branding import DEFAULT_BRAND
from PIL import Image, ImageDraw

BIN = Path(sys.executable).parent / DEFAULT_BRAND.cli_name
ENV = DEFAULT_BRAND.env_prefix


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.hostile_posts = 0
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                now = time.time()
                try:
                    if self.path.startswith("/ok/"):
                        outer.arrivals.setdefault(self.path, now)
                        self.send_response(200)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif self.path.startswith("/hang"):
                        outer.hostile_posts += 1
                        outer.release.wait(60)
                    elif self.path.startswith("/drip"):
                        outer.hostile_posts += 1
                        self.send_response(500)
                        self.send_header("Content-Length", "100000")
                        self.end_headers()
                        for _ in range(100000):
                            if outer.release.wait(1.0):
                                return
                            self.wfile.write(b"x")
                            self.wfile.flush()
                except OSError:
                    pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


def jpeg(seed: int) -> str:
    im = Image.new("RGB", (240, 200), (245, 245, 245))
    ImageDraw.Draw(im).rectangle([50, 30, 190, 170], fill=((seed * 37) % 256, 60, 90))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return base64.b64encode(buf.getvalue()).decode()


def key(env: dict[str, str], name: str) -> str:
    out = subprocess.run(
        [str(BIN), "keys", "create", "--name", name, "--json"], env=env, capture_output=True, text=True
    )
    return str(json.loads(out.stdout)["key"])


def controls(api: str, token: str, receiver: Receiver, tag: str, count: int, app_db: Path) -> list[float]:
    """Submit ``count`` control jobs; returns each webhook's lateness: receipt − the moment its event became due
    (the job's end, recorded as the event's first ``next_attempt_at``), so the job's own time is left out."""
    sent: dict[str, float] = {}
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for n in range(count):
            path = f"/ok/{tag}{n}"
            sent[path] = time.time()
            body = {"product_image": jpeg(n), "style": "studio_packshot", "webhook_url": receiver.url + path}
            assert client.post("/v1/generate", json=body).status_code == 202
            time.sleep(0.5)
    deadline = time.time() + 300
    while time.time() < deadline and not all(p in receiver.arrivals for p in sent):
        time.sleep(0.2)
    with closing(sqlite3.connect(app_db, timeout=30)) as conn:
        due = {
            url.removeprefix(receiver.url): t
            for url, t in conn.execute("SELECT url, next_attempt_at FROM webhook_events")
        }
    return sorted(receiver.arrivals[p] - due[p] for p in sent if p in receiver.arrivals and p in due)


def summary(delays: list[float]) -> str:
    if not delays:
        return "none received"
    p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
    return f"median {statistics.median(delays):.2f} s, p95 {p95:.2f} s, max {delays[-1]:.2f} s (n={len(delays)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--controls", type=int, default=20)
    parser.add_argument("--hang", type=int, default=8)
    parser.add_argument("--drip", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp()) / "home"
    port = free_port()
    env = {
        **os.environ,
        f"{ENV}HOME": str(home),
        f"{ENV}ALLOW_PRIVATE_NETWORK": "1",
        f"{ENV}WEBHOOK_RETRY_SCALE": "0.0005",
        f"{ENV}SWEEP_SECONDS": "2",
    }
    subprocess.run([str(BIN), "init"], env=env, capture_output=True, check=True)
    healthy, hostile = key(env, "healthy"), key(env, "hostile")
    receiver = Receiver()
    log = open(home.parent / "serve.log", "wb")  # noqa: SIM115 - kept open for the server's lifetime
    serve = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", str(args.workers)], env=env, stdout=log, stderr=log
    )
    api = f"http://127.0.0.1:{port}"
    ready: list[int] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.wait(1.0):
            try:
                ready.append(httpx.get(api + "/readyz", timeout=10).status_code)
            except httpx.HTTPError:
                ready.append(0)

    try:
        wait_until_200(api + "/readyz")
        prober = threading.Thread(target=probe)
        prober.start()
        baseline = controls(api, healthy, receiver, "base", args.controls, home / "app.db")
        with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {hostile}"}, timeout=30) as client:
            for n in range(args.hang + args.drip):
                path = "/hang" if n < args.hang else "/drip"
                body = {"product_image": jpeg(500 + n), "style": "studio_packshot", "webhook_url": receiver.url + path}
                assert client.post("/v1/generate", json=body).status_code == 202
        deadline = time.time() + 60
        while receiver.hostile_posts < min(args.hang + args.drip, 4) and time.time() < deadline:
            time.sleep(0.1)
        loaded = controls(api, healthy, receiver, "load", args.controls, home / "app.db")
        stop.set()
        prober.join()
    finally:
        serve.send_signal(2)
        receiver.close()
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()
        log.close()
    print(f"load average at start of report: {os.getloadavg()[0]:.2f}")
    print(f"healthy receiver, no hostile traffic:    {summary(baseline)}")
    print(f"healthy receiver, {args.hang} hanging + {args.drip} dripping: {summary(loaded)}")
    if baseline and loaded:
        print(
            f"added lateness: median {statistics.median(loaded) - statistics.median(baseline):+.2f} s, "
            f"max {loaded[-1] - baseline[-1]:+.2f} s (goal: ≤ +1 s)"
        )
    print(f"hostile attempts received: {receiver.hostile_posts}")
    print(f"/readyz probes: {len(ready)}, not 200: {sum(1 for c in ready if c != 200)}")


if __name__ == "__main__":
    main()
