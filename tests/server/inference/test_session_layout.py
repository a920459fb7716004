"""CPU sessions run quantised convolutions channels-first: no layout Transposes around them (issue 10, speed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from paqshot_server.inference import sessions
from paqshot_server.inference.sessions import CpuPlan


def _qdq_conv_model() -> bytes:
    """One int8 convolution in QDQ form (as ``models quantize`` writes u2netp-int8's): float in, float out."""
    rng = np.random.default_rng(0)
    initialisers = [
        numpy_helper.from_array(np.array(0.02, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "x_zero"),
        numpy_helper.from_array(rng.integers(-100, 100, (8, 8, 3, 3), dtype=np.int8), "w_q"),
        numpy_helper.from_array(np.full(8, 0.01, np.float32), "w_scale"),
        numpy_helper.from_array(np.zeros(8, np.int8), "w_zero"),
        numpy_helper.from_array(np.array(0.05, np.float32), "y_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "y_zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zero"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero"], ["wd"], axis=0),
        helper.make_node("Conv", ["xd", "wd"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("QuantizeLinear", ["c", "y_scale", "y_zero"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zero"], ["y"]),
    ]
    shape = [1, 8, 16, 16]
    graph = helper.make_graph(
        nodes,
        "qdq_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        initialisers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _optimised_ops(session_kwargs: dict[str, Any], model: bytes, path: Path) -> list[str]:
    options = sessions.session_options(CpuPlan(1, False), on_cpu=True)
    options.optimized_model_filepath = str(path)
    ort.InferenceSession(model, options, providers=[sessions.CPU], **session_kwargs)
    return [node.op_type for node in onnx.load(str(path)).graph.node]


def test_a_cpu_session_runs_a_quantised_convolution_without_layout_transposes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _qdq_conv_model()
    asked: dict[str, Any] = {}
    real = ort.InferenceSession

    def recording(source: Any, options: Any = None, **kwargs: Any) -> ort.InferenceSession:
        asked.update(kwargs)
        return real(source, options, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", recording)
    ours = sessions.create_session(model, device="cpu", plan=CpuPlan(1, False))
    monkeypatch.undo()
    assert "NhwcTransformer" in (asked.get("disabled_optimizers") or [])
    # What that leaves of the graph: the convolution fused to a QLinearConv, channels-first, nothing around it.
    ops = _optimised_ops({"disabled_optimizers": asked["disabled_optimizers"]}, model, tmp_path / "ours.onnx")
    assert "QLinearConv" in ops and "Transpose" not in ops
    # onnxruntime's default wraps it in two Transposes (channels-last kernel): what is left out.
    assert _optimised_ops({}, model, tmp_path / "default.onnx").count("Transpose") == 2
    # Same kernel, other layout: the same numbers to the bit.
    default = real(model, sessions.session_options(CpuPlan(1, False), on_cpu=True), providers=[sessions.CPU])
    x = np.random.default_rng(1).standard_normal((1, 8, 16, 16)).astype(np.float32)
    assert np.array_equal(ours.run(None, {"x": x})[0], default.run(None, {"x": x})[0])
