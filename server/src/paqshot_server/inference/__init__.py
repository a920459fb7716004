"""Inference: onnxruntime sessions and provider choice, the model store and manifests, ONNX cut-out
segmenters and a torch-free diffusion runtime over optimum-exported graphs.

Imports only onnxruntime, numpy, pillow and tokenizers (plus the stdlib) — never torch, diffusers,
transformers or optimum — and never litestar, huey, sqlite-utils or the storage/api/jobs packages.
This package's ``__init__`` imports only ``os``, so ``manifests`` stays stdlib-only for the export tools.
"""

import os

# onnxruntime >= 1.29 on Linux starts Microsoft's 1DS telemetry when it is imported: it writes a device id and an
# event cache under ~/.cache/Microsoft/DeveloperTools/.onnxruntime and uploads them where a network is reachable
# (microsoft/onnxruntime#27379). The appliance sends nothing off the machine, so it is off unless an operator
# sets the variable; onnxruntime reads it once, when it is imported, so it is set before any module here is.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
