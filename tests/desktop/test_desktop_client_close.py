"""Closing the client while other threads use it (the app's shutdown): no socket is left open, none is opened.

The desktop e2e tests failed now and then with ``ResourceWarning: unclosed <socket>`` garbage-collected after
the app had quit: close() had shut a pool whose connection was still being opened by a poll on a worker thread.
These tests hold a real loopback connection at that point, so they fail every time on that code.
"""

from __future__ import annotations

import gc
import json
import socket
import ssl
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from desktop_support import job_json
from paqshot_desktop.client import ApiClient, ClientClosed
from paqshot_desktop.wire import Job

WAIT_S = 10.0


class OneShotServer:
    """Loopback server for one connection: it accepts it, holds it (before the TLS handshake when ``tls`` is
    given) until :attr:`release` is set, answers one GET with a job, then reports when the client hangs up."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.tls = tls
        self.accepted = threading.Event()
        self.release = threading.Event()
        self.hung_up = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(WAIT_S)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return  # closed without a connection
        self.accepted.set()
        self.release.wait(WAIT_S)
        with self.tls.wrap_socket(conn, server_side=True) if self.tls else conn as stream:
            stream.settimeout(WAIT_S)
            request = b""
            while b"\r\n\r\n" not in request:
                request += stream.recv(4096)
            body = json.dumps(job_json("gen_1", "completed")).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            stream.sendall(head.encode() + body)
            try:
                if stream.recv(1) == b"":
                    self.hung_up.set()
            except (ssl.SSLError, ConnectionError):  # a TLS peer closing without close_notify
                self.hung_up.set()
            except TimeoutError:
                pass  # the client kept the connection open

    def close(self) -> None:
        self.release.set()
        self.listener.close()
        self.thread.join(WAIT_S)


@pytest.fixture
def serve() -> Iterator[Callable[..., OneShotServer]]:
    servers: list[OneShotServer] = []

    def start(tls: ssl.SSLContext | None = None) -> OneShotServer:
        servers.append(OneShotServer(tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``fn`` on a new thread (as a worker of the app's pool would); its result or exception lands in the list."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(fn())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def unclosed_sockets() -> list[str]:
    """ResourceWarnings of sockets that garbage collection finds still open."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def close_while_held(server: OneShotServer, client: ApiClient) -> None:
    """Close ``client`` while the server holds its request; the request still gets its answer, then its
    connection is closed and no socket is left open."""
    worker, outcome = in_thread(lambda: client.job("gen_1"))
    assert server.accepted.wait(WAIT_S)
    client.close()
    server.release.set()
    worker.join(WAIT_S)
    assert len(outcome) == 1 and isinstance(outcome[0], Job), outcome
    assert server.hung_up.wait(WAIT_S), "the connection was left open after its request ended"
    assert unclosed_sockets() == []


def test_close_while_a_connection_is_being_opened_leaves_no_socket_open(
    serve: Callable[..., OneShotServer], self_signed_cert: tuple[Path, Path]
) -> None:
    """The CI flake: close() ran while a worker's connection was still being opened (held here in its TLS
    handshake). The request still gets its answer, and its connection is closed as soon as it ends."""
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(*self_signed_cert)
    server = serve(tls)
    client = ApiClient(server.url, "pk_x", verify=False)
    close_while_held(server, client)


def test_close_while_an_answer_is_awaited_lets_it_arrive_then_closes_the_connection(
    serve: Callable[..., OneShotServer],
) -> None:
    server = serve()
    client = ApiClient(server.url, "pk_x")
    close_while_held(server, client)


def test_a_request_after_close_raises_and_opens_no_connection() -> None:
    """A worker thread that never used the client (a callback's download after the app quit) gets a clear
    error instead of a new connection pool that nothing would close."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = ApiClient(f"http://127.0.0.1:{listener.getsockname()[1]}", "pk_x")
        client.close()
        worker, outcome = in_thread(lambda: client.job("gen_1"))
        worker.join(WAIT_S)
        assert len(outcome) == 1 and isinstance(outcome[0], ClientClosed), outcome
        assert "closed" in str(outcome[0])
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing connected
    assert unclosed_sockets() == []
