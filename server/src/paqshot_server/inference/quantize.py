"""The int8 variant of a cut-out model, made on this machine from the installed fp32 file with onnxruntime's own
quantisation tools (``onnxruntime.quantization``): nothing is downloaded, no torch, the same bytes every time for
the same source file and locked package versions.

Recipe (static quantisation, QDQ format): the graph is brought to opset :data:`OPSET` (per-channel QDQ needs it)
and shape-inferred (``quant_pre_process``); int8 per-channel weights, uint8 activations, MinMax calibration over
the synthetic evaluation set (:mod:`..imaging.synthetic`, 35 generated product photos, fed through the segmenter's
own preprocessing). A :class:`Recipe` either keeps some nodes in float and quantises every other convolution, or
names the convolutions it quantises (each with the ReLU after it, so that the convolution's 8-bit output covers
[0, max] rather than the pre-ReLU range: half the step).

For u2netp, 53 of its 119 convolutions, 75 % of its multiply-adds: the encoder's and decoder's four deepest stages
(20-40 px), the 160 px decoder stage but for the three convolutions that read a Concat of two very differently
scaled tensors, and four of the 320 px convolutions (among them the one that alone is 38 % of the model). The
others stay in float: quantised, each of their stages alone moved the second (crop) pass's map over fork_10's
engraved handle highlight from 0.91 to 0.83-0.85 and lost it (``tests/server/imaging/test_real_photos.py``), as
quantising every convolution did (0.73). How each was measured and what else was tried:
docs/progress/issue-10-quality.md ("int8, session 3").

The variant is installed like any model, with a manifest whose ``[made]`` table records how it was made (source
file and digest, tool versions, recipe, calibration digest); its catalogue entry
(``models/catalogue/<id>.toml``) gives its card. ``models quantize`` and ``models setup`` call
:func:`make_int8`; the store prefers it by the card's priority.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .catalogue import entry
from .manifests import Manifest, scan_files
from .store import InstalledModel, ModelStore, StoreError

OPSET = 17
CALIBRATION_SIZE = 400  # side of the generated calibration photos (px); the model sees them at its input size


@dataclass(frozen=True)
class Recipe:
    """How one fp32 model becomes its int8 variant."""

    source: str  # id of the fp32 model
    variant: str  # id of the int8 model (its catalogue entry)
    source_sha256: str  # the one fp32 file the recipe was measured on (node names are that file's)
    keep_float: tuple[str, ...] = ()  # node names left in float (every other convolution quantised)
    quantised: tuple[str, ...] = ()  # or: only these convolutions (and the ReLU after each) quantised


RECIPES = {
    "u2netp": Recipe(
        source="u2netp",
        variant="u2netp-int8",
        source_sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        quantised=(
            *("Conv_132", "Conv_810", "Conv_812", "Conv_942"),  # 320 px: encoder 1's last, decoder 1's first two, last
            *("Conv_333", "Conv_335", "Conv_338", "Conv_341", "Conv_343", "Conv_346", "Conv_368", "Conv_390"),  # enc. 4
            *("Conv_394", "Conv_396", "Conv_398", "Conv_400", "Conv_402", "Conv_405", "Conv_408", "Conv_411"),  # enc. 5
            *("Conv_415", "Conv_417", "Conv_419", "Conv_421", "Conv_423", "Conv_426", "Conv_429", "Conv_432"),  # enc. 6
            *("Conv_455", "Conv_457", "Conv_459", "Conv_461", "Conv_463", "Conv_466", "Conv_469", "Conv_472"),  # dec. 5
            *("Conv_495", "Conv_497", "Conv_500", "Conv_503", "Conv_505", "Conv_508", "Conv_530", "Conv_552"),  # dec. 4
            *("Conv_680", "Conv_682", "Conv_685", "Conv_688", "Conv_691", "Conv_694", "Conv_696", "Conv_699"),  # dec. 2
            "Conv_721",  # dec. 2 (its Conv_743, Conv_765, Conv_787 read a Concat of differently scaled tensors)
        ),
    ),
}


def calibration_inputs(preprocess: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """float32 [N, 3, h, w]: the synthetic evaluation set (seed 0) through ``preprocess`` (uint8 H x W x 3 ->
    [1, 3, h, w], the segmenter's own)."""
    from ..imaging.synthetic import samples

    return np.concatenate([preprocess(np.asarray(s.image.convert("RGB"))) for s in samples(CALIBRATION_SIZE, 0)])


def quantize_file(source: Path, out: Path, inputs: np.ndarray, input_name: str, recipe: Recipe) -> None:
    """Write the static int8 (QDQ) quantisation of the ONNX graph ``source`` to ``out`` as ``recipe`` says (which
    nodes), calibrated on ``inputs`` (float32 [N, ...] fed one at a time as ``input_name``).

    Raises:
        ValueError: onnx or onnxruntime refuse the graph.
    """
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{input_name: inputs[i : i + 1]} for i in range(len(inputs))])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    with tempfile.TemporaryDirectory(prefix="quantize-") as tmp:
        work = Path(tmp)
        onnx.save(version_converter.convert_version(onnx.load(str(source)), OPSET), str(work / "opset.onnx"))
        quant_pre_process(str(work / "opset.onnx"), str(work / "pre.onnx"), skip_symbolic_shape=True)
        nodes = [*recipe.quantised, *_relus_after(onnx.load(str(work / "pre.onnx")).graph, recipe.quantised)]
        quantize_static(
            str(work / "pre.onnx"),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["Conv", "Relu"] if nodes else ["Conv"],
            nodes_to_quantize=nodes or None,
            nodes_to_exclude=list(recipe.keep_float),
            calibrate_method=CalibrationMethod.MinMax,
        )


