"""Real processes: receivers that hang never make /readyz report a dead worker, and other keys' webhooks arrive
meanwhile (case webhook-slow-receiver-blocks-others, end to end)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from e2e_support import Appliance
from support import b64, product_jpeg

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def receiver() -> tuple[ThreadingHTTPServer, dict[str, float], threading.Event]:
    arrivals: dict[str, float] = {}
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            arrivals.setdefault(self.path, time.time())
            if self.path.startswith("/hang"):
                release.wait(60)
            try:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, arrivals, release


def test_hanging_receivers_leave_readiness_and_other_keys_alone(appliance: Appliance) -> None:
    appliance.start("--workers", "1")
    hostile, healthy = appliance.create_key("hostile"), appliance.create_key("healthy")
    server, arrivals, release = receiver()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with httpx.Client(base_url=appliance.url, timeout=30) as client:
            for i in range(6):  # each attempt hangs until its 15 s deadline, then is retried at once
                body = {
                    "product_image": b64(product_jpeg()),
                    "style": "studio_packshot",
                    "webhook_url": f"{url}/hang/{i}",
                }
                headers = {"Authorization": f"Bearer {hostile['key']}"}
                assert client.post("/v1/generate", json=body, headers=headers).status_code == 202
            deadline = time.time() + 60
            while not any(p.startswith("/hang") for p in arrivals):
                assert time.time() < deadline, "the hanging webhooks were never attempted"
                time.sleep(0.2)
            ready, sent = [], {}
            end = time.time() + 40  # past the 30 s after which readiness calls a silent worker dead
            n = 0
            while time.time() < end:
                ready.append(client.get("/readyz").status_code)
                if n < 8 and time.time() < end - 15:
                    path = f"/ok/{n}"
                    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "webhook_url": url + path}
                    sent[path] = time.time()
                    headers = {"Authorization": f"Bearer {healthy['key']}"}
                    assert client.post("/v1/generate", json=body, headers=headers).status_code == 202
                    n += 1
                time.sleep(1)
        assert set(ready) == {200}, ready
        missing = [p for p in sent if p not in arrivals]
        assert not missing, f"healthy webhooks still missing 15 s after their jobs, behind hanging ones: {missing}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
