"""Connection failures against real sockets on loopback: nothing listening, an untrusted certificate."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from paqshot_desktop.client import ApiClient, ConnectionFailed, RetryPolicy, TlsFailed
from paqshot_desktop.local import free_port


@pytest.fixture
def tls_server(self_signed_cert: tuple[Path, Path]) -> Iterator[str]:
    """An HTTPS server on loopback with a freshly made self-signed certificate."""
    cert, key = self_signed_cert

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
    assert url in str(info.value) and "appliance is running" in str(info.value)


def test_the_connect_page_explains_a_tls_failure(qtbot: Any, make_app: Any, tls_server: str) -> None:
    app = make_app()
    app.controller.connect_to(tls_server, "pk_x")
    view = app.window.connect_view
    qtbot.waitUntil(lambda: "certificate" in view.status.text(), timeout=10_000)
    assert view.status.property("role") == "error" and app.window.current_page == "connect"


def test_a_refused_connection_is_reported_at_once_with_no_retry(qtbot: Any, make_app: Any) -> None:
    """Issue 12: "Checking…" for ~17 s, then [Errno 111]. The check makes one attempt and says it in words."""
    sleeps: list[float] = []

    def factory(url: str, key: str) -> ApiClient:
        return ApiClient(url, key, retry=RetryPolicy(attempts=5, backoff=1.0), sleep=sleeps.append)

    app = make_app(client_factory=factory)
    view = app.window.connect_view
    app.controller.connect_to(f"http://127.0.0.1:{free_port()}", "pk_x")
    assert view.cancel_button.isVisibleTo(view) and not view.connect_button.isEnabled()
    qtbot.waitUntil(view.connect_button.isEnabled, timeout=5000)
    assert "connection was refused" in view.status.text() and "Errno" not in view.status.text()
    assert sleeps == []  # no back-off before telling the user
    assert not view.cancel_button.isVisibleTo(view)


def test_cancel_drops_a_slow_connection_check(qtbot: Any, make_app: Any) -> None:
    import socket

    with socket.socket() as listener:  # accepts, never answers: the check would wait for its timeout
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        app = make_app()
        view = app.window.connect_view
        app.controller.connect_to(f"http://127.0.0.1:{listener.getsockname()[1]}", "pk_x")
        view.cancel_button.click()
        assert view.connect_button.isEnabled() and view.status.text() == "Cancelled."
        assert app.controller.client is None


def test_quitting_closes_the_client_of_a_check_not_answered_yet(make_app: Any) -> None:
    """Its answer would close it, but after quitting no answer is delivered: shutdown closes it."""
    made: list[ApiClient] = []

    def factory(url: str, key: str) -> ApiClient:
        made.append(ApiClient(url, key))
        return made[-1]

    app = make_app(client_factory=factory)
    app.controller.connect_to(f"http://127.0.0.1:{free_port()}", "pk_x")
    app.controller.shutdown()
    assert len(made) == 1 and made[0].closed
