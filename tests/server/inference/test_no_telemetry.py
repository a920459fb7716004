"""onnxruntime's telemetry stays off: running a model through the runtime writes nothing in the user's home.

onnxruntime >= 1.29 on Linux creates a device id and an event cache under ``~/.cache/Microsoft`` when imported,
and uploads them where a network is reachable; the appliance sends nothing off the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"

SCRIPT = r"""
import sys, tempfile
from pathlib import Path
import numpy as np
from paqshot_server.inference.store import ModelStore
from paqshot_server.inference.segmenters import load_default_segmenter

with tempfile.TemporaryDirectory() as tmp:
    store = ModelStore(Path(tmp))
    store.install(Path(sys.argv[1]) / "tiny-seg")
    matte = load_default_segmenter(Path(tmp)).segment(np.full((60, 80, 3), 200, np.uint8))
print(matte.alpha.shape)
"""


# What onnxruntime reads to keep its telemetry off by itself on a CI runner (the names in its library's strings):
# the control below must not be such a run, or it cannot see what onnxruntime does elsewhere.
CI_VARIABLES = (
    "CI", "CONTINUOUS_INTEGRATION", "APPVEYOR", "BUILDKITE", "CIRCLECI", "CODEBUILD_BUILD_ID", "GITHUB_ACTIONS",
    "GITLAB_CI", "JENKINS_URL", "TEAMCITY_VERSION", "TF_BUILD", "TRAVIS", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
    "ORT_RUNNING_UNIT_TESTS",
)  # fmt: skip


def _files_left_in_home(home: Path, telemetry: str | None) -> list[str]:
    """Run a tiny segmentation model in a clean interpreter whose home (and cache folder) is ``home``, as on a
    machine that is not a CI runner."""
    dropped = ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME", *CI_VARIABLES)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["HOME"] = str(home)
    if telemetry is not None:
        env["ORT_DISABLE_TELEMETRY"] = telemetry
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(FIXTURES)], env=env, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("(60, 80)")
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())


def test_running_a_model_writes_no_telemetry_in_the_users_home(tmp_path: Path) -> None:
    assert _files_left_in_home(tmp_path, None) == []


def test_an_operator_who_turns_telemetry_on_gets_onnxruntimes_own_behaviour(tmp_path: Path) -> None:
    # Also shows that the probe above can see onnxruntime's files: with telemetry on, its device id appears.
    files = _files_left_in_home(tmp_path, "0")
    assert any(name.endswith(".onnxruntime/deviceid") for name in files), files
