"""CPU sessions share one process-wide arena that grows by what a run asks for (issue 14: memory at 40 MP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from paqshot_server.inference import sessions
from paqshot_server.inference.sessions import CpuPlan, create_session


def test_a_cpu_session_uses_the_registered_arena(fixture_models: Path) -> None:
    session = create_session(fixture_models / "tiny-seg" / "model.onnx", device="cpu", plan=CpuPlan(1, False))
    assert session.get_session_options().get_session_config_entry("session.use_env_allocators") == "1"
    assert sessions._cpu_arena_registered
    sessions.register_cpu_arena()  # a second call (another session, another thread) registers nothing new
    assert sessions._cpu_arena_registered


def test_the_shared_arena_changes_no_output(fixture_models: Path) -> None:
    path = str(fixture_models / "tiny-seg" / "model.onnx")
    ours = create_session(Path(path), device="cpu", plan=CpuPlan(1, False))
    plain_options = ort.SessionOptions()
    plain_options.intra_op_num_threads = 1
    plain = ort.InferenceSession(path, plain_options, providers=["CPUExecutionProvider"])
    feed = ours.get_inputs()[0]
    shape = [d if isinstance(d, int) else 64 for d in feed.shape]
    x = np.random.default_rng(0).random(shape, np.float32)
    for _ in range(3):  # later runs reuse the arena's chunks
        assert np.array_equal(ours.run(None, {feed.name: x})[0], plain.run(None, {feed.name: x})[0])
