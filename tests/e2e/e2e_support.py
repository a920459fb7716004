"""Helpers for the end-to-end tests: a real appliance process on a free loopback port."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "paqshot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Appliance:
    home: Path
    env: dict[str, str]
    port: int = 0
    log_path: Path | None = None
    proc: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN), *args], env=self.env, capture_output=True, text=True, timeout=60, check=True)

    def create_key(self, name: str = "e2e", *extra: str) -> dict:
        return json.loads(self.cli("keys", "create", "--name", name, "--json", *extra).stdout)

    def start(self, *args: str, launcher: Sequence[str] = ()) -> None:
        """``paqshot serve`` on a free port, run through ``launcher`` (a command that runs its arguments) if any."""
        self.port = free_port()
        self.log_path = self.home.parent / f"serve-{self.port}.log"
        command = [*launcher, str(BIN), "serve", "--port", str(self.port), *args]
        with open(self.log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready(require_worker="--no-worker" not in args)

    def start_worker(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [str(BIN), "worker"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.workers.append(proc)
        return proc

    def wait_ready(self, require_worker: bool = True, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is None or self.proc.poll() is None, "serve exited during start-up"
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200 or (not require_worker and r.json()["checks"]["database"] == "ok"):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("appliance did not become ready")

    def stop(self) -> int | None:
        for proc in [self.proc, *self.workers]:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        code = None
        for proc in [self.proc, *self.workers]:
            if proc is None:
                continue
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc is self.proc:
                code = proc.returncode
        return code


def wait_terminal(url: str, job_id: str, headers: dict, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/v1/generate/{job_id}", headers=headers, timeout=5).json()
        if body["status"] != "processing":
            return body
        time.sleep(0.1)
    raise AssertionError(f"{job_id} still processing after {timeout} s")
