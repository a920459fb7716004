"""Export recipe: a local copy of a catalogue model → an installable ONNX folder (export venv only).

    models/export/.venv/bin/python models/export/export_model.py \\
        --catalogue models/catalogue/sdxl-inpainting-0.1.toml --source ~/hf/sdxl-inpaint --out ~/export/sdxl

Diffusion models (role inpainting / text2image): ``--source`` is a diffusers folder (``model_index.json``);
optimum exports it (fp32, task ``inpainting`` or ``text-to-image``), then ``finalize.py`` adds the
``tokenizer.json`` files and the manifest. Options for the fast tiers:

- ``--unet-weights FILE.safetensors``: load these UNet weights first (SDXL-Lightning's distilled UNet into
  SDXL base 1.0);
- ``--lora FILE_OR_DIR``: fuse a LoRA into the UNet before export (LCM-LoRA).

Segmentation models (BiRefNet): ``--source`` is the model's folder with its own code
(``trust_remote_code``); it is exported with ``torch.onnx.export`` at opset 19 (native ``DeformConv``),
input ``input_image`` [1,3,H,W] at the catalogue's size. BiRefNet's code also needs ``timm``, ``einops``,
``kornia`` and ``torchvision`` in the export venv (not pinned in requirements.txt: only this recipe uses
them). This path cannot be exercised on the build machines (no weights); the diffusion path is the one
``models/build_tiny.py`` runs for the test models.

Then: ``<cli> models install OUT`` on the appliance.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from finalize import finalize_folder, write_tokenizer_json  # noqa: E402

TASKS = {"inpainting": "inpainting", "text2image": "text-to-image"}


def export_pipeline(
    src: Path, out: Path, task: str, opset: int = 17, *, device: str = "cpu", dtype: str = "fp32", validate: bool = True
) -> None:
    """optimum's export of a diffusers folder, plus ``tokenizer.json`` for each tokenizer.

    Defaults: fp32 on the CPU, validated against torch (what the catalogue ships). ``dtype="fp16"`` needs
    ``device="cuda"`` (optimum's fp16 export fails validation on the CPU; MODELS.md).
    """
    from optimum.exporters.onnx import main_export

    main_export(str(src), output=out, task=task, opset=opset, device=device, dtype=dtype, do_validation=validate)
    for tok_dir in sorted(out.glob("tokenizer*")):
        if tok_dir.is_dir():
            write_tokenizer_json(tok_dir)


def export_diffusion(catalogue: dict[str, Any], source: Path, out: Path, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        src = _patched_pipeline(source, Path(tmp) / "patched", args) if args.unet_weights or args.lora else source
        export_pipeline(src, out, TASKS[catalogue["role"]], args.opset)


def _patched_pipeline(source: Path, dest: Path, args: argparse.Namespace) -> Path:
    from diffusers import DiffusionPipeline
    from safetensors.torch import load_file

    pipe = DiffusionPipeline.from_pretrained(str(source))
    if args.unet_weights:
        missing, unexpected = pipe.unet.load_state_dict(load_file(str(args.unet_weights)), strict=False)
        if missing or unexpected:
            raise SystemExit(f"UNet weights do not fit: {len(missing)} missing, {len(unexpected)} unexpected keys")
    if args.lora:
        pipe.load_lora_weights(str(args.lora))
        pipe.fuse_lora()
        pipe.unload_lora_weights()
    pipe.save_pretrained(str(dest))
    return dest


def export_segmentation(catalogue: dict[str, Any], source: Path, out: Path, args: argparse.Namespace) -> None:
    import torch
    from transformers import AutoModelForImageSegmentation

    model = AutoModelForImageSegmentation.from_pretrained(str(source), trust_remote_code=True).eval()
    height, width = catalogue.get("segmentation", {}).get("size", [1024, 1024])

    class Logits(torch.nn.Module):
        """BiRefNet returns a list of side outputs; the last one is the full-resolution logits."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.inner(x)
            return out[-1] if isinstance(out, (list, tuple)) else out

    out.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        Logits(model),
        (torch.randn(1, 3, height, width),),
        str(out / "model.onnx"),
        input_names=["input_image"],
        output_names=["output_image"],
        opset_version=max(args.opset, 19),
        dynamo=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalogue", type=Path, required=True)
    parser.add_argument("--source", type=Path, required=True, help="local model folder (no downloads)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--unet-weights", type=Path, help="UNet state dict to load before export")
    parser.add_argument("--lora", type=Path, help="LoRA to fuse into the UNet before export")
    args = parser.parse_args(argv)
    catalogue = tomllib.loads(args.catalogue.read_text(encoding="utf-8"))
    if args.out.exists():
        shutil.rmtree(args.out)
    if catalogue["role"] == "segmentation":
        export_segmentation(catalogue, args.source, args.out, args)
    else:
        export_diffusion(catalogue, args.source, args.out, args)
    manifest = finalize_folder(args.out, catalogue)
    print(f"exported {manifest.id}: {len(manifest.files)} files, {manifest.total_size / 1e9:.2f} GB -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
