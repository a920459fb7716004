"""CPU sessions share one process-wide arena that grows by what a run asks for (issue 14: memory at 40 MP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from paqshot_server.inference import sessions
from paqshot_server.inference.segmenters import OnnxSegmenter
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


class _RecordingSession:
    """An InferenceSession seen through: records the run options of every run."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self.session, self.options = session, []

    def run(self, names, feeds, run_options=None):  # type: ignore[no-untyped-def]
        self.options.append(run_options)
        return self.session.run(names, feeds, run_options)


def test_a_model_cut_out_hands_the_arena_back_after_each_run(fixture_models: Path) -> None:
    segmenter = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    recording = _RecordingSession(segmenter.graph.session)
    segmenter.graph.session = recording  # type: ignore[assignment]
    try:
        photo = np.full((60, 80, 3), 230, np.uint8)
        photo[15:45, 25:55] = (150, 60, 40)
        segmenter.predict(photo)
        segmenter.graph.run({segmenter.input: segmenter.preprocess(photo)})  # other callers (diffusion): as before
    finally:
        segmenter.graph.session = recording.session
    released, plain = recording.options
    assert released is not None
    assert released.get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"
    assert plain is None


def test_releasing_the_arena_changes_no_matte(fixture_models: Path) -> None:
    segmenter = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    photo = np.random.default_rng(1).integers(0, 256, (70, 90, 3), np.uint8)
    feeds = {segmenter.input: segmenter.preprocess(photo)}
    kept = segmenter.graph.run(feeds)[segmenter.output]
    for _ in range(2):  # the second run regrows the arena the first handed back
        released = segmenter.graph.run(feeds, release=True)[segmenter.output]
        assert np.array_equal(released, kept)
