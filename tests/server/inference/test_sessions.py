"""Sessions: provider choice checked on the session itself, require_gpu, one load per file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from paqshot_server.inference import sessions


def test_probe_reports_the_provider_a_session_really_got() -> None:
    report = sessions.probe("auto")
    # No GPU on the test machines: sessions must land on (and say) CPU, whatever onnxruntime lists.
    assert report.provider == sessions.CPU
    assert report.device == "cpu"
    assert report.reason
    assert sessions.CPU in report.available
    assert report.as_dict()["provider"] == sessions.CPU


def test_require_gpu_fails_instead_of_running_on_cpu(fixture_models: Path) -> None:
    with pytest.raises(sessions.GpuRequired, match="require_gpu"):
        sessions.check_ready(require_gpu=True)
    assert sessions.check_ready(require_gpu=False).device == "cpu"
    with pytest.raises(sessions.GpuRequired):
        sessions.load_graph(fixture_models / "tiny-seg" / "model.onnx", require_gpu=True)


def test_cuda_request_that_falls_back_is_reported(fixture_models: Path) -> None:
    # Asking for CUDA explicitly (onnxruntime-gpu lists it even here) must still end up reported as CPU.
    graph = sessions.load_graph(fixture_models / "tiny-seg" / "model.onnx", device="cuda")
    assert graph.provider == sessions.CPU and not graph.on_gpu
    assert sessions.probe("cuda").device == "cpu"


def test_graphs_load_once_and_run_by_name(fixture_models: Path) -> None:
    path = fixture_models / "tiny-seg" / "model.onnx"
    first = sessions.load_graph(path)
    assert sessions.load_graph(path) is first
    out = first.run({"input_image": np.zeros((1, 3, 32, 48), np.float32)})
    assert out["output_image"].shape == (1, 1, 32, 48)
    assert first.resident("input_image", np.ones(2, np.float32)).tolist() == [1.0, 1.0]  # CPU: the array
    sessions.clear_cache()
    assert sessions.load_graph(path) is not first


def test_unknown_device_is_rejected() -> None:
    with pytest.raises(ValueError, match="device"):
        sessions.create_session(Path("x.onnx"), device="tpu")


def test_iobinding_path_gives_the_same_outputs(fixture_models: Path) -> None:
    # The CUDA path binds inputs/outputs and keeps constants resident; exercise it on the CPU device.
    folder = fixture_models / "tiny-sdxl-inpaint" / "unet"
    plain = sessions.load_graph(folder / "model.onnx")
    bound = sessions.Graph(plain.session, binding_device="cpu")
    rng = np.random.default_rng(0)
    feeds = {
        "sample": rng.standard_normal((2, 9, 8, 8), dtype=np.float32),
        "timestep": np.array(500.0, np.float32),
        "encoder_hidden_states": rng.standard_normal((2, 77, 64), dtype=np.float32),
        "text_embeds": rng.standard_normal((2, 32), dtype=np.float32),
        "time_ids": np.array([[64, 64, 0, 0, 64, 64]] * 2, np.float32),
    }
    want = plain.run(feeds)["out_sample"]
    resident = {k: bound.resident(k, v) for k, v in feeds.items() if k in ("encoder_hidden_states", "text_embeds")}
    got = bound.run({**feeds, **resident})["out_sample"]
    np.testing.assert_array_equal(got, want)


# Identity over float16[2] (made with onnx.helper): GPU exports are fp16, callers stay float32.
FP16_IDENTITY = "CAg6OgoQCgF4EgF5IghJZGVudGl0eRIEZnAxNloPCgF4EgoKCAgKEgQKAggCYg8KAXkSCgoICAoSBAoCCAJCBAoAEA0="


@pytest.mark.parametrize("binding_device", [None, "cpu"])
def test_fp16_graphs_take_and_give_float32(binding_device: str | None) -> None:
    import base64

    session = sessions.create_session(base64.b64decode(FP16_IDENTITY), device="cpu")
    graph = sessions.Graph(session, binding_device=binding_device)
    out = graph.run({"x": np.array([0.5, -2.0], np.float32)})["y"]
    assert out.dtype == np.float32 and out.tolist() == [0.5, -2.0]
    resident = graph.resident("x", np.array([1.5, 3.0], np.float32))
    assert graph.run({"x": resident})["y"].tolist() == [1.5, 3.0]
