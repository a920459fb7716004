"""Helpers shared by the benchmarks that start a real appliance on loopback."""

from __future__ import annotations

import socket
import time

import httpx


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_200(url: str, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; AssertionError after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.time() < deadline, f"{url} did not answer 200 within {timeout:.0f} s"
        time.sleep(0.2)
