"""onnxruntime threads follow the CPUs a process may use and how many jobs share them; no spinning when shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from paqshot_server.engines import Engines
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.inference import sessions
from paqshot_server.inference.sessions import CpuPlan, cpu_plan, create_session
from paqshot_server.inference.store import ModelStore
from paqshot_server.settings import Settings
from PIL import Image

CPUS = sorted(os.sched_getaffinity(0))


def _plans_under(cpus: set[int], concurrent: list[int]) -> list[dict]:
    """cpu_plan(n) for each n, computed in a fresh process pinned to ``cpus`` (what ``taskset`` does)."""
    code = (
        "import json, os, sys; os.sched_setaffinity(0, set(json.loads(sys.argv[1])));"
        "from paqshot_server.inference.sessions import cpu_plan;"
        "print(json.dumps([vars(cpu_plan(n)) for n in json.loads(sys.argv[2])]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(sorted(cpus)), json.dumps(concurrent)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_one_core_one_thread_and_no_spinning_when_shared() -> None:
    alone, shared = _plans_under({CPUS[0]}, [1, 2])
    assert alone == {"threads": 1, "spinning": True}
    assert shared == {"threads": 1, "spinning": False}  # two workers on one core: neither spins


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs in this process's affinity")
def test_threads_are_the_affinity_divided_among_jobs() -> None:
    alone, two, four = _plans_under(set(CPUS[:2]), [1, 2, 4])
    assert alone == {"threads": 2, "spinning": True}
    assert two == {"threads": 1, "spinning": False}
    assert four == {"threads": 1, "spinning": False}
    assert cpu_plan(2, threads=3).threads == 3  # an explicit count wins


def test_a_session_is_built_with_the_plan(fixture_models: Path) -> None:
    session = create_session(fixture_models / "tiny-seg" / "model.onnx", device="cpu", plan=CpuPlan(1, False))
    opts = session.get_session_options()
    assert opts.intra_op_num_threads == 1
    assert opts.enable_mem_pattern is False  # CPU: no per-shape pre-planned block on top of the arena
    assert opts.enable_cpu_mem_arena is True
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    spinning = create_session(fixture_models / "tiny-seg" / "model.onnx", device="cpu", plan=CpuPlan(2, True))
    assert spinning.get_session_options().intra_op_num_threads == 2
    with pytest.raises(RuntimeError, match="does not have configuration"):  # onnxruntime's default: spinning
        spinning.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")


def test_a_worker_sizes_its_sessions_from_the_settings(
    tmp_path: Path, fixture_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "_plan", sessions._plan)  # restored after the test
    settings = Settings(home=tmp_path / "home", install_models_dir="", worker_processes=2, worker_threads=2)
    ModelStore(settings.models_dir, device="cpu").install(fixture_models / "tiny-seg")
    photo = Image.fromarray(np.full((48, 64, 3), 200, np.uint8))
    assert Engines(settings).render(photo, RenderOptions(long_side=128)).engine == "onnx:tiny-seg"
    assert sessions._plan == cpu_plan(4)
    graph = next(g for key, g in sessions._cache.items() if key[0].endswith("tiny-seg/model.onnx"))
    opts = graph.session.get_session_options()
    assert opts.intra_op_num_threads == cpu_plan(4).threads
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
