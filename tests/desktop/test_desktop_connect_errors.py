"""Connection failures against real sockets on loopback: nothing listening, an untrusted certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from paqshot_desktop.client import ApiClient, ConnectionFailed, RetryPolicy, TlsFailed
from paqshot_desktop.local import free_port


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on loopback with a freshly made self-signed certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_self_signed_certificate_is_reported_as_tls(tls_server: str) -> None:
    client = ApiClient(tls_server, "pk_x", retry=RetryPolicy(attempts=3, backoff=0.01))
    with pytest.raises(TlsFailed) as info:
        client.capabilities()
    client.close()
    assert "certificate is not trusted" in str(info.value) and tls_server in str(info.value)


def test_nothing_listening_is_reported_as_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = ApiClient(url, "pk_x", retry=RetryPolicy(attempts=2, backoff=0.01))
    with pytest.raises(ConnectionFailed) as info:
        client.capabilities()
    client.close()
    assert not isinstance(info.value, TlsFailed)
    assert url in str(info.value) and "server is running" in str(info.value)


def test_the_connect_page_explains_a_tls_failure(qtbot: Any, make_app: Any, tls_server: str) -> None:
    app = make_app()
    app.controller.connect_to(tls_server, "pk_x")
    view = app.window.connect_view
    qtbot.waitUntil(lambda: "certificate" in view.status.text(), timeout=10_000)
    assert view.status.property("role") == "error" and app.window.current_page == "connect"
