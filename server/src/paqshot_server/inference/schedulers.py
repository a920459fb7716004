"""Noise schedulers in numpy with diffusers' semantics (epsilon prediction): Euler, DDIM (eta 0), LCM.

Every scheduler shares the training schedule: ``scaled_linear`` betas (sqrt-linear from ``beta_start`` to
``beta_end`` over ``num_train_timesteps``, squared), ᾱ_t = ∏(1 − β). Timesteps for ``num_inference_steps``
follow the spacing (diffusers' names, Table 2 of arXiv:2305.08891):

- ``leading``:  t_i = round(i · (T // n))  reversed, + steps_offset
- ``linspace``: t_i = linspace(0, T − 1, n) reversed (Euler keeps them fractional; DDIM rounds)
- ``trailing``: t_i = round(arange(T, 0, −T / n)) − 1  (what SDXL-Lightning needs)

Interface used by the diffusion loop: ``set_timesteps(n)``, ``timesteps``, ``init_noise_sigma``,
``scale_model_input(x, i)``, ``step(eps, i, x, rng)``, ``add_noise(x0, noise, i)`` — always by step index ``i``
(never by looking a timestep up), so repeated timesteps cannot confuse it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

SPACINGS = ("leading", "linspace", "trailing")

_CLASS_NAMES = {
    "EulerDiscreteScheduler": "euler",
    "EulerAncestralDiscreteScheduler": "euler",  # close enough for defaults; ancestral noise is not used
    "DDIMScheduler": "ddim",
    "LCMScheduler": "lcm",
}


def alphas_cumprod(
    num_train_timesteps: int = 1000,
    beta_start: float = 0.00085,
    beta_end: float = 0.012,
    beta_schedule: str = "scaled_linear",
) -> np.ndarray:
    """ᾱ_t for t = 0..T−1 (float64)."""
    if beta_schedule == "scaled_linear":
        betas = np.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps, dtype=np.float64) ** 2
    elif beta_schedule == "linear":
        betas = np.linspace(beta_start, beta_end, num_train_timesteps, dtype=np.float64)
    else:
        raise ValueError(f"beta_schedule {beta_schedule!r} is not supported (scaled_linear, linear)")
    return np.cumprod(1.0 - betas)


def spaced_timesteps(
    spacing: str, num_inference_steps: int, num_train_timesteps: int = 1000, steps_offset: int = 0
) -> np.ndarray:
    """Float timesteps (descending) for a spacing, before any rounding a scheduler adds."""
    n, t = num_inference_steps, num_train_timesteps
    if n < 1:
        raise ValueError("num_inference_steps must be at least 1")
    if spacing == "linspace":
        return np.linspace(0, t - 1, n, dtype=np.float64)[::-1].copy()
    if spacing == "leading":
        ratio = t // n
        return (np.arange(0, n) * ratio).round()[::-1].astype(np.float64) + steps_offset
    if spacing == "trailing":
        return np.round(np.arange(t, 0, -t / n)).astype(np.float64) - 1
    raise ValueError(f"timestep spacing {spacing!r} is not one of {', '.join(SPACINGS)}")


class Scheduler:
    """Common state: the training schedule and the config it came from."""

    name = "base"

    def __init__(self, config: Mapping[str, Any] | None = None, **overrides: Any) -> None:
        cfg = {**(config or {}), **overrides}
        self.config = cfg
        self.num_train_timesteps = int(cfg.get("num_train_timesteps", 1000))
        self.steps_offset = int(cfg.get("steps_offset", 0))
        self.spacing = str(cfg.get("timestep_spacing", "leading"))
        if self.spacing not in SPACINGS:
            raise ValueError(f"timestep spacing {self.spacing!r} is not one of {', '.join(SPACINGS)}")
        prediction = cfg.get("prediction_type", "epsilon")
        if prediction != "epsilon":
            raise ValueError(f"prediction_type {prediction!r} is not supported (epsilon only)")
        self.alphas_cumprod = alphas_cumprod(
            self.num_train_timesteps,
            float(cfg.get("beta_start", 0.00085)),
            float(cfg.get("beta_end", 0.012)),
            str(cfg.get("beta_schedule", "scaled_linear")),
        )
        self.timesteps = np.zeros(0, dtype=np.float32)
        self.init_noise_sigma = 1.0

    def set_timesteps(self, num_inference_steps: int) -> None:
        raise NotImplementedError

    def scale_model_input(self, sample: np.ndarray, index: int) -> np.ndarray:
        return sample

    def step(
        self, eps: np.ndarray, index: int, sample: np.ndarray, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        raise NotImplementedError

    def add_noise(self, original: np.ndarray, noise: np.ndarray, index: int) -> np.ndarray:
        """Noise ``original`` to the level of step ``index`` (x_t = sqrt(ᾱ)x₀ + sqrt(1−ᾱ)ε by default)."""
        a = self.alphas_cumprod[int(self.timesteps[index])]
        return (np.sqrt(a) * original + np.sqrt(1 - a) * noise).astype(np.float32)


class EulerScheduler(Scheduler):
    """Euler (Karras et al. form, s_churn 0): σ = sqrt((1−ᾱ)/ᾱ), x ← x + ε·(σ_next − σ)."""

    name = "euler"

    def __init__(self, config: Mapping[str, Any] | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.train_sigmas = np.sqrt((1 - self.alphas_cumprod) / self.alphas_cumprod)
        final = self.config.get("final_sigmas_type", "zero")
        if final not in ("zero", "sigma_min"):
            raise ValueError(f"final_sigmas_type {final!r} is not supported")
        self.final_sigma = 0.0 if final == "zero" else float(self.train_sigmas[0])
        for flag in ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas"):
            if self.config.get(flag):
                raise ValueError(f"{flag} is not supported")
        self.sigmas = np.zeros(1, dtype=np.float32)

    def set_timesteps(self, num_inference_steps: int) -> None:
        timesteps = spaced_timesteps(
            self.spacing, num_inference_steps, self.num_train_timesteps, self.steps_offset
        ).astype(np.float32)
        sigmas = np.interp(timesteps, np.arange(len(self.train_sigmas)), self.train_sigmas)
        self.sigmas = np.concatenate([sigmas, [self.final_sigma]]).astype(np.float32)
        self.timesteps = timesteps
        top = float(self.sigmas.max())
        self.init_noise_sigma = top if self.spacing in ("linspace", "trailing") else (top**2 + 1) ** 0.5

    def scale_model_input(self, sample: np.ndarray, index: int) -> np.ndarray:
        sigma = self.sigmas[index]
        return (sample / np.float32((sigma**2 + 1) ** 0.5)).astype(np.float32)

    def step(
        self, eps: np.ndarray, index: int, sample: np.ndarray, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        sigma = self.sigmas[index]
        # diffusers' arithmetic, kept term by term so float32 rounding matches it
        pred_original = sample - sigma * eps
        derivative = (sample - pred_original) / sigma
        dt = self.sigmas[index + 1] - sigma
        return (sample + derivative * dt).astype(np.float32)

    def add_noise(self, original: np.ndarray, noise: np.ndarray, index: int) -> np.ndarray:
        return (original + noise * self.sigmas[index]).astype(np.float32)


class DDIMScheduler(Scheduler):
    """DDIM with η = 0: x̂₀ = (x − sqrt(1−ᾱ_t)ε)/sqrt(ᾱ_t); x_prev = sqrt(ᾱ_prev)x̂₀ + sqrt(1−ᾱ_prev)ε."""

    name = "ddim"

    def __init__(self, config: Mapping[str, Any] | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.set_alpha_to_one = bool(self.config.get("set_alpha_to_one", True))
        self.final_alpha_cumprod = 1.0 if self.set_alpha_to_one else float(self.alphas_cumprod[0])
        self.clip_sample = bool(self.config.get("clip_sample", False))
        self.num_inference_steps = 0

    def set_timesteps(self, num_inference_steps: int) -> None:
        self.num_inference_steps = num_inference_steps
        ts = spaced_timesteps(self.spacing, num_inference_steps, self.num_train_timesteps, self.steps_offset)
        self.timesteps = ts.round().astype(np.int64) if self.spacing == "linspace" else ts.astype(np.int64)

    def prev_timestep(self, index: int) -> int:
        return int(self.timesteps[index]) - self.num_train_timesteps // self.num_inference_steps

    def step(
        self, eps: np.ndarray, index: int, sample: np.ndarray, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        t = int(self.timesteps[index])
        prev = self.prev_timestep(index)
        a = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[prev] if prev >= 0 else self.final_alpha_cumprod
        x0 = (sample - np.sqrt(1 - a) * eps) / np.sqrt(a)
        if self.clip_sample:
            x0 = np.clip(x0, -1, 1)
        return (np.sqrt(a_prev) * x0 + np.sqrt(1 - a_prev) * eps).astype(np.float32)


class LCMScheduler(Scheduler):
    """Latent Consistency Model multistep sampling (consistency step, then re-noise to the next t)."""

    name = "lcm"
    sigma_data = 0.5

    def __init__(self, config: Mapping[str, Any] | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.original_steps = int(self.config.get("original_inference_steps", 50))
        self.timestep_scaling = float(self.config.get("timestep_scaling", 10.0))
        self.final_alpha_cumprod = 1.0 if self.config.get("set_alpha_to_one", True) else float(self.alphas_cumprod[0])

    def set_timesteps(self, num_inference_steps: int) -> None:
        if num_inference_steps > self.original_steps:
            raise ValueError(f"LCM takes at most {self.original_steps} steps")
        k = self.num_train_timesteps // self.original_steps
        origin = (np.arange(1, self.original_steps + 1) * k - 1)[::-1]
        indices = np.floor(np.linspace(0, len(origin), num=num_inference_steps, endpoint=False)).astype(np.int64)
        self.timesteps = origin[indices].astype(np.int64)

    def scalings(self, t: float) -> tuple[float, float]:
        """(c_skip, c_out) of the boundary condition at timestep ``t``."""
        s = t * self.timestep_scaling
        c_skip = self.sigma_data**2 / (s**2 + self.sigma_data**2)
        c_out = s / (s**2 + self.sigma_data**2) ** 0.5
        return c_skip, c_out

    def step(
        self, eps: np.ndarray, index: int, sample: np.ndarray, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        t = int(self.timesteps[index])
        last = index == len(self.timesteps) - 1
        prev = t if last else int(self.timesteps[index + 1])
        a = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[prev] if prev >= 0 else self.final_alpha_cumprod
        c_skip, c_out = self.scalings(t)
        x0 = (sample - np.sqrt(1 - a) * eps) / np.sqrt(a)
        denoised = c_out * x0 + c_skip * sample
        if last:
            return denoised.astype(np.float32)
        if rng is None:
            raise ValueError("LCM needs a random generator to re-noise between steps")
        noise = rng.standard_normal(sample.shape, dtype=np.float32)
        return (np.sqrt(a_prev) * denoised + np.sqrt(1 - a_prev) * noise).astype(np.float32)


SCHEDULERS: dict[str, type[Scheduler]] = {"euler": EulerScheduler, "ddim": DDIMScheduler, "lcm": LCMScheduler}


def make_scheduler(name: str | None, config: Mapping[str, Any] | None = None, spacing: str | None = None) -> Scheduler:
    """A scheduler by name (or from the config's ``_class_name``) over the exported training config.

    Only the training-schedule keys of ``config`` are kept when the name changes the family, so an
    exported PNDM config still yields a correct Euler or DDIM schedule.
    """
    cfg = dict(config or {})
    if name is None:
        name = _CLASS_NAMES.get(str(cfg.get("_class_name", "")), "euler")
    if name not in SCHEDULERS:
        raise ValueError(f"scheduler {name!r} is not one of {', '.join(SCHEDULERS)}")
    if _CLASS_NAMES.get(str(cfg.get("_class_name", ""))) != name:
        keep = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type", "steps_offset")
        cfg = {k: cfg[k] for k in keep if k in cfg}
    if spacing:
        cfg["timestep_spacing"] = spacing
    return SCHEDULERS[name](cfg)
