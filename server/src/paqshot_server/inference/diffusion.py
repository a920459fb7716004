"""A torch-free diffusion runtime: a numpy loop over optimum-exported ONNX graphs.

tokenizer → text encoder(s) → VAE-encode the (masked) image → N scheduler steps with classifier-free
guidance → VAE decode. It follows diffusers' pipelines step for step (StableDiffusionInpaintPipeline,
StableDiffusionXLInpaintPipeline, StableDiffusionPipeline) so that, given the same noise, it reproduces
optimum's ORT pipelines (checked by the ``export`` test):

- SD 1.5 family: one CLIP encoder, ``last_hidden_state``; negative prompt "" when none is given.
- SDXL family: both encoders' penultimate hidden states concatenated, pooled = encoder 2's ``text_embeds``,
  ``time_ids`` = [h, w, 0, 0, h, w]; no negative prompt → zero negative embeddings
  (``force_zeros_for_empty_prompt``).
- 9-channel UNets get latents ‖ mask ‖ masked-image latents; 4-channel UNets inpaint by latent blending
  (after each step the outside-mask latents are replaced by the original re-noised to the next step).
- Text-to-image: a 4-channel UNet samples from noise; a 9-channel one inpaints a fully masked blank image.

Seeded: all noise comes from ``numpy.random.Generator(PCG64(seed))`` — same seed and inputs give the same
pixels on the same provider. Sizes are snapped to the UNet's multiple internally; ``inpaint`` returns an
image the size of its input. Product pixels are not this module's business: the caller re-composites them.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..imaging.result import ProgressFn
from .imageprep import Timings, array_to_image, image_to_array, mask_to_array, nearest, snap
from .manifests import DiffusionContract, Manifest, ManifestError
from .schedulers import Scheduler, make_scheduler
from .sessions import Graph, load_graph, probe
from .tokenizer import ClipTokenizer


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


@dataclass(frozen=True)
class Request:
    """One generation's parameters at the working size (None: the manifest's defaults / fresh noise)."""

    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    steps: int | None = None
    guidance: float | None = None
    seed: int | None = None
    progress: ProgressFn | None = None
    scheduler: str | None = None
    spacing: str | None = None
    noise: np.ndarray | None = None
    vae_noise: np.ndarray | None = None
    strength: float = 1.0  # < 1: start from the noised init image, running only the last share of the steps


class DiffusionPipeline:
    """One exported diffusion folder (SD 1.5 or SDXL family, 9- or 4-channel UNet), loaded once."""

    def __init__(
        self,
        folder: Path,
        manifest: Manifest | None = None,
        *,
        device: str = "auto",
        require_gpu: bool = False,
    ) -> None:
        self.folder = Path(folder)
        if manifest is None:
            try:
                manifest = Manifest.load(self.folder)
            except ManifestError:
                manifest = None
        self.manifest = manifest
        self.contract = (manifest.diffusion if manifest else None) or DiffusionContract(
            pipeline="sdxl" if (self.folder / "text_encoder_2").is_dir() else "sd"
        )
        self.xl = self.contract.pipeline == "sdxl"
        index = _read_json(self.folder / "model_index.json")
        self.force_zeros_for_empty_prompt = bool(index.get("force_zeros_for_empty_prompt", self.xl))
        self.requires_aesthetics_score = bool(index.get("requires_aesthetics_score", False))
        if self.requires_aesthetics_score:
            raise ValueError(f"{folder}: refiner-style models (aesthetic score time ids) are not supported")
        unet_cfg = _read_json(self.folder / "unet" / "config.json")
        vae_cfg = _read_json(self.folder / "vae_decoder" / "config.json")
        self.unet_channels = int(unet_cfg.get("in_channels", 4))
        self.vae_scale = 2 ** (len(vae_cfg.get("block_out_channels", [0, 0, 0, 0])) - 1)
        self.scaling_factor = float(vae_cfg.get("scaling_factor", 0.13025 if self.xl else 0.18215))
        unet_down = 2 ** (len(unet_cfg.get("block_out_channels", [0, 0, 0, 0])) - 1)
        self.multiple = self.contract.size_multiple or self.vae_scale * unet_down
        self.native_size = self.contract.native_size
        self.scheduler_config = _read_json(self.folder / "scheduler" / "scheduler_config.json")

        def graph(name: str) -> Graph:
            return load_graph(self.folder / name / "model.onnx", device=device, require_gpu=require_gpu)

        self.unet = graph("unet")
        self.vae_decoder = graph("vae_decoder")
        self.vae_encoder = graph("vae_encoder") if (self.folder / "vae_encoder").is_dir() else None
        self.text_encoders = [graph("text_encoder")]
        self.tokenizers = [ClipTokenizer(self.folder / "tokenizer")]
        self.penultimate = [self._penultimate("text_encoder")]
        if self.xl:
            self.text_encoders.append(graph("text_encoder_2"))
            self.tokenizers.append(ClipTokenizer(self.folder / "tokenizer_2"))
            self.penultimate.append(self._penultimate("text_encoder_2"))
        self.provider = self.unet.provider
        self.timings = Timings()
        self._lock = threading.Lock()  # one generation at a time per loaded pipeline

    def _penultimate(self, name: str) -> str:
        layers = int(_read_json(self.folder / name / "config.json").get("num_hidden_layers", 0))
        return f"hidden_states.{layers - 1}"

    @property
    def id(self) -> str:
        return self.manifest.id if self.manifest else self.folder.name

    @property
    def can_inpaint(self) -> bool:
        return self.vae_encoder is not None

    # ---- sizes --------------------------------------------------------------------------------------

    def working_size(self, width: int, height: int, size: tuple[int, int] | None = None) -> tuple[int, int]:
        """The (width, height) the model runs at: ``size`` snapped, else the input's aspect at native area."""
        if size is not None:
            return snap(size[0], self.multiple), snap(size[1], self.multiple)
        scale = self.native_size / float(np.sqrt(width * height))
        return snap(width * scale, self.multiple), snap(height * scale, self.multiple)

    # ---- conditioning -------------------------------------------------------------------------------

    def encode_prompt(
        self, prompt: str, negative_prompt: str | None, cfg: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Text embeddings [B,S,D] (negative first when ``cfg``) and, for SDXL, pooled embeddings [B,P]."""
        if not self.xl:
            pos = self._encode(0, prompt)["last_hidden_state"]
            if not cfg:
                return pos, None
            neg = self._encode(0, negative_prompt or "")["last_hidden_state"]
            return np.concatenate([neg, pos]), None
        pos_embeds, pos_pooled = self._encode_xl(prompt)
        if not cfg:
            return pos_embeds, pos_pooled
        if negative_prompt is None and self.force_zeros_for_empty_prompt:
            neg_embeds, neg_pooled = np.zeros_like(pos_embeds), np.zeros_like(pos_pooled)
        else:
            neg_embeds, neg_pooled = self._encode_xl(negative_prompt or "")
        return np.concatenate([neg_embeds, pos_embeds]), np.concatenate([neg_pooled, pos_pooled])

    def _encode(self, which: int, text: str, outputs: list[str] | None = None) -> dict[str, np.ndarray]:
        ids = self.tokenizers[which]([text])
        return self.text_encoders[which].run({"input_ids": ids}, outputs)

    def _encode_xl(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        first = self._encode(0, text, [self.penultimate[0]])[self.penultimate[0]]
        second = self._encode(1, text, [self.penultimate[1], "text_embeds"])
        embeds = np.concatenate([first, second[self.penultimate[1]]], axis=-1)
        return embeds, second["text_embeds"]

    # ---- VAE ----------------------------------------------------------------------------------------

    def _vae_encode(self, image: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
        """Scaled latents of ``image`` [1,3,H,W] in [-1,1]: a sample of the posterior (its mean if no noise)."""
        assert self.vae_encoder is not None
        params = self.vae_encoder.run({"sample": image}, ["latent_parameters"])["latent_parameters"]
        mean, logvar = np.split(params, 2, axis=1)
        latents = mean
        if noise is not None:
            std = np.exp(0.5 * np.clip(logvar, -30.0, 20.0))
            latents = mean + std * noise
        return (latents * np.float32(self.scaling_factor)).astype(np.float32)

    def decode(self, latents: np.ndarray) -> np.ndarray:
        """Latents → float image [1,3,H,W] in [0,1]."""
        out = self.vae_decoder.run({"latent_sample": (latents / np.float32(self.scaling_factor)).astype(np.float32)})
        return np.clip(out["sample"] / 2 + 0.5, 0.0, 1.0)

    # ---- the loop -----------------------------------------------------------------------------------

    def _scheduler(self, name: str | None, spacing: str | None) -> Scheduler:
        defaults = self.contract.scheduler
        return make_scheduler(name or defaults.name, self.scheduler_config, spacing or defaults.spacing)

    def _denoise(
        self,
        *,
        latents: np.ndarray,
        scheduler: Scheduler,
        embeds: np.ndarray,
        pooled: np.ndarray | None,
        time_ids: np.ndarray | None,
        guidance: float,
        cfg: bool,
        rng: np.random.Generator,
        extra: np.ndarray | None,
        blend: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        progress: ProgressFn | None,
        start: int = 0,
    ) -> np.ndarray:
        batch = 2 if cfg else 1
        feeds: dict[str, Any] = {"encoder_hidden_states": self.unet.resident("encoder_hidden_states", embeds)}
        if self.xl:
            assert pooled is not None and time_ids is not None
            feeds["text_embeds"] = self.unet.resident("text_embeds", pooled)
            feeds["time_ids"] = self.unet.resident("time_ids", np.repeat(time_ids, batch, axis=0))
        scalar_t = self.unet.input_rank("timestep") == 0
        n = len(scheduler.timesteps)
        for i in range(start, n):
            t = scheduler.timesteps[i]
            began = time.perf_counter()
            model_in = np.concatenate([latents] * batch) if cfg else latents
            model_in = scheduler.scale_model_input(model_in, i)
            if extra is not None:
                model_in = np.concatenate([model_in, extra], axis=1)
            timestep = np.array(t, dtype=np.float32) if scalar_t else np.full((batch,), t, dtype=np.float32)
            eps = self.unet.run({**feeds, "sample": model_in, "timestep": timestep}, ["out_sample"])["out_sample"]
            if cfg:
                uncond, text = eps[:1], eps[1:]
                eps = uncond + np.float32(guidance) * (text - uncond)
            latents = scheduler.step(eps, i, latents, rng)
            if blend is not None:
                original, noise, mask = blend
                proper = scheduler.add_noise(original, noise, i + 1) if i < n - 1 else original
                latents = (1 - mask) * proper + mask * latents
            self.timings.unet_ms.append((time.perf_counter() - began) * 1000)
            if progress is not None:
                progress((i + 1 - start) / (n - start))
        return latents

    def _run(self, req: Request, image: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
        defaults = self.contract.scheduler
        steps = req.steps or defaults.steps
        guidance = defaults.guidance if req.guidance is None else req.guidance
        cfg = guidance > 1.0
        rng = np.random.default_rng(secrets.randbits(63) if req.seed is None else req.seed)
        sched = self._scheduler(req.scheduler, req.spacing)
        sched.set_timesteps(steps)
        height, width = req.height, req.width
        lh, lw = height // self.vae_scale, width // self.vae_scale
        noise = rng.standard_normal((1, 4, lh, lw), dtype=np.float32) if req.noise is None else req.noise
        if noise.shape != (1, 4, lh, lw):
            raise ValueError(f"noise must be shaped {(1, 4, lh, lw)}, not {noise.shape}")
        self.timings = Timings()
        t0 = time.perf_counter()
        embeds, pooled = self.encode_prompt(req.prompt, req.negative_prompt, cfg)
        time_ids = np.array([[height, width, 0, 0, height, width]], dtype=np.float32) if self.xl else None
        self.timings.text_ms = (time.perf_counter() - t0) * 1000

        if not 0.0 < req.strength <= 1.0:
            raise ValueError(f"strength must be in (0, 1], not {req.strength}")
        # diffusers' img2img convention: run the last round(steps * strength) steps (at least one).
        start = min(steps - 1, steps - round(steps * req.strength)) if image is not None else 0
        init = (noise * np.float32(sched.init_noise_sigma)).astype(np.float32)
        extra = blend = None
        if image is not None and mask is not None:
            t1 = time.perf_counter()
            vae_noise = req.vae_noise
            if vae_noise is None:
                vae_noise = rng.standard_normal((1, 4, lh, lw), dtype=np.float32)
            mask_latent = nearest(mask, lh, lw)
            if self.unet_channels == 9:
                masked_latents = self._vae_encode((image * (mask < 0.5)).astype(np.float32), vae_noise)
                reps = 2 if cfg else 1
                extra = np.concatenate([np.repeat(mask_latent, reps, 0), np.repeat(masked_latents, reps, 0)], 1)
            elif self.unet_channels == 4:
                blend = (self._vae_encode(image, vae_noise), noise, mask_latent)
            else:
                raise ValueError(f"UNets with {self.unet_channels} input channels are not supported")
            if start > 0:  # the init image's structure (layout, set, light) seeds the regenerated area
                original = blend[0] if blend is not None else self._vae_encode(image, vae_noise)
                init = sched.add_noise(original, noise, start).astype(np.float32)
            self.timings.vae_encode_ms = (time.perf_counter() - t1) * 1000
        elif self.unet_channels != 4:
            raise ValueError("a 9-channel UNet needs an image and a mask")

        latents = self._denoise(
            latents=init,
            scheduler=sched,
            embeds=embeds,
            pooled=pooled,
            time_ids=time_ids,
            guidance=guidance,
            cfg=cfg,
            rng=rng,
            extra=extra,
            blend=blend,
            progress=req.progress,
            start=start,
        )
        t2 = time.perf_counter()
        out = self.decode(latents)
        self.timings.vae_decode_ms = (time.perf_counter() - t2) * 1000
        self.timings.total_ms = (time.perf_counter() - t0) * 1000
        return out

    # ---- public entry points ------------------------------------------------------------------------

    def inpaint_array(
        self,
        image: Image.Image,
        mask: Image.Image,
        prompt: str,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        progress: ProgressFn | None = None,
        *,
        size: tuple[int, int] | None = None,
        strength: float = 1.0,
        **options: Any,
    ) -> np.ndarray:
        """Like :meth:`inpaint` but returns the decoded float image [1,3,h,w] in [0,1] at the working size."""
        if not self.can_inpaint:
            raise ValueError(f"model {self.id} has no VAE encoder: it cannot inpaint")
        if image.size != mask.size:
            raise ValueError(f"image {image.size} and mask {mask.size} differ in size")
        width, height = self.working_size(*image.size, size)
        req = Request(
            prompt, negative_prompt, width, height, steps, guidance, seed, progress, strength=strength, **options
        )
        with self._lock:
            return self._run(req, image_to_array(image, width, height), mask_to_array(mask, width, height))

    def inpaint(
        self,
        image: Image.Image,
        mask: Image.Image,
        prompt: str,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        progress: ProgressFn | None = None,
        strength: float = 1.0,
        **options: Any,
    ) -> Image.Image:
        """Regenerate the white (255) part of ``mask`` in ``image``; returns RGB at the input's size.

        ``strength`` < 1 starts from ``image`` noised to that level instead of pure noise, so its structure
        (a procedural layout, say) carries into the regenerated area; 1 (default) ignores it there.

        ``steps``/``guidance`` default to the manifest's scheduler defaults; ``guidance`` ≤ 1 turns classifier-
        free guidance off. ``progress(fraction)`` is called once per denoising step. Keyword ``options``:
        ``size`` (working size, snapped), ``scheduler`` (euler/ddim/lcm), ``spacing``, ``noise``, ``vae_noise``.
        """
        out = self.inpaint_array(
            image.convert("RGB"),
            mask.convert("L"),
            prompt,
            negative_prompt,
            steps,
            guidance,
            seed,
            progress,
            strength=strength,
            **options,
        )
        return array_to_image(out, image.size)

    def generate_array(
        self,
        prompt: str,
        negative_prompt: str | None = None,
        width: int = 0,
        height: int = 0,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        progress: ProgressFn | None = None,
        **options: Any,
    ) -> np.ndarray:
        """Text-to-image with a 4-channel UNet: float image [1,3,h,w] in [0,1] at the snapped size."""
        if self.unet_channels != 4:
            raise ValueError(f"model {self.id} has a {self.unet_channels}-channel UNet: use generate()")
        w, h = self.working_size(0, 0, (width or self.native_size, height or self.native_size))
        with self._lock:
            return self._run(Request(prompt, negative_prompt, w, h, steps, guidance, seed, progress, **options))

    def generate(
        self,
        prompt: str,
        negative_prompt: str | None = None,
        width: int = 0,
        height: int = 0,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        progress: ProgressFn | None = None,
        **options: Any,
    ) -> Image.Image:
        """Text-to-image at (width, height) (default: the native square), snapped internally; returns that size.

        A 9-channel inpainting model serves too, by regenerating a fully masked blank image.
        """
        width = width or self.native_size
        height = height or self.native_size
        if self.unet_channels == 9:
            blank = Image.new("RGB", (width, height), (127, 127, 127))
            full = Image.new("L", (width, height), 255)
            return self.inpaint(blank, full, prompt, negative_prompt, steps, guidance, seed, progress, **options)
        out = self.generate_array(prompt, negative_prompt, width, height, steps, guidance, seed, progress, **options)
        return array_to_image(out, (width, height))


InpaintPipeline = DiffusionPipeline


# ---- loaders for the engines ------------------------------------------------------------------------------

_pipelines: dict[tuple[str, str, str, bool], DiffusionPipeline] = {}
_pipelines_lock = threading.Lock()


def _load(
    models_dir: Path, roles: tuple[str, ...], device: str, require_gpu: bool, shared: tuple[Path, ...] = ()
) -> DiffusionPipeline | None:
    from .store import ModelStore

    store = ModelStore(models_dir, device=device, shared=shared, runs_on=probe)
    for role in roles:
        model = store.best(role)
        if model is None:
            continue
        key = (str(model.path), model.installed_at, device, require_gpu)
        with _pipelines_lock:
            pipeline = _pipelines.get(key)
            if pipeline is None:
                pipeline = DiffusionPipeline(model.path, device=device, require_gpu=require_gpu)
                _pipelines[key] = pipeline
        if "inpainting" in roles and not pipeline.can_inpaint:
            continue
        return pipeline
    return None


def load_inpaint_pipeline(
    models_dir: Path, *, device: str = "auto", require_gpu: bool = False, shared: tuple[Path, ...] = ()
) -> DiffusionPipeline | None:
    """The installed inpainting pipeline (highest priority); a 4-channel text2image model inpaints by
    latent blending when no inpainting model is installed; None when neither is. Cached per process.
    ``shared``: model folders read after ``models_dir`` (see ``store.ModelStore``)."""
    return _load(Path(models_dir), ("inpainting", "text2image"), device, require_gpu, shared)


def load_text2image_pipeline(
    models_dir: Path, *, device: str = "auto", require_gpu: bool = False, shared: tuple[Path, ...] = ()
) -> DiffusionPipeline | None:
    """The installed text-to-image pipeline (a 9-channel inpainting model serves too, fully masked)."""
    return _load(Path(models_dir), ("text2image", "inpainting"), device, require_gpu, shared)


def forget_except(keep: set[tuple[str, str]]) -> int:
    """Drop cached pipelines whose (folder, install time) is not in ``keep``; returns how many."""
    with _pipelines_lock:
        stale = [k for k in _pipelines if (k[0], k[1]) not in keep]
        for k in stale:
            del _pipelines[k]
    return len(stale)
