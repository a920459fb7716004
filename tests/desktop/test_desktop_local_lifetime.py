""" "Run on this computer": the local appliance stops with the app however the app ends (issue 12).

SIGTERM (log-out, ``kill``) reaches Qt's quit through the app's signal handlers; SIGKILL or a crash reaches the
child through its parent-death signal (``launch.py``); what escapes both is stopped by the next start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from paqshot_desktop.local import PID_FILE, stop_orphan

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal and /proc: Linux")

# Writes "stopped" to the file named in argv[1] on SIGINT (and "<argv[1]>.ready" once it listens), else sleeps;
# the extra argv words make it look like an appliance serving (what stop_orphan checks in the command line).
CHILD = textwrap.dedent(
    """
    import signal, sys, time
    def stop(*_):
        open(sys.argv[1], "w").write("stopped")
        sys.exit(0)
    signal.signal(signal.SIGINT, stop)
    open(sys.argv[1] + ".ready", "w").close()
    time.sleep(120)
    """
)


def _gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return True  # exited, waiting for its (dead) parent's reaper
        time.sleep(0.05)
    return False


def test_the_child_stops_when_its_parent_is_killed(tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    parent_code = textwrap.dedent(
        f"""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-m", "paqshot_desktop.launch", str(os.getpid()), "--",
                                  sys.executable, "-c", {CHILD!r}, {str(marker)!r}])
        print(child.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    parent.stdout.close()
    ready = Path(f"{marker}.ready")  # the launcher has exec'd the child and its handler is in place
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ready.exists(), "the launched child never started"
    parent.kill()  # SIGKILL: no handler of the parent runs
    parent.wait(10)
    assert _gone(child_pid), "the child outlived its killed parent"
    assert marker.read_text() == "stopped"  # it got SIGINT, the appliance's clean stop


def test_the_appliance_hears_sigint_even_when_the_app_was_started_with_it_ignored() -> None:
    """An app started in a shell's background inherits SIGINT ignored, which exec keeps: the launcher gives the
    appliance the default back, so its stop (SIGINT) is heard from its first instruction."""
    report = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    ignoring = ["sh", "-c", 'trap "" INT; exec "$@"', "sh"]
    launcher = [sys.executable, "-m", "paqshot_desktop.launch", str(os.getpid()), "--"]
    launched = subprocess.run(
        [*ignoring, *launcher, sys.executable, "-c", report],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert launched.stdout.strip() == "True"


def test_an_orphan_left_by_an_earlier_run_is_stopped_at_the_next_start(tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    fake_exe = tmp_path / "bin" / "paqshot"
    orphan = subprocess.Popen([sys.executable, "-c", CHILD, str(marker), str(fake_exe), "serve"])
    try:
        time.sleep(0.5)
        (tmp_path / PID_FILE).write_text(str(orphan.pid))
        assert stop_orphan(tmp_path, fake_exe) == orphan.pid
        orphan.wait(10)
        assert marker.read_text() == "stopped" and not (tmp_path / PID_FILE).exists()
    finally:
        orphan.kill()


def test_a_recycled_pid_of_another_program_is_left_alone(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / PID_FILE).write_text(str(other.pid))
        assert stop_orphan(tmp_path, tmp_path / "bin" / "paqshot") is None
        assert other.poll() is None  # still running
        assert not (tmp_path / PID_FILE).exists()
    finally:
        other.kill()
        other.wait(10)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_the_local_appliance_stops_when_the_app_is_ended(tmp_path: Path, how: signal.Signals) -> None:
    """The real app, started as its users start it, with "Run on this computer" remembered; then ended."""
    settings = tmp_path / "settings.ini"
    settings.write_text("[General]\nuse_local=true\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    app = subprocess.Popen(
        [sys.executable, "-m", "paqshot_desktop.app", "--settings", str(settings)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        pid_files: list[Path] = []
        while not pid_files and time.monotonic() < deadline:
            pid_files = list((tmp_path / "data").rglob(PID_FILE))
            time.sleep(0.2)
        assert pid_files, "the app did not start its local appliance"
        appliance_pid = int(pid_files[0].read_text())
        time.sleep(2.0)  # well into its start-up
        app.send_signal(how)
        app.wait(60)
        assert _gone(appliance_pid, 40), f"the appliance outlived the app ended by {how.name}"
        if how == signal.SIGTERM:
            assert app.returncode == 0  # a clean quit: aboutToQuit ran
    finally:
        if app.poll() is None:
            app.kill()
