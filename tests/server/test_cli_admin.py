"""`init` and `doctor`: a fresh data folder that works, and problems that are named with their fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from paqshot_server.settings import Settings, load_settings

BIN = str(Path(sys.executable).parent / "paqshot")


def run(*args: str, env_home: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(env_home), **(extra_env or {})}
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=120)


def test_init_makes_a_working_folder_and_a_config_that_parses(tmp_path: Path) -> None:
    home = tmp_path / "data"
    out = run("init", env_home=home)
    assert out.returncode == 0, out.stderr
    assert re.search(r"pk_live_[A-Za-z0-9]{40}", out.stdout)
    assert (home / "app.db").exists() and (home / "secret.key").exists()
    template = (home / "config.toml").read_text()
    (home / "config.toml").write_text(re.sub(r"^# (\w+ = )", r"\1", template, flags=re.M))  # uncomment all
    resolved = load_settings({"PAQSHOT_HOME": str(home)})
    defaults = Settings(home=home)
    assert resolved == defaults  # every documented default is the real default
    again = run("init", env_home=home)
    assert "pk_live_" not in again.stdout  # a second init creates no second key


def test_doctor_reports_and_fails_on_real_problems(tmp_path: Path) -> None:
    home = tmp_path / "data"
    run("init", env_home=home)
    healthy = run("doctor", "--json", env_home=home)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    checks = {c["name"]: c for c in json.loads(healthy.stdout)}
    assert checks["database"]["level"] == "ok" and checks["gpu"]["level"] == "warn"
    strict = run("doctor", "--json", env_home=home, extra_env={"PAQSHOT_REQUIRE_GPU": "true"})
    assert strict.returncode == 1  # no GPU here: require_gpu makes that a failure, with a fix
    gpu = {c["name"]: c for c in json.loads(strict.stdout)}["gpu"]
    assert gpu["level"] == "fail" and "CUDA" in gpu["fix"]
