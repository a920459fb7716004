"""CLIP tokenization with the ``tokenizers`` package (no transformers at run time).

Reads the ``tokenizer.json`` that the export recipe adds to each ``tokenizer*/`` folder, and pads/truncates
exactly as diffusers asks transformers to: ``padding="max_length"``, ``max_length=model_max_length``,
``truncation=True`` — BOS + up to 75 tokens + EOS, then the tokenizer's own pad token (``<|endoftext|>`` for
SD's first tokenizer, ``!`` for SDXL's second).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("content", "")) or None
    return str(value) if value else None


class ClipTokenizer:
    """Tokenizer for one ``tokenizer*/`` folder of an exported diffusion model."""

    def __init__(self, folder: Path, max_length: int | None = None) -> None:
        path = folder / "tokenizer.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: finalize the export (models/export/finalize.py writes it)")
        config: dict[str, Any] = {}
        config_path = folder / "tokenizer_config.json"
        if config_path.is_file():
            config = json.loads(config_path.read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(path))
        length = max_length or int(config.get("model_max_length", 77))
        self.max_length = min(length, 77) if length > 10_000 else length  # "very large" means unset
        pad_text = _token_text(config.get("pad_token")) or "<|endoftext|>"
        pad_id = self.tokenizer.token_to_id(pad_text)
        if pad_id is None:
            raise ValueError(f"{folder}: pad token {pad_text!r} is not in the vocabulary")
        self.pad_id = pad_id
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.enable_padding(length=self.max_length, pad_id=pad_id, pad_token=pad_text)

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Token ids, int64 [len(texts), max_length]."""
        encodings = self.tokenizer.encode_batch(texts)
        return np.array([e.ids for e in encodings], dtype=np.int64)
