"""An image model's graph made to take other input sizes than the one it declares, in memory.

U²-Net (and u2netp) is fully convolutional: its only size-bound operators are the ``Resize`` nodes that bring a
coarser level up to a finer one's size. Exported from PyTorch, those take their ``sizes`` from ``Shape`` ops of the
tensor they match, so with the input's height and width declared free (``dim_param``) the float graph runs at any
size whose sides are multiples of its coarsest stride (32 for U²-Net's five 2x poolings) and its output at the
declared size is the same to the bit. Quantising for int8 (``onnxruntime.quantization``'s pre-processing) folds
those ``Shape`` chains into constant ``sizes`` at the declared size, so the int8 file ran at 320² only
(``Concat_43``: 16 against 20 at 256²). Here each constant ``sizes`` ``[n, c, h, w]`` of a graph declared at
``H x W`` is computed again from the input's own shape: ``[n, c, ceil(H_in h / H), ceil(W_in w / W)]``, the size
the matching level has at that input (a ceil-mode 2x pooling of a side ``s`` gives ``ceil(s / 2)``); at the declared
size these are the folded constants, so the output is unchanged there (tests compare it).

The installed file is read, never written: its bytes stay those of its manifest's digest.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

_SIZES = 3  # a Resize node's inputs: X, roi, scales, sizes
_PREFIX = "free_size/"


def free_input_size(model: bytes, input_name: str | None = None) -> bytes:
    """``model`` (a serialised ONNX ModelProto) whose image input ``input_name`` (default: the graph's first input;
    NCHW, 4-D) takes any height and width: that input's and every 4-D output's dims 2 and 3 made symbolic, the
    shape annotations of the intermediate tensors (inferred at the declared size) dropped, and each ``Resize``
    whose ``sizes`` is a constant ``[n, c, h, w]`` given sizes scaled from the input's shape (module docstring).

    Raises:
        ValueError: the graph has no such input, the input is not 4-D with a fixed height and width, or a constant
            ``sizes`` is not four int64 values.
    """
    proto = onnx.ModelProto.FromString(model)
    graph = proto.graph
    image = next((i for i in graph.input if input_name in (None, i.name)), None)
    if image is None:
        raise ValueError(f"the graph has no input {input_name!r}")
    dims = image.type.tensor_type.shape.dim
    if len(dims) != 4 or not (dims[2].dim_value and dims[3].dim_value):
        raise ValueError(f"input {image.name!r} is not NCHW with a fixed height and width")
    declared = np.array([dims[2].dim_value, dims[3].dim_value], np.int64)
    for value in [image, *graph.output]:
        shape = value.type.tensor_type.shape.dim
        if len(shape) == 4:
            for axis, name in ((2, "height"), (3, "width")):
                shape[axis].ClearField("dim_value")
                shape[axis].dim_param = name
    del graph.value_info[:]  # onnxruntime infers every shape again for the size each run gets

    constants = {init.name: init for init in graph.initializer}
    hw = _PREFIX + "hw"
    added = [
        numpy_helper.from_array(np.array([2], np.int64), _PREFIX + "from"),
        numpy_helper.from_array(np.array([4], np.int64), _PREFIX + "to"),
        numpy_helper.from_array(declared - 1, _PREFIX + "round"),
        numpy_helper.from_array(declared, _PREFIX + "declared"),
    ]
    nodes = [
        helper.make_node("Shape", [image.name], [_PREFIX + "shape"]),
        helper.make_node("Slice", [_PREFIX + "shape", _PREFIX + "from", _PREFIX + "to"], [hw]),
    ]
    computed: dict[str, str] = {}  # a constant sizes tensor -> the tensor computed in its place
    for node in graph.node:
        if node.op_type != "Resize" or len(node.input) <= _SIZES or node.input[_SIZES] not in constants:
            continue
        name = node.input[_SIZES]
        if name not in computed:
            sizes = numpy_helper.to_array(constants[name])
            if sizes.shape != (4,) or sizes.dtype != np.int64:
                raise ValueError(f"Resize {node.name!r}: constant sizes {sizes!r} are not [n, c, h, w] int64")
            out = computed[name] = _PREFIX + name
            added += [
                numpy_helper.from_array(sizes[:2], out + "/nc"),
                numpy_helper.from_array(sizes[2:], out + "/level"),
            ]
            nodes += [
                helper.make_node("Mul", [hw, out + "/level"], [out + "/scaled"]),
                helper.make_node("Add", [out + "/scaled", _PREFIX + "round"], [out + "/up"]),
                # int64 Div truncates: (a + d - 1) / d is ceil(a / d) for the positive sizes here
                helper.make_node("Div", [out + "/up", _PREFIX + "declared"], [out + "/hw"]),
                helper.make_node("Concat", [out + "/nc", out + "/hw"], [out], axis=0),
            ]
        node.input[_SIZES] = computed[name]
    if not computed:
        return proto.SerializeToString()
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used] + added
    del graph.initializer[:]
    graph.initializer.extend(kept)
    ordered = nodes + list(graph.node)  # onnxruntime wants the nodes in topological order: the new ones first
    del graph.node[:]
    graph.node.extend(ordered)
    return proto.SerializeToString()
