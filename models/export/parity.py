"""Parity harness: the numpy runtime vs optimum's ORT pipeline on the same noise.

Runs in the *runtime* venv (numpy, pillow, the server package); the reference side runs in the export venv
through ``reference_ort.py`` as a subprocess. Used by the ``export`` test and by ``bench/bench_diffusion.py``.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
EXPORT_PYTHON = HERE / ".venv" / "bin" / "python"


@dataclass
class Case:
    name: str
    folder: Path
    pipeline: str  # inpaint | text2image
    size: tuple[int, int] = (64, 64)  # (width, height)
    scheduler: str = "euler"
    spacing: str = "leading"
    steps: int = 4
    guidance: float = 5.0
    prompt: str = "a glass bottle on a marble table"
    negative_prompt: str | None = "blurry"
    seed: int = 0
    repeats: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def make_inputs(case: Case, vae_scale: int, work: Path) -> Path:
    """Write the case's noise, VAE noise, image and mask to an .npz; return its path."""
    rng = np.random.default_rng(case.seed)
    w, h = case.size
    lh, lw = h // vae_scale, w // vae_scale
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), (xx + yy) % 256], -1).astype(np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4 : 3 * h // 4, w // 5 : 4 * w // 5] = 255
    path = work / f"{case.name}-inputs.npz"
    np.savez(
        path,
        noise=rng.standard_normal((1, 4, lh, lw), dtype=np.float32),
        vae_noise=rng.standard_normal((1, 4, lh, lw), dtype=np.float32),
        image=image,
        mask=mask,
    )
    return path


def run_reference(cases: list[Case], inputs: dict[str, Path], work: Path, timeout: float = 900) -> dict[str, Any]:
    """Run optimum's pipelines in the export venv; return {case name: npz data}."""
    spec = []
    for case in cases:
        spec.append(
            {
                "folder": str(case.folder),
                "pipeline": case.pipeline,
                "scheduler": case.scheduler,
                "spacing": case.spacing,
                "steps": case.steps,
                "guidance": case.guidance,
                "prompt": case.prompt,
                "negative_prompt": case.negative_prompt,
                "inputs": str(inputs[case.name]),
                "output": str(work / f"{case.name}-reference.npz"),
                "repeats": case.repeats,
            }
        )
    cases_path = work / "cases.json"
    cases_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [str(EXPORT_PYTHON), str(HERE / "reference_ort.py"), str(cases_path)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"reference_ort.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return {c.name: dict(np.load(work / f"{c.name}-reference.npz")) for c in cases}


def run_runtime(case: Case, inputs_path: Path, pipeline: Any = None) -> tuple[np.ndarray, list[float], list[float]]:
    """Run the numpy runtime on the case's inputs: (float image [1,3,H,W], loop-iteration ms, total ms per run).

    Iteration times are measured like the reference's (between the ends of successive steps; the first
    of several runs is a warm-up), so the two per-step figures compare like for like."""
    from paqshot_server.inference.diffusion import DiffusionPipeline

    pipe = pipeline or DiffusionPipeline(case.folder, device="cpu")
    data = np.load(inputs_path)
    common: dict[str, Any] = dict(
        steps=case.steps,
        guidance=case.guidance,
        scheduler=case.scheduler,
        spacing=case.spacing,
        noise=data["noise"],
    )
    out = np.zeros(0)
    step_ms: list[float] = []
    total_ms: list[float] = []
    for run in range(case.repeats):
        ticks: list[float] = []
        common["progress"] = lambda _fraction, ticks=ticks: ticks.append(time.perf_counter())
        start = time.perf_counter()
        if case.pipeline == "inpaint":
            out = pipe.inpaint_array(
                Image.fromarray(data["image"], "RGB"),
                Image.fromarray(data["mask"], "L"),
                case.prompt,
                case.negative_prompt,
                size=case.size,
                vae_noise=data["vae_noise"],
                **common,
            )
        else:
            out = pipe.generate_array(case.prompt, case.negative_prompt, case.size[0], case.size[1], **common)
        total_ms.append((time.perf_counter() - start) * 1000)
        if run > 0 or case.repeats == 1:
            step_ms.extend(float(d) for d in np.diff(ticks) * 1000)
    return out, step_ms, total_ms


def _steady(values: Any) -> float:
    """Mean of the runs after the first (the warm-up), or of the only run."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr[1:].mean() if arr.size > 1 else arr.mean())


def compare(cases: list[Case], work: Path, pipes: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run both sides for every case; rows with max |difference| and timings."""
    from paqshot_server.inference.diffusion import DiffusionPipeline

    pipes = pipes or {c.name: DiffusionPipeline(c.folder, device="cpu") for c in cases}
    inputs = {c.name: make_inputs(c, pipes[c.name].vae_scale, work) for c in cases}
    start = time.perf_counter()
    reference = run_reference(cases, inputs, work)
    reference_s = time.perf_counter() - start
    rows = []
    for case in cases:
        ours, step_ms, total_ms = run_runtime(case, inputs[case.name], pipes[case.name])
        ref = reference[case.name]["image"]
        rows.append(
            {
                "case": case.name,
                "shape": tuple(ours.shape),
                "max_abs_diff": float(np.abs(ours - ref).max()) if ours.shape == ref.shape else float("inf"),
                "reference_std": float(ref.std()),
                "runtime_ms_per_step": float(np.mean(step_ms)),
                "optimum_ms_per_step": float(np.mean(reference[case.name]["step_ms"])),
                "runtime_total_ms": _steady(total_ms),
                "optimum_total_ms": _steady(reference[case.name]["total_ms"]),
                "optimum_load_ms": float(reference[case.name]["load_ms"]),
                "optimum_peak_rss_mb": float(reference[case.name]["peak_rss_mb"]),
                "reference_process_s": reference_s,
            }
        )
    return rows
