"""Kill run: SIGKILL workers at random while jobs with webhooks run; count what was lost.

    .venv/bin/python bench/bench_kill.py [--jobs 30] [--kills 40] [--workers 2]

Starts `serve --no-worker` and N `worker` processes on loopback (short leases so recovery is quick), submits
jobs whose webhooks go to a loopback receiver, and meanwhile SIGKILLs a random worker every 0.3–2 s, starting
a fresh one each time. Then waits for every job to end and every webhook to arrive. Prints: jobs accepted,
completed, failed (with reasons), lost (never ended: goal 0), kills (and how many hit a running job),
webhook events per ended job (goal 1), POSTs per event (at least once: duplicates counted), events never
delivered.
"""

from __future__ import annotations

import argparse
import base64
import collections
import io
import json
import os
import random
import signal
import sqlite3
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
from PIL import Image

BIN = Path(sys.executable).parent / DEFAULT_BRAND.cli_name
ENV = DEFAULT_BRAND.env_prefix


def receiver() -> tuple[ThreadingHTTPServer, collections.Counter[str]]:
    posts: collections.Counter[str] = collections.Counter()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            posts[self.headers["webhook-id"]] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, posts


def jpeg(i: int) -> str:
    im = Image.new("RGB", (1400 + 40 * (i % 10), 1100), (236, 236, 236))
    im.paste((190, 30 + i % 200, 35), (350, 250, 1050, 850))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return base64.b64encode(buf.getvalue()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    home = Path(tempfile.mkdtemp()) / "home"
    env = {
        **os.environ,
        f"{ENV}HOME": str(home),
        f"{ENV}ALLOW_PRIVATE_NETWORK": "1",
        f"{ENV}LEASE_SECONDS": "5",
        f"{ENV}HEARTBEAT_SECONDS": "1",
        f"{ENV}SWEEP_SECONDS": "1",
        f"{ENV}WEBHOOK_RETRY_SCALE": "0.01",
    }
    subprocess.run([str(BIN), "init"], env=env, capture_output=True, check=True)
    token = json.loads(
        subprocess.run(
            [str(BIN), "keys", "create", "--name", "kill", "--json"], env=env, capture_output=True, text=True
        ).stdout
    )["key"]
    server, posts = receiver()
    hook = f"http://127.0.0.1:{server.server_address[1]}/ok"
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    quiet = subprocess.DEVNULL
    serve = subprocess.Popen(
        [str(BIN), "serve", "--no-worker", "--port", str(port)], env=env, stdout=quiet, stderr=quiet
    )

    def worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(BIN), "worker"], env=env, stdout=quiet, stderr=quiet)

    workers = [worker() for _ in range(args.workers)]
    ids: list[str] = []
    kills = mid_job = 0
    try:
        wait_until_200(api + "/healthz")
        headers = {"Authorization": f"Bearer {token}"}

        def submit() -> None:
            with httpx.Client(base_url=api, headers=headers, timeout=60) as client:
                for i in range(args.jobs):
                    body = {"product_image": jpeg(i), "style": "studio_packshot", "webhook_url": f"{hook}/{i}"}
                    response = client.post("/v1/generate", json=body)
                    assert response.status_code == 202, response.text
                    ids.append(response.json()["id"])
                    time.sleep(0.2)

        submitter = threading.Thread(target=submit)
        submitter.start()
        db = home / "app.db"
        for _ in range(args.kills):
            time.sleep(rng.uniform(0.3, 2.0))
            victim = rng.randrange(len(workers))
            with closing(sqlite3.connect(db, timeout=30)) as conn:
                running = conn.execute("SELECT count(*) FROM jobs WHERE state = 'running'").fetchone()[0]
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            mid_job += bool(running)
            workers[victim] = worker()
        submitter.join()
        deadline = time.time() + 600
        while time.time() < deadline:
            with closing(sqlite3.connect(db, timeout=30)) as conn:
                open_jobs = conn.execute("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')").fetchone()[0]
                pending = conn.execute("SELECT count(*) FROM webhook_events WHERE state = 'pending'").fetchone()[0]
            if not open_jobs and not pending:
                break
            time.sleep(1)
        with closing(sqlite3.connect(db, timeout=30)) as conn:
            states = collections.Counter(r[0] for r in conn.execute("SELECT state FROM jobs"))
            reasons = collections.Counter(
                r[0] for r in conn.execute("SELECT error_message FROM jobs WHERE state = 'failed'")
            )
            events = collections.Counter(r[0] for r in conn.execute("SELECT job_id FROM webhook_events"))
            undelivered = conn.execute("SELECT count(*) FROM webhook_events WHERE state != 'delivered'").fetchone()[0]
            logged = conn.execute("SELECT count(*) FROM webhook_attempts").fetchone()[0]
    finally:
        for proc in [*workers, serve]:
            proc.send_signal(signal.SIGINT)
        for proc in [*workers, serve]:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.shutdown()
    ended = states["completed"] + states["failed"]
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"accepted {len(ids)}, completed {states['completed']}, failed {states['failed']}, lost {len(ids) - ended}")
    for reason, n in reasons.items():
        print(f"  failed x{n}: {reason}")
    print(f"SIGKILLs {kills} ({mid_job} while a job was running)")
    per_job = collections.Counter(events[j] for j in ids)
    print(f"webhook events per job: {dict(sorted(per_job.items()))} (goal: every job 1)")
    dup = sum(n - 1 for n in posts.values() if n > 1)
    print(f"POSTs received {sum(posts.values())} for {len(posts)} events ({dup} duplicates); attempts logged {logged}")
    print(f"events not delivered: {undelivered}")


if __name__ == "__main__":
    main()
