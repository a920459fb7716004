"""The int8 variant of a cut-out model, made on this machine from the installed fp32 file with onnxruntime's own
quantisation tools (``onnxruntime.quantization``): nothing is downloaded, no torch, the same bytes every time for
the same source file and locked package versions.

Recipe (static quantisation, QDQ format): the graph is brought to opset :data:`OPSET` (per-channel QDQ needs it)
and shape-inferred (``quant_pre_process``); int8 per-channel weights, uint8 activations, Conv nodes only, MinMax
calibration over the synthetic evaluation set (:mod:`..imaging.synthetic`, 35 generated product photos, fed
through the segmenter's own preprocessing). A :class:`Recipe` may keep nodes in float: for u2netp the three
full-resolution decoder convolutions that read a Concat of two very differently scaled tensors (quantising them
dropped the agreement with fp32 from 0.97 to 0.70 IoU on real photos, measured by the engineer who found them).

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
    keep_float: tuple[str, ...] = ()  # node names left in float


RECIPES = {
    "u2netp": Recipe(
        source="u2netp",
        variant="u2netp-int8",
        source_sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        keep_float=("Conv_743", "Conv_765", "Conv_787"),
    ),
}


def calibration_inputs(preprocess: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """float32 [N, 3, h, w]: the synthetic evaluation set (seed 0) through ``preprocess`` (uint8 H x W x 3 ->
    [1, 3, h, w], the segmenter's own)."""
    from ..imaging.synthetic import samples

    return np.concatenate([preprocess(np.asarray(s.image.convert("RGB"))) for s in samples(CALIBRATION_SIZE, 0)])


def quantize_file(
    source: Path, out: Path, inputs: np.ndarray, input_name: str, keep_float: tuple[str, ...] = ()
) -> None:
    """Write the static int8 (QDQ) quantisation of the ONNX graph ``source`` to ``out``, calibrated on
    ``inputs`` (float32 [N, ...] fed one at a time as ``input_name``).

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
        quantize_static(
            str(work / "pre.onnx"),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["Conv"],
            nodes_to_exclude=list(keep_float),
            calibrate_method=CalibrationMethod.MinMax,
        )


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
        "method": f"static QDQ, opset {OPSET}, Conv only, int8 per-channel weights, uint8 activations, MinMax",
        "keep_float": list(recipe.keep_float),
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
        quantize_file(
            model.path / onnx_file.path, folder / f"{recipe.variant}.onnx", inputs, fp32.input, recipe.keep_float
        )
        data = {k: v for k, v in card.to_dict().items() if k not in ("files", "checksums", "downloads")}
        data["files"] = [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in scan_files(folder)]
        data["made"] = made_record(recipe, onnx_file.path, inputs, command)
        (folder / "manifest.toml").write_text(Manifest.from_dict(data, str(folder)).dumps(), encoding="utf-8")
        installed = store.install(folder)
        shutil.rmtree(folder, ignore_errors=True)
    return installed
