"""CPU sessions share one process-wide arena that grows by what a run asks for (issue 14: memory at 40 MP)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from paqshot_server.inference import segmenters, sessions
from paqshot_server.inference.segmenters import RELEASE_FROM_PIXELS, OnnxSegmenter, releases_arena
from paqshot_server.inference.sessions import CpuPlan, create_session
from paqshot_server.inference.store import ModelStore
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.worker import warm
from paqshot_server.settings import Settings


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


SHRINK = "memory.enable_memory_arena_shrinkage"


def _released(options: list[ort.RunOptions | None]) -> list[bool]:
    return [o is not None and o.get_run_config_entry(SHRINK) == "cpu:0" for o in options]


def test_the_release_decision_is_by_the_pixels_cut_out() -> None:
    assert not releases_arena(1500, 2000)  # the speed bench's packshot (3 MP) keeps the arena
    assert releases_arena(2582, 3872)  # a 40 MP photo's working image
    assert releases_arena(2000, 2000) and releases_arena(1, RELEASE_FROM_PIXELS)
    assert not releases_arena(1, RELEASE_FROM_PIXELS - 1)


def test_a_model_cut_out_hands_the_arena_back_only_for_large_images(
    fixture_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    segmenter = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    recording = _RecordingSession(segmenter.graph.session)
    monkeypatch.setattr(segmenter.graph, "session", recording)
    monkeypatch.setattr(segmenters, "RELEASE_FROM_PIXELS", 60 * 80)  # "large" at the fixture model's scale
    segmenter.refine_config = replace(segmenter.refine_config, max_crop_share=1.0)  # always a second pass
    small = np.full((50, 80, 3), 230, np.uint8)
    small[15:35, 25:55] = (150, 60, 40)
    large = np.full((60, 80, 3), 230, np.uint8)
    large[15:45, 25:55] = (150, 60, 40)
    segmenter.predict(small)
    segmenter.predict(large)
    segmenter.graph.run({segmenter.input: segmenter.preprocess(large)})  # other callers (diffusion): as before
    assert _released(recording.options) == [False, True, False]
    recording.options.clear()
    segmenter.segment(large)  # the second pass on the product's crop (< 60 x 80) follows the whole image
    assert len(recording.options) == 2 and all(_released(recording.options))
    recording.options.clear()
    segmenter.segment(small)
    assert recording.options and not any(_released(recording.options))


def test_every_run_in_a_releasing_block_hands_the_arena_back(fixture_models: Path) -> None:
    segmenter = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    recording = _RecordingSession(segmenter.graph.session)
    segmenter.graph.session = recording  # type: ignore[assignment]
    try:
        feeds = {segmenter.input: segmenter.preprocess(np.full((40, 40, 3), 200, np.uint8))}
        with sessions.releasing_arena():
            segmenter.graph.run(feeds)
        segmenter.graph.run(feeds)
    finally:
        segmenter.graph.session = recording.session
    assert _released(recording.options) == [True, False]


def test_the_worker_warm_up_hands_the_arena_back(
    tmp_path: Path, fixture_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options: list[ort.RunOptions | None] = []
    real_run = ort.InferenceSession.run

    def run(self, names, feeds, run_options=None):  # type: ignore[no-untyped-def]
        options.append(run_options)
        return real_run(self, names, feeds, run_options)

    monkeypatch.setattr(ort.InferenceSession, "run", run)
    settings = Settings(home=tmp_path / "home", install_models_dir="")
    ModelStore(settings.models_dir, device="cpu").install(fixture_models / "tiny-seg")
    ctx = WorkerContext(settings)
    try:
        warm(ctx)
    finally:
        ctx.db.close()
    assert options and all(_released(options))  # the 160 x 160 warm-up photo is far under RELEASE_FROM_PIXELS


def test_releasing_the_arena_changes_no_matte(fixture_models: Path) -> None:
    segmenter = OnnxSegmenter(fixture_models / "tiny-seg", device="cpu")
    photo = np.random.default_rng(1).integers(0, 256, (70, 90, 3), np.uint8)
    feeds = {segmenter.input: segmenter.preprocess(photo)}
    kept = segmenter.graph.run(feeds)[segmenter.output]
    for _ in range(2):  # the second run regrows the arena the first handed back
        released = segmenter.graph.run(feeds, release=True)[segmenter.output]
        assert np.array_equal(released, kept)
