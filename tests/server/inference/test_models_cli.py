"""``models list | install | verify | remove`` through the real command-line entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from paqshot_server.cli import main
from paqshot_server.inference.manifests import Manifest, dump_toml
from PIL import Image


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_models_cli_round_trip(tmp_path: Path, fixture_models: Path, capsys, model_copy) -> None:
    home = ("--home", str(tmp_path / "home"))
    code, out = run(capsys, "models", "list", *home)
    assert code == 0 and "no models installed" in out

    code, out = run(capsys, "models", "install", str(fixture_models / "tiny-sd-inpaint"), *home)
    assert code == 0 and "installed tiny-sd-inpaint" in out and "CPUExecutionProvider" in out

    gated = model_copy("tiny-seg")
    data = Manifest.load(gated).to_dict()
    data.update(licence="CC-BY-NC-4.0", commercial_ok=False)
    (gated / "manifest.toml").write_text(dump_toml(data))
    code, out = run(capsys, "models", "install", str(gated), *home)
    assert code == 3 and "--accept-licence" in out
    code, out = run(capsys, "models", "install", str(gated), "--accept-licence", *home)
    assert code == 0

    code, out = run(capsys, "models", "list", *home)
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "ROLE", "LICENCE", "COMMERCIAL", "STYLES", "RUNS", "ON", "WHERE"]
    row = next(line for line in lines if line.startswith("tiny-seg"))
    assert "accepted" in row and "studio_packshot" in row
    code, out = run(capsys, "models", "list", "--json", *home)
    listed = {m["id"]: m for m in json.loads(out)}
    assert listed["tiny-sd-inpaint"]["styles"] == ["lifestyle", "editorial", "mockup"]
    assert listed["tiny-seg"]["commercial_ok"] is False and listed["tiny-seg"]["device"] == "cpu"

    code, out = run(capsys, "models", "verify", *home)
    assert code == 0 and "tiny-seg: ok" in out
    (tmp_path / "home" / "models" / "tiny-seg" / "model.onnx").write_bytes(b"not a model")
    code, out = run(capsys, "models", "verify", "--json", *home)
    assert code == 1
    bad = {r["id"]: r for r in json.loads(out)}["tiny-seg"]
    assert bad["ok"] is False and bad["problems"]

    code, out = run(capsys, "models", "remove", "tiny-seg", *home)
    assert code == 0
    code, out = run(capsys, "models", "remove", "tiny-seg", *home)
    assert code == 1 and "No installed model" in out


def test_shared_installs_serve_every_data_folder(
    tmp_path: Path, fixture_models: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAQSHOT_INSTALL_MODELS_DIR", str(tmp_path / "install"))
    code, out = run(capsys, "models", "install", str(fixture_models / "tiny-seg"), "--shared", "--home", "unused")
    assert code == 0 and str(tmp_path / "install") in out
    code, out = run(capsys, "models", "list", "--json", "--home", str(tmp_path / "another-home"))
    assert [(m["id"], m["scope"]) for m in json.loads(out)] == [("tiny-seg", "install")]
    code, out = run(capsys, "models", "remove", "tiny-seg", "--home", str(tmp_path / "another-home"))
    assert code == 1 and "--shared" in out
    code, out = run(capsys, "models", "remove", "tiny-seg", "--shared")
    assert code == 0 and not (tmp_path / "install" / "tiny-seg").exists()


def test_remove_says_which_level_a_model_is_at_either_way(
    tmp_path: Path, fixture_models: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """breaker9 F6: README's `models remove u2netp-int8` failed on a fresh set-up (installed for the whole
    installation); the way back is `--shared` there, and a `--shared` on a data-folder model says so too."""
    monkeypatch.setenv("PAQSHOT_INSTALL_MODELS_DIR", str(tmp_path / "install"))
    home = ("--home", str(tmp_path / "home"))
    code, out = run(capsys, "models", "install", str(fixture_models / "tiny-seg"), *home)
    assert code == 0
    code, out = run(capsys, "models", "remove", "tiny-seg", "--shared", *home)
    assert code == 1 and "installed in this data folder" in out and "without --shared" in out, out
    code, out = run(capsys, "models", "remove", "tiny-seg", *home)
    assert code == 0
    code, out = run(capsys, "models", "remove", "tiny-seg", "--shared", *home)
    assert code == 1 and "No installed model" in out


def test_setup_without_the_registry_says_so_in_one_line_and_classical_serves(tmp_path: Path) -> None:
    """Registry unreachable (a dead proxy on loopback stands for a box without internet)."""
    env = {
        **os.environ,
        "PAQSHOT_HOME": str(tmp_path / "home"),
        "PAQSHOT_INSTALL_MODELS_DIR": str(tmp_path / "install"),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    cli = Path(sys.executable).parent / "paqshot"
    done = subprocess.run(
        [cli, "models", "setup", "--cache", str(tmp_path / "cache")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and "u2netp not installed" in lines[0] and "classical" in lines[0], done.stdout
    assert not (tmp_path / "install" / "u2netp").exists()
    photo = tmp_path / "p.png"
    img = Image.new("RGB", (160, 120), (236, 236, 236))
    img.paste((190, 30, 35), (40, 30, 120, 90))
    img.save(photo)
    out = subprocess.run(
        [cli, "generate", str(photo), "-o", str(tmp_path / "out"), "--long-side", "256", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["engine"] == "classical"


def test_pull_names_what_can_be_pulled(tmp_path: Path, capsys) -> None:
    code, out = run(capsys, "models", "pull", "no-such-model", "--home", str(tmp_path / "home"))
    assert code == 1 and "no catalogue entry 'no-such-model'" in out
    for pullable in ("birefnet-general", "birefnet-lite", "isnet-general-use", "u2net", "u2netp"):
        assert pullable in out
    code, out = run(capsys, "models", "pull", "rmbg-1.4", "--home", str(tmp_path / "home"))
    assert code == 3 and "--accept-licence" in out  # the licence gate speaks before the missing download
