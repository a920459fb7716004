"""``models list | install | verify | remove`` through the real command-line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paqshot_server.cli import main
from paqshot_server.inference.manifests import Manifest, dump_toml


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
    assert lines[0].split() == ["ID", "ROLE", "LICENCE", "COMMERCIAL", "STYLES", "RUNS", "ON"]
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
