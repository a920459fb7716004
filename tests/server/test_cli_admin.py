"""`init` and `doctor`: a fresh data folder that works, and problems that are named with their fix."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import stat
import subprocess
import sys
from pathlib import Path

from paqshot_server.settings import Settings, load_settings
from paqshot_server.storage import keys as keys_sql
from paqshot_server.storage.db import connect
from support import no_model_downloads

BIN = str(Path(sys.executable).parent / "paqshot")


def run(*args: str, env_home: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(env_home), **no_model_downloads(env_home.parent)}
    env.update(extra_env or {})
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=120)


def test_init_makes_a_working_folder_and_a_config_that_parses(tmp_path: Path) -> None:
    home = tmp_path / "data"
    out = run("init", env_home=home)
    assert out.returncode == 0, out.stderr
    assert (home / "app.db").exists() and (home / "secret.key").exists()
    # No registry here: init says so in one line and carries on (the classical cut-out serves).
    assert [line for line in out.stdout.splitlines() if "u2netp" in line] == [
        next(line for line in out.stdout.splitlines() if "u2netp not installed" in line and "classical" in line)
    ]
    template = (home / "config.toml").read_text()
    (home / "config.toml").write_text(re.sub(r"^# (\w+ = )", r"\1", template, flags=re.M))  # uncomment all
    resolved = load_settings({"PAQSHOT_HOME": str(home)})
    defaults = Settings(home=home)
    assert resolved == defaults  # every documented default is the real default
    again = run("init", env_home=home)
    assert "pk_live_" not in again.stdout and "First API key" not in again.stdout  # no second key


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


def test_first_key_goes_to_a_private_file_and_to_a_terminal_never_to_a_log(tmp_path: Path) -> None:
    """Not a terminal (a service journal, a pipe): only the file's path is printed. A terminal: the key too."""
    home = tmp_path / "piped"
    out = run("init", env_home=home)
    key_file = home / "first-api-key.txt"
    assert f"it is in {key_file}" in out.stdout
    assert "pk_live_" not in out.stdout + out.stderr and "whsec_" not in out.stdout + out.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    clear = re.search(r"pk_live_[A-Za-z0-9]{40}", key_file.read_text())
    assert clear and keys_sql.find_active(connect(home / "app.db"), clear.group(0)) is not None

    home = tmp_path / "terminal"
    leader, follower = pty.openpty()
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(home), **no_model_downloads(tmp_path)}
    done = subprocess.run([BIN, "init"], env=env, stdout=follower, stderr=subprocess.PIPE, timeout=120)
    os.close(follower)
    shown = b""
    while select.select([leader], [], [], 0.5)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0, done.stderr
    key = re.search(rb"First API key:\s+(pk_live_[A-Za-z0-9]{40})", shown)
    assert key and key.group(1).decode() in (home / "first-api-key.txt").read_text()


def test_doctor_in_a_missing_data_folder_says_so_and_writes_nothing(tmp_path: Path) -> None:
    # breaker17 B17-11: doctor run from another folder made ./data and ./data/files there and called them writable.
    home = tmp_path / "elsewhere" / "data"
    out = run("doctor", "--json", env_home=home)
    assert out.returncode == 1, out.stderr
    assert [(c["name"], c["level"]) for c in json.loads(out.stdout)] == [("data folder", "fail")]
    assert not (tmp_path / "elsewhere").exists()


def test_doctor_names_the_engine_of_every_style(tmp_path: Path) -> None:
    home = tmp_path / "data"
    run("init", env_home=home)
    text = run("doctor", env_home=home).stdout
    assert "studio packshots only" not in text
    no_models = {"PAQSHOT_INSTALL_MODELS_DIR": ""}  # none from the install either: what runs is known
    checks = {c["name"]: c for c in json.loads(run("doctor", "--json", env_home=home, extra_env=no_models).stdout)}
    assert checks["models"]["level"] == "ok" and "every style still renders" in checks["models"]["detail"]
    assert checks["style studio_packshot"]["detail"].startswith("engine classical:")
    for style in ("lifestyle", "editorial", "mockup"):
        assert checks[f"style {style}"]["level"] == "ok"
        assert checks[f"style {style}"]["detail"].startswith("engine procedural:")


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`doctor --json | head`: the reader leaves first; no traceback, no 'Exception ignored'."""
    home = tmp_path / "data"
    run("init", env_home=home)
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(home)}
    proc = subprocess.Popen([BIN, "doctor", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the program has written anything
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err


def test_keys_list_and_revoke_by_a_shared_name(tmp_path: Path) -> None:
    home = tmp_path / "data"
    ids = [json.loads(run("keys", "create", "--name", "ci", "--json", env_home=home).stdout)["id"] for _ in range(2)]
    listed = run("keys", "list", env_home=home).stdout
    assert "None" not in listed and listed.count("no quota") == 2
    assert [k["id"] for k in json.loads(run("keys", "list", "--json", env_home=home).stdout)] == ids

    refused = run("keys", "revoke", "ci", env_home=home)
    assert refused.returncode == 1
    assert "2 active keys are named 'ci'" in refused.stderr and all(i in refused.stderr for i in ids)
    assert all(k.revoked_at is None for k in keys_sql.list_keys(connect(home / "app.db")))

    assert run("keys", "revoke", ids[0], env_home=home).returncode == 0
    assert run("keys", "revoke", "ci", env_home=home).returncode == 0  # now one active key has the name
    assert all(k.revoked_at is not None for k in keys_sql.list_keys(connect(home / "app.db")))
    gone = run("keys", "revoke", "ci", env_home=home)
    assert gone.returncode == 1 and "no active key" in gone.stderr


def test_serve_on_a_busy_port_is_one_plain_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run("serve", "--port", str(port), env_home=tmp_path / "data")
    assert out.returncode == 1
    assert out.stdout == ""  # no banner, no key
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0] and "--port" in lines[0], out.stderr


def test_keys_create_sets_the_weight_and_refuses_one_out_of_bounds(tmp_path: Path) -> None:
    home = tmp_path / "data"
    made = run("keys", "create", "--name", "heavy", "--weight", "2.5", "--json", env_home=home)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["weight"] == 2.5
    assert keys_sql.get(connect(home / "app.db"), json.loads(made.stdout)["id"]).weight == 2.5  # type: ignore[union-attr]
    listed = run("keys", "list", env_home=home)
    assert "weight 2.5" in listed.stdout
    refused = run("keys", "create", "--name", "zero", "--weight", "0", env_home=home)
    assert refused.returncode == 2 and "--weight: must be a number from 0.01 to 100" in refused.stderr
