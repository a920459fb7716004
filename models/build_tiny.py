"""Build the tiny random-weight test models offline and export them with the real export path.

Runs in the export venv (``bash models/export/setup.sh`` makes it)::

    models/export/.venv/bin/python models/build_tiny.py [--out tests/fixtures/models] [--only NAME ...]

It writes, under ``--out``, one exported folder per model with a ``manifest.toml`` (checksums included)
that ``<cli> models install`` accepts:

- ``tiny-sd-inpaint``   SD 1.5-family 9-channel inpainting (one CLIP text encoder), exported by optimum
- ``tiny-sdxl-inpaint`` SDXL-family 9-channel inpainting (two text encoders, pooled embeds, time ids)
- ``tiny-sd``           SD 1.5-family 4-channel UNet: text-to-image and latent-blend inpainting
- ``tiny-seg``          a few-thousand-parameter conv net with BiRefNet's input/output contract

Everything is seeded: a rebuild gives the same weights. The exported graphs are not byte-identical across
toolchain versions, which is why the manifests carry checksums computed here, not constants.
Sizes are smaller than the MODELS.md reference configs (one layer per block, narrow GroupNorms) so the
four folders stay well under the 15 MB fixture budget; the graph shapes, names and wiring are the real ones.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models" / "export"))

from export_model import export_pipeline  # noqa: E402
from finalize import finalize_folder  # noqa: E402

# --- a character-level CLIP vocabulary -------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """CLIP's byte-to-symbol table (the same as GPT-2's)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def write_char_vocab(folder: Path, pad_token: str) -> dict[str, int]:
    """vocab.json + merges.txt (no merges: every word splits into characters) + tokenizer configs."""
    symbols = list(bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for s in symbols:
        vocab[s] = len(vocab)
    for s in symbols:
        vocab[s + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return vocab


# --- model builders (torch, diffusers, transformers: export time only) -------------------------------------


def _scheduler():
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="leading",
        steps_offset=1,
        num_train_timesteps=1000,
    )


def _text_encoder(vocab: dict[str, int], projection: int | None, seed: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    cfg = CLIPTextConfig(
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=1000,
        max_position_embeddings=77,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
        layer_norm_eps=1e-5,
        projection_dim=projection or 32,
    )
    model = CLIPTextModelWithProjection(cfg) if projection else CLIPTextModel(cfg)
    return model.eval()


def _tokenizer(folder: Path, pad_token: str):
    from transformers import CLIPTokenizer

    write_char_vocab(folder, pad_token)
    tok = CLIPTokenizer(
        str(folder / "vocab.json"),
        str(folder / "merges.txt"),
        pad_token=pad_token,
        model_max_length=77,
    )
    shutil.rmtree(folder)
    return tok


def _vae(seed: int):
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(
        block_out_channels=[16, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=64,
    ).eval()


def _unet(in_channels: int, xl: bool, seed: int):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    extra = {}
    if xl:
        extra = dict(
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=80,  # 6 time ids x 8 + 32 pooled
            transformer_layers_per_block=(1, 1),
            use_linear_projection=True,
            attention_head_dim=(2, 4),
        )
    return UNet2DConditionModel(
        block_out_channels=(16, 32),
        layers_per_block=1,
        sample_size=32,
        in_channels=in_channels,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=64 if xl else 32,
        norm_num_groups=8,
        **extra,
    ).eval()


def build_sd(work: Path, in_channels: int) -> Path:
    from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

    tok = _tokenizer(work / "vocab_tmp", "<|endoftext|>")
    vocab = tok.get_vocab()
    cls = StableDiffusionInpaintPipeline if in_channels == 9 else StableDiffusionPipeline
    pipe = cls(
        vae=_vae(1),
        text_encoder=_text_encoder(vocab, None, 2),
        tokenizer=tok,
        unet=_unet(in_channels, False, 3),
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    src = work / "src"
    pipe.save_pretrained(src)
    return src


def build_sdxl(work: Path) -> Path:
    from diffusers import StableDiffusionXLInpaintPipeline

    tok = _tokenizer(work / "vocab_tmp", "<|endoftext|>")
    tok2 = _tokenizer(work / "vocab_tmp2", "!")
    vocab = tok.get_vocab()
    pipe = StableDiffusionXLInpaintPipeline(
        vae=_vae(11),
        text_encoder=_text_encoder(vocab, None, 12),
        text_encoder_2=_text_encoder(vocab, 32, 13),
        tokenizer=tok,
        tokenizer_2=tok2,
        unet=_unet(9, True, 14),
        scheduler=_scheduler(),
        requires_aesthetics_score=False,
        force_zeros_for_empty_prompt=True,
    )
    src = work / "src"
    pipe.save_pretrained(src)
    return src


def build_segmenter(out: Path) -> None:
    """A tiny conv net with BiRefNet's contract: ``input_image`` [1,3,H,W] -> logits [1,1,H,W] (dynamic H/W)."""
    import torch
    from torch import nn

    class TinySeg(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.Conv2d(3, 12, 3, stride=2, padding=1)
            self.mid = nn.Conv2d(12, 12, 3, padding=1)
            self.head = nn.Conv2d(12 + 3, 1, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.down(x))
            h = torch.relu(self.mid(h))
            h = nn.functional.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
            return self.head(torch.cat([h, x], dim=1)) * 4.0

    torch.manual_seed(21)
    model = TinySeg().eval()
    out.mkdir(parents=True, exist_ok=True)
    dummy = torch.randn(1, 3, 64, 64)
    torch.onnx.export(
        model,
        (dummy,),
        str(out / "model.onnx"),
        input_names=["input_image"],
        output_names=["output_image"],
        dynamic_axes={"input_image": {2: "height", 3: "width"}, "output_image": {2: "height", 3: "width"}},
        opset_version=17,
        dynamo=False,
    )


# --- manifests ---------------------------------------------------------------------------------------------

COMMON = {
    "licence": "Apache-2.0",
    "commercial_ok": True,
    "source": "models/build_tiny.py (random weights, built offline; for tests only)",
    "notes": "Random weights: the output is noise. Exists to test the runtime end to end without torch.",
}

MANIFESTS = {
    "tiny-sd-inpaint": {
        "name": "Tiny SD-inpaint (test)",
        "role": "inpainting",
        "family": "sd15",
        "styles": ["lifestyle", "editorial", "mockup"],
        "priority": 1,
        "diffusion": {
            "pipeline": "sd",
            "native_size": 128,
            "scheduler": {"name": "euler", "spacing": "leading", "steps": 4, "guidance": 5.0},
        },
    },
    "tiny-sdxl-inpaint": {
        "name": "Tiny SDXL-inpaint (test)",
        "role": "inpainting",
        "family": "sdxl",
        "styles": ["lifestyle", "editorial", "mockup"],
        "priority": 2,
        "diffusion": {
            "pipeline": "sdxl",
            "native_size": 128,
            "scheduler": {"name": "euler", "spacing": "leading", "steps": 4, "guidance": 5.0},
        },
    },
    "tiny-sd": {
        "name": "Tiny SD (4-channel, test)",
        "role": "text2image",
        "family": "sd15",
        "styles": ["lifestyle", "editorial"],
        "priority": 0,
        "diffusion": {
            "pipeline": "sd",
            "native_size": 128,
            "scheduler": {"name": "euler", "spacing": "trailing", "steps": 4, "guidance": 1.0},
        },
    },
    "tiny-seg": {
        "name": "Tiny BiRefNet-contract segmenter (test)",
        "role": "segmentation",
        "family": "birefnet",
        "styles": ["studio_packshot", "lifestyle", "editorial", "mockup"],
        "priority": 0,
        "segmentation": {
            "input": "input_image",
            "output": "output_image",
            "size": [256, 256],
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
            "activation": "sigmoid",
        },
    },
}


def build_one(name: str, out_root: Path) -> float:
    start = time.perf_counter()
    dest = out_root / name
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
        work = Path(tmp)
        exported = work / "onnx"
        if name == "tiny-seg":
            build_segmenter(exported)
        elif name == "tiny-sdxl-inpaint":
            export_pipeline(build_sdxl(work), exported, "inpainting")
        elif name == "tiny-sd-inpaint":
            export_pipeline(build_sd(work, 9), exported, "inpainting")
        elif name == "tiny-sd":
            export_pipeline(build_sd(work, 4), exported, "text-to-image")
        else:
            raise SystemExit(f"unknown tiny model {name!r}")
        manifest = {"id": name, **COMMON, **MANIFESTS[name]}
        finalize_folder(exported, manifest)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(exported, dest)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "models")
    parser.add_argument("--only", nargs="*", choices=sorted(MANIFESTS), help="build only these")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name in args.only or list(MANIFESTS):
        seconds = build_one(name, args.out)
        size = sum(p.stat().st_size for p in (args.out / name).rglob("*") if p.is_file())
        total += size
        print(f"{name:20s} {size / 1e6:6.2f} MB  built+exported in {seconds:5.1f} s", flush=True)
    print(f"{'total':20s} {total / 1e6:6.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