def _relus_after(graph: Any, convs: tuple[str, ...]) -> list[str]:
    """Names of the Relu nodes that read the output of one of ``convs`` (an ``onnx.GraphProto``'s nodes)."""
    outputs = {out for node in graph.node if node.name in convs for out in node.output}
    return [node.name for node in graph.node if node.op_type == "Relu" and node.input[0] in outputs]


def made_record(recipe: Recipe, source_file: str, inputs: np.ndarray, command: str) -> dict[str, object]:
    """The manifest's ``[made]`` table: everything that decides the variant's bytes."""
    import onnx
    import onnxruntime

    return {
        "from": recipe.source,
        "from_file": source_file,
        "from_sha256": recipe.source_sha256,
        "by": command,
        "tool": f"onnxruntime {onnxruntime.__version__} quantize_static, onnx {onnx.__version__}",
        "method": f"static QDQ, opset {OPSET}, "
        + ("the convolutions named in quantised, each with its ReLU" if recipe.quantised else "Conv")
        + ", int8 per-channel weights, uint8 activations, MinMax",
        "keep_float": list(recipe.keep_float),
        "quantised": list(recipe.quantised),
        "calibration": f"imaging.synthetic samples({CALIBRATION_SIZE}, seed 0): {len(inputs)} photos",
        "calibration_sha256": hashlib.sha256(np.ascontiguousarray(inputs).tobytes()).hexdigest(),
    }


def make_int8(
    store: ModelStore,
    source_id: str,
    command: str = "models quantize",
    *,
    recipe: Recipe | None = None,
    card: Manifest | None = None,
) -> InstalledModel:
    """Make the int8 variant of the installed model ``source_id`` and install it into ``store``.

    Takes 20-60 s on one core for u2netp (calibration runs the fp32 model 35 times). ``recipe`` and ``card``
    default to :data:`RECIPES` and the variant's catalogue entry (tests give their own).

    Raises:
        StoreError: no recipe for ``source_id``, the model is not installed, or its file is not the one the
            recipe was made for (its digest is checked); also whatever the store's install refuses.
    """
    from .segmenters import OnnxSegmenter

    recipe = recipe or RECIPES.get(source_id)
    if recipe is None:
        raise StoreError(f"no int8 recipe for {source_id!r} (there is one for: {', '.join(sorted(RECIPES))})")
    model = store.get(source_id)
    manifest = Manifest.load(model.path)
    onnx_file = next(f for f in manifest.files if f.path.endswith(".onnx"))
    if onnx_file.sha256 != recipe.source_sha256:
        raise StoreError(
            f"{source_id} is installed from another file (sha256 {onnx_file.sha256}); the int8 recipe is made for "
            f"sha256 {recipe.source_sha256}"
        )
    fp32 = OnnxSegmenter(model.path, manifest, device="cpu")
    inputs = calibration_inputs(fp32.preprocess)
    card = card or entry(recipe.variant)
    with tempfile.TemporaryDirectory(prefix="int8-") as tmp:
        folder = Path(tmp) / recipe.variant
        folder.mkdir()
        quantize_file(model.path / onnx_file.path, folder / f"{recipe.variant}.onnx", inputs, fp32.input, recipe)
        data = {k: v for k, v in card.to_dict().items() if k not in ("files", "checksums", "downloads")}
        data["files"] = [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in scan_files(folder)]
        data["made"] = made_record(recipe, onnx_file.path, inputs, command)
        (folder / "manifest.toml").write_text(Manifest.from_dict(data, str(folder)).dumps(), encoding="utf-8")
        installed = store.install(folder)
        shutil.rmtree(folder, ignore_errors=True)
    return installed
