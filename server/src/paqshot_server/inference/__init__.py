"""Inference: onnxruntime sessions and provider choice, the model store and manifests, ONNX cut-out
segmenters and a torch-free diffusion runtime over optimum-exported graphs.

Imports only onnxruntime, numpy, pillow and tokenizers (plus the stdlib) — never torch, diffusers,
transformers or optimum — and never litestar, huey, sqlite-utils or the storage/api/jobs packages.
This package's ``__init__`` imports nothing, so ``manifests`` stays stdlib-only for the export tools.
"""
