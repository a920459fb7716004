"""A loopback webhook receiver that misbehaves on purpose, one path per way (importable as ``webhook_support``).

Paths: ``/ok``; ``/hang`` (no answer for ``hang`` s); ``/drip-head`` (status line one byte at a time);
``/drip-body/<status>`` (headers, then a 100 kB body one byte per 0.1 s); ``/giant/<status>`` (a 200 MB body,
counting what was actually sent before the client hung up); ``/reset`` (RST, no answer); ``/status/<code>``
(with ``?retry_after=`` and ``?location=``). Every POST is recorded with its arrival time.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class HostileReceiver:
    def __init__(self, hang: float = 30.0) -> None:
        self.hang = hang
        self.posts: list[dict] = []
        self.giant_sent = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with outer._lock:
                    outer.posts.append(
                        {"path": parts.path, "at": time.time(), "headers": dict(self.headers.items()), "body": body}
                    )
                segments = parts.path.strip("/").split("/")
                kind = segments[0]
                try:
                    if kind == "hang":
                        outer._release.wait(outer.hang)
                        self._answer(200)
                    elif kind == "drip-head":
                        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                            if outer._release.wait(0.2):
                                return
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    elif kind == "drip-body":
                        self.send_response(int(segments[1]))
                        self.send_header("Content-Length", "100000")
                        self.end_headers()
                        for _ in range(100000):
                            if outer._release.wait(0.1):
                                return
                            self.wfile.write(b"x")
                            self.wfile.flush()
                    elif kind == "giant":
                        self.send_response(int(segments[1]))
                        self.send_header("Content-Length", str(200 * 1024 * 1024))
                        self.end_headers()
                        chunk = b"g" * 65536
                        for _ in range(200 * 16):
                            self.wfile.write(chunk)
                            with outer._lock:
                                outer.giant_sent += len(chunk)
                    elif kind == "reset":
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.connection.close()
                    elif kind == "status":
                        headers = {}
                        if "retry_after" in query:
                            headers["Retry-After"] = query["retry_after"]
                        if "location" in query:
                            headers["Location"] = query["location"]
                        self._answer(int(segments[1]), headers, b"receiver says: " + kind.encode())
                    else:
                        self._answer(200)
                except OSError:
                    pass  # the client hung up: that is the point of most of these paths

            def _answer(self, code: int, headers: dict | None = None, body: bytes = b"") -> None:
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128  # the default 5 drops connections when dozens of attempts arrive at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def posts_to(self, prefix: str) -> list[dict]:
        with self._lock:
            return [p for p in self.posts if p["path"].startswith(prefix)]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def ended_job_with_webhook(settings: object, key_id: str, url: str) -> str:
    """A job that ended (cancelled before it ran) with a webhook to ``url``: its real outbox event. Returns the
    event id. Faster than rendering, and the event is written exactly as a job's end writes it."""
    from paqshot_server.ids import new_id
    from paqshot_server.jobs import ending
    from paqshot_server.resources import Resources
    from paqshot_server.storage import jobs as jobs_sql
    from support import queued_job

    resources = Resources(settings)  # type: ignore[arg-type]
    db = resources.db.get()
    job_id = new_id("gen")
    new = queued_job(key_id, id=job_id, webhook_url=url, input_file=f"{job_id}_input.jpg")
    job, _ = jobs_sql.create(db, new, quota=None, idempotency=None)
    assert ending.fail(resources, job, "cancelled", "Cancelled for a test.", owner=None)
    event_id = db.conn.execute("SELECT id FROM webhook_events WHERE job_id = ?", (job_id,)).fetchone()[0]
    resources.db.close()
    return str(event_id)
