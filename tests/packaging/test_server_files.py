"""The server install files: systemd units, Dockerfile and compose file parse and say what they must."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "packaging" / "server"
UNITS = ["appliance-api.service", "appliance-worker@.service"]


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive in systemd
    parser.read(SERVER / name)
    return parser


@pytest.mark.parametrize("name", UNITS)
def test_units_are_graceful_restartable_and_hardened(name: str) -> None:
    service = unit(name)["Service"]
    assert service["KillSignal"] == "SIGINT"
    assert service["Restart"] == "on-failure"
    assert service["ExecStart"].startswith("/opt/appliance/.venv/bin/paqshot ")
    for option in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "ReadWritePaths"):
        assert option in service, option
    assert unit(name)["Install"]["WantedBy"] == "multi-user.target"
    assert int(service["LimitNOFILE"]) >= 65536  # systemd's default soft 1024: 1,100 held connections took them all


def test_worker_stop_timeout_outlasts_a_job() -> None:
    worker = unit("appliance-worker@.service")["Service"]
    assert int(worker["TimeoutStopSec"]) >= 600
    assert "PrivateDevices" not in worker  # GPU device nodes must stay visible
    assert "Environment=CUDA_VISIBLE_DEVICES=%i" in (SERVER / "appliance-worker@.service").read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed here")
def test_systemd_analyze_verify() -> None:
    for name in UNITS:
        out = subprocess.run(["systemd-analyze", "verify", str(SERVER / name)], capture_output=True, text=True)
        assert "Unknown key" not in out.stderr and "Invalid" not in out.stderr, out.stderr


def test_dockerfile_copies_existing_paths_and_runs_unprivileged() -> None:
    text = (SERVER / "Dockerfile").read_text()
    assert re.search(r"^FROM nvidia/cuda:13[\w.\-]*cudnn-runtime", text, re.M)
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    assert re.search(r"^USER appliance$", text, re.M)
    assert "STOPSIGNAL SIGINT" in text
    assert "torch" not in text.lower()
    assert "uv sync --frozen" in text  # the lock file, not a fresh resolve


def test_compose_reserves_a_gpu_and_keeps_data() -> None:
    compose = yaml.safe_load((SERVER / "compose.yaml").read_text())
    service = compose["services"]["appliance"]
    devices = service["deploy"]["resources"]["reservations"]["devices"][0]
    assert devices["driver"] == "nvidia" and "gpu" in devices["capabilities"]
    assert service["stop_signal"] == "SIGINT"
    assert any(v.endswith(":/data") for v in service["volumes"])
    assert service["build"]["dockerfile"] == "packaging/server/Dockerfile"


def test_the_image_installs_the_default_cutout_model_for_every_data_volume() -> None:
    text = (SERVER / "Dockerfile").read_text()
    steps = re.findall(r"^(RUN|COPY|USER) (.+?)(?<!\\)$", text, re.M | re.S)
    kinds = [(kind, body.split()[0] if kind == "COPY" else body) for kind, body in steps]
    setup = next(i for i, (kind, body) in enumerate(kinds) if kind == "RUN" and "models setup" in body)
    sync = next(i for i, (kind, body) in enumerate(kinds) if kind == "RUN" and "uv sync" in body)
    user = next(i for i, (kind, _) in enumerate(kinds) if kind == "USER")
    assert sync < setup < user  # after the runtime exists, as root (the install level belongs to the image)
    assert ("COPY", "models/catalogue") in kinds[:setup]  # the catalogue names the pinned sources
    assert "|| true" in kinds[setup][1]  # a build without the registry still gives a working (classical) image
