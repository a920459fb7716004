"""'Run on this computer': the local appliance as a child process with its own data folder.

The appliance program is found next to the app's Python (same environment), started on a free loopback
port, and waited for through ``GET /healthz`` on a worker. The first API key is created with the
program's own ``keys create`` command and kept in the data folder (it belongs to that database).
The process is stopped when the app quits, however it ends: ``aboutToQuit`` (also reached from the app's
SIGTERM/SIGHUP handlers), a parent-death signal set in the child (``launch.py``), and, for what escapes both,
the pid file that lets the next start stop an orphan.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from .branding import Brand, ServerIdentity
from .workers import Runner

KEY_FILE = "desktop-api-key.json"
KEY_NAME = "desktop"
PID_FILE = "desktop-appliance.pid"  # the running child's pid, so the next start can stop an orphan


@dataclass(frozen=True)
class LocalEndpoint:
    """Where the started appliance listens and the key the app uses with it."""

    url: str
    api_key: str


def redact(line: str, server: ServerIdentity) -> str:
    """Hide API keys and webhook secrets the appliance prints (its log is shown on screen)."""
    for prefix in (server.key_prefix, server.webhook_secret_prefix):
        if prefix:
            # base64 of either alphabet: webhook secrets are standard base64 (+ / =), older ones URL-safe (- _)
            line = re.sub(re.escape(prefix) + r"[A-Za-z0-9_\-+/=]+", prefix + "…(hidden)", line)
    return line


def find_executable(brand: Brand) -> Path | None:
    """The appliance program in the app's environment (next to ``sys.executable``), else on PATH."""
    beside = Path(sys.executable).parent / brand.server_executable
    if beside.is_file():
        return beside
    found = shutil.which(brand.server_executable)
    return Path(found) if found else None


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def appliance_env(brand: Brand, data_dir: Path) -> dict[str, str]:
    """Environment variables that point the appliance at its data folder and the brand."""
    env: dict[str, str] = {}
    # The appliance resolves its own settings with the reference prefix before it knows the brand, and
    # with the brand's prefix afterwards: set both so either reading finds the data folder.
    for prefix in {ServerIdentity().env_prefix, brand.server.env_prefix}:
        env[f"{prefix}HOME"] = str(data_dir)
        if brand.folder is not None:
            env[f"{prefix}BRAND_FILE"] = str(brand.folder / "brand.toml")
    return env


