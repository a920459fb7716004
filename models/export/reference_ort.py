"""Reference outputs from optimum's own ORT pipelines, on given noise (export venv only: imports torch).

    models/export/.venv/bin/python models/export/reference_ort.py CASES.json

``CASES.json`` is a list of cases; each names an exported folder, the pipeline (``inpaint`` or
``text2image``), the scheduler (``euler`` or ``ddim``, spacing), steps, guidance, prompt, negative prompt and an
``inputs`` .npz holding ``noise`` (initial latents, unscaled), ``vae_noise`` (the VAE posterior sample's
noise), ``image`` (uint8 HxWx3) and ``mask`` (uint8 HxW). The result, the pipeline's float image
[1,3,H,W] in [0,1], is written to the case's ``output`` .npz as ``image``, with the denoising-loop
iteration times ``step_ms`` (first run of several is a warm-up) and each run's ``total_ms`` (for
bench/bench_diffusion.py).

The VAE posterior is sampled with the given noise (diffusers would draw it from a torch generator),
so the runtime under test can be fed exactly the same numbers.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, EulerDiscreteScheduler
from optimum.onnxruntime import (
    ORTStableDiffusionInpaintPipeline,
    ORTStableDiffusionPipeline,
    ORTStableDiffusionXLInpaintPipeline,
    modeling_diffusion,
)
from PIL import Image

_VAE_NOISE: list[np.ndarray] = []


def _sample(self, generator=None):  # replaces DiagonalGaussianDistribution.sample
    noise = torch.from_numpy(_VAE_NOISE[0]).to(self.mean.dtype)
    return self.mean + self.std * noise


modeling_diffusion.DiagonalGaussianDistribution.sample = _sample


def _load(folder: Path, kind: str):
    index = json.loads((folder / "model_index.json").read_text())
    xl = "text_encoder_2" in index and index["text_encoder_2"][0] is not None
    if kind == "text2image":
        cls = ORTStableDiffusionPipeline
    else:
        cls = ORTStableDiffusionXLInpaintPipeline if xl else ORTStableDiffusionInpaintPipeline
    pipe = cls.from_pretrained(str(folder), provider="CPUExecutionProvider")
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_case(case: dict) -> None:
    folder = Path(case["folder"])
    inputs = np.load(case["inputs"])
    _VAE_NOISE[:] = [inputs["vae_noise"]]
    start = time.perf_counter()
    pipe = _load(folder, case["pipeline"])
    load_ms = (time.perf_counter() - start) * 1000
    config = dict(pipe.scheduler.config)
    config["timestep_spacing"] = case.get("spacing", config.get("timestep_spacing"))
    if case.get("scheduler", "euler") == "ddim":
        pipe.scheduler = DDIMScheduler.from_config(config, clip_sample=False)
    else:
        pipe.scheduler = EulerDiscreteScheduler.from_config(config)
    kwargs = dict(
        prompt=case["prompt"],
        negative_prompt=case.get("negative_prompt"),
        num_inference_steps=case["steps"],
        guidance_scale=case["guidance"],
        latents=torch.from_numpy(inputs["noise"]),
        output_type="np",
    )
    height, width = inputs["image"].shape[:2]
    if case["pipeline"] == "inpaint":
        kwargs.update(
            image=Image.fromarray(inputs["image"], "RGB"),
            mask_image=Image.fromarray(inputs["mask"], "L"),
            strength=1.0,
            height=height,
            width=width,
        )
    else:
        kwargs.update(height=height, width=width)
    ticks: list[float] = []

    def on_step_end(pipeline, step, timestep, callback_kwargs):
        ticks.append(time.perf_counter())
        return callback_kwargs

    kwargs["callback_on_step_end"] = on_step_end
    repeats = int(case.get("repeats", 1))
    step_ms: list[float] = []
    total_ms: list[float] = []
    for run in range(repeats):
        ticks.clear()
        start = time.perf_counter()
        images = pipe(**kwargs).images
        total_ms.append((time.perf_counter() - start) * 1000)
        if run > 0 or repeats == 1:  # the first of several runs is a warm-up
            step_ms.extend(np.diff(ticks) * 1000)  # whole loop iterations: UNet + CFG + scheduler
    out = np.asarray(images, dtype=np.float32).transpose(0, 3, 1, 2)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    np.savez(
        case["output"],
        image=out,
        step_ms=np.asarray(step_ms),
        total_ms=np.asarray(total_ms),
        load_ms=np.float64(load_ms),
        peak_rss_mb=np.float64(peak_mb),
    )


def main() -> int:
    cases = json.loads(Path(sys.argv[1]).read_text())
    for case in cases:
        run_case(case)
        print("reference:", case["output"], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
