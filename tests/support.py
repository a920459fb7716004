"""Helpers shared by server tests (importable as ``support``)."""

from __future__ import annotations

import base64
import io
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from paqshot_server.ids import iso, new_id
from paqshot_server.settings import Settings
from paqshot_server.storage import keys as keys_sql
from paqshot_server.storage.db import connect
from paqshot_server.storage.jobs import NewJob
from PIL import Image


@dataclass
class Key:
    id: str
    clear: str
    webhook_secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.clear}"}


def product_jpeg(size: tuple[int, int] = (640, 480), quality: int = 90) -> bytes:
    """A plain-background product photo: a red box with a white label on light grey."""
    img = Image.new("RGB", size, (236, 236, 236))
    w, h = size
    img.paste((190, 30, 35), (w // 4, h // 5, 3 * w // 4, 4 * h // 5))
    img.paste((250, 250, 250), (w // 3, h // 3, 2 * w // 3, h // 2))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def make_key(settings: Settings, **kwargs: object) -> Key:
    db = connect(settings.app_db)
    params: dict = {"name": "test", "key_prefix": "pk_live_", "secret_prefix": "whsec_", "rate_limit": 60}
    params.update(kwargs)
    key, clear = keys_sql.create_key(db, **params)
    db.conn.close()
    return Key(key.id, clear, key.webhook_secret)


class Receiver:
    """A real HTTP server on loopback that records requests and answers from a script of statuses.

    ``script`` items are status codes or (status, headers) pairs; the last one repeats. GET serves
    ``self.files[path]`` (for image-URL inputs) with ``self.file_headers[path]``; ``/redirect?to=URL`` answers 302.
    """

    def __init__(self, script: list | None = None, host: str = "127.0.0.1") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        self.requests: list[dict] = []
        self.script = list(script or [200])
        self.files: dict[str, bytes] = {}
        self.file_headers: dict[str, dict[str, str]] = {}  # extra response headers per file path
        self.gets: list[dict] = []  # GET requests: path and headers
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", parse_qs(parts.query)["to"][0])
                    self.end_headers()
                    return
                outer.gets.append({"path": self.path, "headers": dict(self.headers.items())})
                body = outer.files.get(parts.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "image/jpeg")
                for name, value in outer.file_headers.get(parts.path, {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body or b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                outer.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                item = outer.script[min(len(outer.requests) - 1, len(outer.script) - 1)]
                status, headers = item if isinstance(item, tuple) else (item, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify_signatures(request: dict, secret: str, header: str = "X-Paqshot-Signature") -> None:
    """Check both webhook signatures the way a receiver would (independent of the server's code)."""
    import hashlib
    import hmac

    headers = {k.lower(): v for k, v in request["headers"].items()}
    body = request["body"]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers[header.lower()] == expected
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)  # standard base64 (Standard Webhooks)
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    standard = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert f"v1,{standard}" in headers["webhook-signature"].split(" ")


def shared_case(group: str, name: str) -> Path:
    """Folder of a fault case in the team's ``shared/cases`` (beside the repository, else ``/work/shared``);
    the test skips when neither is there."""
    import pytest

    for root in (Path(__file__).resolve().parents[1] / ".." / "shared", Path("/work/shared")):
        folder = root / "cases" / group / name
        if folder.is_dir():
            return folder
    pytest.skip(f"shared/cases/{group}/{name} is not beside this checkout")


# What a client must never see in an error message: parser and Python internals.
_INTERNALS = ("`", "$.", "regex", "^(", "(?", "object at 0x", "<_io", "Traceback", "msgspec", "Expected ")
_INTERNALS += ("Error:", "\\x")


def assert_plain_words(message: str) -> None:
    """Fail when ``message`` carries a repr, a regex, a parser path or an exception name."""
    assert message and message[0].isalnum(), message
    leaks = [s for s in _INTERNALS if s in message]
    assert not leaks, f"{message!r} shows {leaks}"


def no_model_downloads(scratch: Path) -> dict[str, str]:
    """Environment for a CLI process under test (``init`` runs ``models setup``): it sees none of this
    installation's models, an empty download cache, and no registry (a dead proxy on loopback)."""
    dead = "http://127.0.0.1:9"
    return {
        "PAQSHOT_INSTALL_MODELS_DIR": "",
        "XDG_CACHE_HOME": str(scratch / "download-cache"),
        "HTTPS_PROXY": dead,
        "HTTP_PROXY": dead,
    }


def default_engine(installed: Path) -> str:
    """The engine a fresh data folder cuts out with after ``models setup`` put its models in ``installed`` (the
    install level): ``onnx:`` + the default model's int8 variant where the set-up made it (it is preferred),
    else the default model."""
    from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
    from paqshot_server.inference.quantize import RECIPES

    variant = RECIPES[DEFAULT_CUTOUT].variant
    return f"onnx:{variant if (installed / variant / 'manifest.toml').is_file() else DEFAULT_CUTOUT}"


def queued_job(key_id: str, **fields: object) -> NewJob:
    """A new queued studio packshot of ``key_id`` for ``storage.jobs.create`` (rows only: its input file is not
    stored), with ``fields`` (e.g. ``id``, ``webhook_url``, ``input_file``) instead of the defaults."""
    defaults: dict[str, object] = {
        "id": new_id("gen"),
        "key_id": key_id,
        "style": "studio_packshot",
        "aspect_ratio": "1:1",
        "options": {},
        "webhook_url": None,
        "seed": None,
        "input_file": "none.jpg",
        "created_at": iso(time.time()),
        "estimated_seconds": 1,
    }
    return NewJob(**{**defaults, **fields})  # type: ignore[arg-type]


def linear_rgb_icc() -> bytes:
    """An ICC v2 display profile (sRGB's primaries, D50, linear tone curves, ICC.1:2001-04 layout) whose
    conversion to sRGB visibly changes pixels (mid-tones lighten), unlike Pillow's built-in sRGB profile."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 256) + b"\0\0"  # gamma 1.0 (u8Fixed8)
    text = b"linear RGB\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78  # no Unicode, no ScriptCode text
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    header = struct.pack(">I", offset + len(body)) + b"\0" * 4 + bytes((2, 0x10, 0, 0)) + b"mntrRGB XYZ "
    header += b"\0" * 12 + b"acsp"
    header += b"\0" * (68 - len(header)) + s15(0.9642) + s15(1.0) + s15(0.8249)
    return header + b"\0" * (128 - len(header)) + table + body