def wait_healthy(url: str, stop: threading.Event, timeout: float = 60.0) -> None:
    """Block (on a worker) until ``GET /healthz`` answers 200; raises RuntimeError on timeout or exit."""
    import httpx  # deferred: see client._httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if stop.is_set():
                raise RuntimeError("The local appliance stopped while starting. See its log below.")
            try:
                if client.get(url + "/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
    raise RuntimeError(f"The local appliance did not become ready within {timeout:.0f} s.")


def ensure_key(executable: Path, env: dict[str, str], data_dir: Path) -> str:
    """The app's key for this data folder, created with ``keys create --json`` the first time."""
    key_file = data_dir / KEY_FILE
    if key_file.is_file():
        try:
            stored = json.loads(key_file.read_text(encoding="utf-8"))
            if isinstance(stored.get("key"), str):
                return str(stored["key"])
        except (OSError, ValueError):
            pass  # unreadable: make a new one below
    done = subprocess.run(
        [str(executable), "keys", "create", "--name", KEY_NAME, "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Could not create an API key for the local appliance: {done.stderr.strip()}")
    created = json.loads(done.stdout.strip().splitlines()[-1])
    key = str(created["key"])
    key_file.write_text(json.dumps({"key": key, "id": created.get("id")}), encoding="utf-8")
    key_file.chmod(0o600)
    return key


def _cmdline(pid: int) -> str | None:
    """A process's command line (Linux /proc), or None when it cannot be read here."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; an exited process not yet reaped (a zombie: ``kill(pid, 0)`` still succeeds) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (not Linux): kill's answer stands
        return True


def stop_orphan(data_dir: Path, executable: Path, grace: float = 15.0) -> int | None:
    """Stop an appliance a previous run of the app left running on ``data_dir`` (it crashed, or was killed
    where no parent-death signal exists); returns its pid, or None when there was none.

    The pid comes from the pid file and is trusted only when that process's command line is our appliance
    serving (a recycled pid of another program is left alone).
    """
    pid_file = data_dir / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    cmdline = _cmdline(pid) if _alive(pid) else None
    if cmdline is None or str(executable) not in cmdline or " serve" not in cmdline:
        pid_file.unlink(missing_ok=True)
        return None
    os.kill(pid, signal.SIGINT)  # the appliance's clean stop (its workers too)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return pid


def launch_command(executable: Path, args: list[str]) -> tuple[str, list[str]]:
    """The program and arguments that start ``executable args`` so it stops when this process dies."""
    return sys.executable, ["-m", "paqshot_desktop.launch", str(os.getpid()), "--", str(executable), *args]


class LocalAppliance(QObject):
    """Owns the child appliance process."""

    ready = Signal(object)  # LocalEndpoint
    failed = Signal(str)
    output = Signal(str)

    def __init__(self, brand: Brand, data_dir: Path, runner: Runner) -> None:
        super().__init__()
        self.brand = brand
        self.data_dir = data_dir
        self.runner = runner
        self.process: QProcess | None = None
        self.endpoint: LocalEndpoint | None = None
        self._exited = threading.Event()
        self._partial = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")  # reads may split a character

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self) -> None:
        """Start the appliance (no-op when running); emits ``ready`` or ``failed`` later.

        An appliance a crashed earlier run left on the same data folder is stopped first (on a worker).
        """
        if self.running:
            if self.endpoint is not None:
                self.ready.emit(self.endpoint)
            return
        executable = find_executable(self.brand)
        if executable is None:
            self.failed.emit(f"The appliance program '{self.brand.server_executable}' is not installed.")
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.runner.submit(
            lambda: stop_orphan(self.data_dir, executable),
            lambda orphan: self._launch(executable, orphan),
            lambda exc: self.failed.emit(str(exc)),
        )

    def _launch(self, executable: Path, orphan: object) -> None:
        if orphan is not None:
            self.output.emit(f"Stopped an appliance an earlier session left running (process {orphan}).")
        env = appliance_env(self.brand, self.data_dir)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = QProcess(self)
        qenv = QProcessEnvironment.systemEnvironment()
        for key, value in env.items():
            qenv.insert(key, value)
        process.setProcessEnvironment(qenv)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._on_exit)
        process.errorOccurred.connect(self._on_exit)
        self._exited.clear()
        self.process = process
        program, args = launch_command(executable, ["serve", "--host", "127.0.0.1", "--port", str(port)])
        process.start(program, args)
        if process.waitForStarted(5000):
            (self.data_dir / PID_FILE).write_text(str(process.processId()))

        def boot() -> LocalEndpoint:
            wait_healthy(url, self._exited)
            return LocalEndpoint(url, ensure_key(executable, env, self.data_dir))

        self.runner.submit(boot, self._on_ready, lambda exc: self.failed.emit(str(exc)))

    def _on_ready(self, endpoint: object) -> None:
        assert isinstance(endpoint, LocalEndpoint)
        self.endpoint = endpoint
        self.ready.emit(endpoint)

    def _read_output(self) -> None:
        if self.process is not None:
            text = self._partial + self._decoder.decode(bytes(self.process.readAllStandardOutput().data()))
            # Keep an unfinished last line for the next read, so a key split across reads is still hidden.
            *lines, self._partial = text.split("\n")
            for line in lines:
                self.output.emit(redact(line.rstrip("\r"), self.brand.server))

    def _on_exit(self, *_args: object) -> None:
        self._exited.set()
        self.endpoint = None

    def stop(self, grace_ms: int = 15000) -> None:
        """Stop the appliance gracefully, killing it after ``grace_ms``. Called when the app quits."""
        process, self.process = self.process, None
        self.endpoint = None
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            return
        pid = process.processId()
        if os.name == "posix" and pid > 0:
            # SIGINT, the appliance's clean stop: its workers finish their jobs. A second SIGINT after the grace
            # makes it kill and reap them at once (their jobs run again at the next start); killing the appliance
            # itself would leave a worker on its job.
            os.kill(pid, signal.SIGINT)
            if not process.waitForFinished(grace_ms):
                os.kill(pid, signal.SIGINT)
        else:
            process.terminate()
        if not process.waitForFinished(grace_ms):
            process.kill()
            process.waitForFinished(grace_ms)
        (self.data_dir / PID_FILE).unlink(missing_ok=True)
