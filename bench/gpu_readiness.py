"""GPU readiness: full-size random-weight SDXL-inpaint + a BiRefNet-size segmenter, exported and timed.

    # build (export venv: torch, diffusers, optimum) then run (runtime venv: onnxruntime[-gpu] + numpy):
    .venv/bin/python bench/gpu_readiness.py --size full  --work /tmp/readiness   # on the GPU box
    .venv/bin/python bench/gpu_readiness.py --size small --work /tmp/readiness   # anywhere, CPU, minutes

``--phase build`` builds the SDXL-inpaint architecture from its published config with random weights (no
download), exports it with optimum (fp32) and finalizes a manifest; it also exports a segmentation network
of BiRefNet's input/output contract sized for 1024² (a conv encoder-decoder proxy, FLOPs printed — the
real BiRefNet needs its own repository code). The build runs in the export venv: when torch is not
importable here the script re-runs that phase under ``models/export/.venv/bin/python``.

``--phase run`` checks the providers first (onnxruntime vs onnxruntime-gpu, and what a session really
gets), then times inpainting at the chosen resolution for each step count (default 4 and 30, CFG on, one
warm-up per resolution) and the segmenter, and prints a table next to the floors of MODELS.md.
``--size small`` keeps SDXL's structure (two text encoders, 3 UNet levels, 8x VAE) with narrow layers and
runs at 256², so the whole path can be rehearsed on a CPU; its figures are not comparable to the floors.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXPORT_PYTHON = REPO / "models" / "export" / ".venv" / "bin" / "python"

# MODELS.md "Performance anchors and floors" (one H200, dense fp16), in ms.
FLOORS = {
    "sdxl_inpaint_30": ("SDXL inpaint 1024², 30 steps, CFG", 530.0, "SDXL TensorRT on H100: 1470 ms"),
    "sdxl_inpaint_4": ("4-step distilled SDXL 1024²", 54.0, "SDXL-LCM TensorRT on H100: 230 ms"),
    "birefnet": ("BiRefNet 1024²", None, "58-69 ms fp16 (RTX 4090 / A100, PyTorch)"),
}

SDXL_UNET = {
    "full": dict(
        block_out_channels=(320, 640, 1280),
        layers_per_block=2,
        transformer_layers_per_block=(1, 2, 10),
        attention_head_dim=(5, 10, 20),
        cross_attention_dim=2048,
        addition_time_embed_dim=256,
        projection_class_embeddings_input_dim=2816,  # 6 x 256 + 1280 pooled
        norm_num_groups=32,
        sample_size=128,
    ),
    "small": dict(
        block_out_channels=(32, 64, 128),
        layers_per_block=1,
        transformer_layers_per_block=(1, 1, 2),
        attention_head_dim=(2, 4, 8),
        cross_attention_dim=96,
        addition_time_embed_dim=16,
        projection_class_embeddings_input_dim=6 * 16 + 64,
        norm_num_groups=8,
        sample_size=32,
    ),
}
SDXL_VAE = {
    "full": dict(block_out_channels=[128, 256, 512, 512], layers_per_block=2, norm_num_groups=32, sample_size=1024),
    "small": dict(block_out_channels=[16, 32, 32, 32], layers_per_block=1, norm_num_groups=8, sample_size=256),
}
# (hidden, intermediate, heads, layers, projection)
SDXL_TEXT = {
    "full": [(768, 3072, 12, 12, None), (1280, 5120, 20, 32, 1280)],
    "small": [(32, 64, 4, 2, None), (64, 128, 4, 2, 64)],
}
SEG_WIDTHS = {"full": (64, 128, 256, 512, 1024), "small": (8, 16, 32, 64, 64)}
RESOLUTION = {"full": 1024, "small": 256}


# ---- build (export venv) ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportPlan:
    """How the build phase exports: optimum's ``device``/``dtype`` ("fp16" needs "cuda"), its validation
    against torch, and whether to time the same random-weight modules in PyTorch first (CUDA only)."""

    device: str = "cpu"
    dtype: str = "fp32"
    validate: bool = True
    torch_reference: bool = False


def torch_reference(unet: Any, vae: Any, size: str, work: Path, steps: int = 12) -> None:
    """Time the architecture itself in PyTorch eager fp16 on CUDA (same modules as exported): one
    classifier-free-guidance UNet step (batch 2) and one VAE decode, median of ``steps`` after warm-up.

    A reference for the ONNX Runtime figures of the run phase (what the card does with this architecture
    without our runtime), written to ``work/torch_reference.json``; skipped without CUDA.
    """
    import torch

    if not torch.cuda.is_available():
        print("torch reference skipped: no CUDA device", flush=True)
        return
    res = RESOLUTION[size]
    u = SDXL_UNET[size]
    unet = unet.to("cuda", torch.float16)
    decoder = vae.to("cuda", torch.float16)
    lat = res // 8
    sample = torch.randn(2, 9, lat, lat, device="cuda", dtype=torch.float16)
    context = torch.randn(2, 77, u["cross_attention_dim"], device="cuda", dtype=torch.float16)
    pooled = u["projection_class_embeddings_input_dim"] - 6 * u["addition_time_embed_dim"]
    cond = {
        "text_embeds": torch.randn(2, pooled, device="cuda", dtype=torch.float16),
        "time_ids": torch.tensor([[res, res, 0, 0, res, res]] * 2, device="cuda", dtype=torch.float16),
    }
    latents = torch.randn(1, 4, lat, lat, device="cuda", dtype=torch.float16)

    def timed(fn: Any) -> float:
        times = []
        with torch.inference_mode():
            for i in range(steps + 2):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                fn()
                torch.cuda.synchronize()
                if i >= 2:
                    times.append((time.perf_counter() - t0) * 1000)
        return sorted(times)[len(times) // 2]

    t = torch.tensor(500.0, device="cuda")
    step_ms = timed(lambda: unet(sample, t, context, added_cond_kwargs=cond))
    decode_ms = timed(lambda: decoder.decode(latents))
    result = {
        "work": f"PyTorch {torch.__version__} eager fp16, {torch.cuda.get_device_name()}",
        "unet_ms_per_step_cfg": step_ms,
        "vae_decode_ms": decode_ms,
        "sdxl_30_steps_estimate_ms": 30 * step_ms + decode_ms,
        "sdxl_4_steps_estimate_ms": 4 * step_ms + decode_ms,
    }
    (work / "torch_reference.json").write_text(json.dumps(result))
    print("torch reference:", json.dumps(result), flush=True)


def build(size: str, work: Path, export: ExportPlan) -> None:
    import torch
    from diffusers import AutoencoderKL, StableDiffusionXLInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    sys.path.insert(0, str(REPO / "models"))
    from build_tiny import _scheduler, _tokenizer, export_pipeline, finalize_folder

    torch.manual_seed(0)
    out = work / f"sdxl-inpaint-{size}"
    if not (out / "manifest.toml").is_file():
        start = time.perf_counter()
        encoders = []
        for hidden, inter, heads, layers, proj in SDXL_TEXT[size]:
            cfg = CLIPTextConfig(
                hidden_size=hidden,
                intermediate_size=inter,
                num_attention_heads=heads,
                num_hidden_layers=layers,
                vocab_size=49408,
                max_position_embeddings=77,
                projection_dim=proj or hidden,
                bos_token_id=512,
                eos_token_id=513,
                pad_token_id=513,
            )
            encoders.append((CLIPTextModelWithProjection(cfg) if proj else CLIPTextModel(cfg)).eval())
        u = SDXL_UNET[size]
        unet = UNet2DConditionModel(
            in_channels=9,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            addition_embed_type="text_time",
            use_linear_projection=True,
            **u,
        ).eval()
        v = SDXL_VAE[size]
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=["DownEncoderBlock2D"] * 4,
            up_block_types=["UpDecoderBlock2D"] * 4,
            latent_channels=4,
            scaling_factor=0.13025,
            **v,
        ).eval()
        pipe = StableDiffusionXLInpaintPipeline(
            vae=vae,
            text_encoder=encoders[0],
            text_encoder_2=encoders[1],
            tokenizer=_tokenizer(work / "vocab1", "<|endoftext|>"),
            tokenizer_2=_tokenizer(work / "vocab2", "!"),
            unet=unet,
            scheduler=_scheduler(),
            requires_aesthetics_score=False,
            force_zeros_for_empty_prompt=True,
        )
        src = work / f"src-{size}"
        pipe.save_pretrained(src, safe_serialization=True)
        if export.torch_reference:
            torch_reference(unet, vae, size, work)
        del pipe, unet, vae, encoders
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the reference's fp16 copies, before the export loads its own
        built = time.perf_counter()
        try:
            export_pipeline(src, out, "inpainting", device=export.device, dtype=export.dtype, validate=export.validate)
        except Exception as exc:  # a readiness run still wants a figure: the rehearsed fp32 CPU export
            if (export.device, export.dtype) == ("cpu", "fp32"):
                raise
            print(f"{export.dtype} export on {export.device} failed ({exc!r}); exporting fp32 on the CPU", flush=True)
            shutil.rmtree(out, ignore_errors=True)
            export_pipeline(src, out, "inpainting", validate=False)
        finalize_folder(
            out,
            {
                "id": f"readiness-sdxl-inpaint-{size}",
                "role": "inpainting",
                "family": "sdxl",
                "licence": "Apache-2.0",
                "commercial_ok": True,
                "source": "bench/gpu_readiness.py (random weights, SDXL-inpaint architecture)",
                "diffusion": {
                    "pipeline": "sdxl",
                    "native_size": RESOLUTION[size],
                    "scheduler": {"name": "euler", "spacing": "leading", "steps": 30, "guidance": 7.5},
                },
            },
        )
        print(f"built SDXL-inpaint ({size}) in {built - start:.0f} s, exported in {time.perf_counter() - built:.0f} s")
    build_segmenter(size, work)


def build_segmenter(size: str, work: Path) -> None:
    import torch
    from torch import nn

    sys.path.insert(0, str(REPO / "models"))
    from build_tiny import finalize_folder

    out = work / f"seg-{size}"
    if (out / "manifest.toml").is_file():
        return
    widths = SEG_WIDTHS[size]

    def block(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU()
        )

    class SegProxy(nn.Module):
        """U-Net-shaped encoder-decoder: stride-2 stages down to 1/32, decoder back with skips."""

        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, widths[0], 4, stride=4)
            self.down = nn.ModuleList([block(widths[i - 1] if i else widths[0], widths[i]) for i in range(len(widths))])
            self.up = nn.ModuleList(
                [block(widths[i] + widths[i - 1], widths[i - 1]) for i in range(len(widths) - 1, 0, -1)]
            )
            self.head = nn.Conv2d(widths[0], 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.stem(x)
            skips = []
            for i, stage in enumerate(self.down):
                h = stage(h if i == 0 else nn.functional.max_pool2d(h, 2))
                skips.append(h)
            for stage, skip in zip(self.up, reversed(skips[:-1]), strict=True):
                h = nn.functional.interpolate(h, size=skip.shape[-2:], mode="bilinear", align_corners=False)
                h = stage(torch.cat([h, skip], 1))
            h = nn.functional.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
            return self.head(h)

    model = SegProxy().eval()
    res = RESOLUTION[size]
    out.mkdir(parents=True, exist_ok=True)
    dummy = torch.randn(1, 3, res, res)
    flops = _conv_flops(model, dummy)
    torch.onnx.export(
        model,
        (dummy,),
        str(out / "model.onnx"),
        input_names=["input_image"],
        output_names=["output_image"],
        opset_version=17,
        dynamo=False,
    )
    finalize_folder(
        out,
        {
            "id": f"readiness-seg-{size}",
            "role": "segmentation",
            "family": "birefnet",
            "licence": "Apache-2.0",
            "commercial_ok": True,
            "source": "bench/gpu_readiness.py (random weights; BiRefNet contract, conv proxy)",
            "notes": f"{flops / 1e9:.1f} GFLOPs at {res}x{res}",
            "segmentation": {"input": "input_image", "output": "output_image", "size": [res, res]},
        },
    )
    print(f"exported segmentation proxy ({size}): {flops / 1e9:.1f} GFLOPs at {res}²")


def _conv_flops(model: Any, x: Any) -> float:
    """2 x MACs of every Conv2d for one forward pass (hooks)."""
    import torch

    total = [0.0]

    def hook(mod: Any, inputs: Any, output: Any) -> None:
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        total[0] += 2.0 * k * output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total[0]


# ---- run (runtime venv) ---------------------------------------------------------------------------------


def providers_report() -> dict[str, Any]:
    import importlib.metadata as md

    import onnxruntime as ort
    from paqshot_server.inference import sessions

    dists = sorted(n for n in ("onnxruntime", "onnxruntime-gpu") if _installed(md, n))
    report = sessions.probe("auto").as_dict()
    report["distributions"] = dists
    report["ort_device"] = ort.get_device()
    return report


def _installed(md: Any, name: str) -> bool:
    try:
        md.version(name)
    except md.PackageNotFoundError:
        return False
    return True


def run(
    size: str, work: Path, steps_list: list[int], resolution: int | None, repeats: int, photo_model: Path | None
) -> list[dict[str, Any]]:
    import numpy as np
    from paqshot_server.inference.diffusion import DiffusionPipeline
    from paqshot_server.inference.segmenters import OnnxSegmenter
    from PIL import Image

    res = resolution or RESOLUTION[size]
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    pipe = DiffusionPipeline(work / f"sdxl-inpaint-{size}")
    load_s = time.perf_counter() - start
    print(f"SDXL-inpaint ({size}) loaded in {load_s:.1f} s on {pipe.provider}", flush=True)
    image = Image.new("RGB", (res, res), (200, 190, 180))
    mask = Image.new("L", (res, res), 255)
    mask.paste(0, (res // 3, res // 3, 2 * res // 3, 2 * res // 3))
    pipe.inpaint(image, mask, "warm-up", steps=1, guidance=5.0, seed=0, size=(res, res))
    for steps in steps_list:
        runs = []
        for _ in range(repeats):
            pipe.inpaint(
                image, mask, "a bottle on a table", "blurry", steps=steps, guidance=5.0, seed=1, size=(res, res)
            )
            runs.append(pipe.timings)
        totals = sorted(t.total_ms for t in runs)
        median = runs[[t.total_ms for t in runs].index(totals[len(totals) // 2])]
        rows.append(
            {
                "work": f"SDXL inpaint {res}², {steps} steps, CFG",
                "floor_key": f"sdxl_inpaint_{steps}",
                "unet_ms_per_step": median.unet_ms_per_step,
                "vae_encode_ms": median.vae_encode_ms,
                "vae_decode_ms": median.vae_decode_ms,
                "total_ms": median.total_ms,
                "p95_ms": float(np.percentile(totals, 95)),
                "repeats": repeats,
                "provider": pipe.provider,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    seg = OnnxSegmenter(work / f"seg-{size}")
    rgb = np.asarray(Image.new("RGB", (res, res), (120, 90, 60)))
    seg.predict(rgb)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        seg.predict(rgb)
        times.append((time.perf_counter() - t0) * 1000)
    rows.append(
        {
            "work": f"segmentation {res}² ({seg.manifest.notes})",
            "floor_key": "birefnet",
            "model_ms": float(np.median(times)),
            "total_ms": float(np.median(times)),
            "provider": seg.provider,
        }
    )
    print(json.dumps(rows[-1]), flush=True)
    if photo_model is not None:
        rows.append(time_photo_model(photo_model))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def product_photo(side: tuple[int, int]) -> Any:
    """A ``side`` = (width, height) uint8 RGB photo: a dark textured box on a light backdrop (enough for a
    segmenter to find a product; the content does not change the cost)."""
    import numpy as np

    w, h = side
    rgb = np.full((h, w, 3), 235, np.uint8)
    box = rgb[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3]
    box[:] = np.random.default_rng(0).integers(40, 120, box.shape, np.uint8)
    return rgb


def time_photo_model(folder: Path, side: tuple[int, int] = (2000, 1500), repeats: int = 5) -> dict[str, Any]:
    """A real cut-out model (e.g. the default u2netp folder) on this machine's provider: the model alone at
    its input size, and the whole refined cut-out of a ``side`` photo (median ms of ``repeats``)."""
    import numpy as np
    from paqshot_server.inference.segmenters import OnnxSegmenter

    seg = OnnxSegmenter(folder)
    rgb = product_photo(side)
    seg.predict(rgb)
    model_ms, whole_ms = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        seg.predict(rgb)
        model_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        seg.segment(rgb)
        whole_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "work": f"{seg.manifest.id} model at {seg.contract.size[0]}², cut-out of a {side[0]}x{side[1]} photo",
        "floor_key": "",
        "model_ms": float(np.median(model_ms)),
        "whole_cutout_ms": float(np.median(whole_ms)),
        "total_ms": float(np.median(whole_ms)),
        "provider": seg.provider,
    }


def print_table(size: str, rows: list[dict[str, Any]], work: Path) -> None:
    print()
    reference = work / "torch_reference.json"
    if reference.is_file():
        print("reference (same architecture, same random weights):", reference.read_text())
    print(f"{'work':44s} {'UNet ms/step':>12s} {'VAE dec ms':>10s} {'median ms':>10s} {'p95 ms':>8s}  floor")
    for row in rows:
        label, floor, published = FLOORS.get(row["floor_key"], ("", None, ""))
        if size != "full":
            floor_text = "n/a at small size"
        elif label:
            floor_text = (f">= {floor:.0f} ms; " if floor else "") + published
        else:
            floor_text = "-"
        print(
            f"{row['work'][:44]:44s} {row.get('unet_ms_per_step', float('nan')):12.1f} "
            f"{row.get('vae_decode_ms', float('nan')):10.1f} {row['total_ms']:10.1f} "
            f"{row.get('p95_ms', float('nan')):8.1f}  {floor_text}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gpu-readiness"))
    parser.add_argument("--phase", choices=("all", "build", "run"), default="all")
    parser.add_argument("--steps", default="4,30", help="comma-separated step counts")
    parser.add_argument("--resolution", type=int, default=None, help="override the image side")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per step count (p95 over them)")
    parser.add_argument("--export-device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--export-dtype", choices=("fp32", "fp16"), default="fp32")
    parser.add_argument("--no-validation", action="store_true", help="skip optimum's check against torch")
    parser.add_argument("--torch-reference", action="store_true", help="time the modules in PyTorch fp16 (CUDA)")
    parser.add_argument("--photo-model", type=Path, default=None, help="a cut-out model folder to time too")
    args = parser.parse_args(argv)
    export = ExportPlan(args.export_device, args.export_dtype, not args.no_validation, args.torch_reference)
    args.work.mkdir(parents=True, exist_ok=True)

    if args.phase in ("all", "build"):
        try:
            import torch  # noqa: F401

            build(args.size, args.work, export)
        except ModuleNotFoundError:
            if not EXPORT_PYTHON.exists():
                print("the build phase needs the export venv: bash models/export/setup.sh", file=sys.stderr)
                return 2
            cmd = [str(EXPORT_PYTHON), __file__, "--size", args.size, "--work", str(args.work), "--phase", "build"]
            cmd += ["--export-device", export.device, "--export-dtype", export.dtype]
            cmd += ["--no-validation"] * (not export.validate) + ["--torch-reference"] * export.torch_reference
            start = time.perf_counter()
            subprocess.run(cmd, check=True)
            print(f"build phase: {time.perf_counter() - start:.0f} s")
    if args.phase in ("all", "run"):
        print("providers:", json.dumps(providers_report()))
        steps = [int(s) for s in args.steps.split(",")]
        rows = run(args.size, args.work, steps, args.resolution, args.repeats, args.photo_model)
        print_table(args.size, rows, args.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
