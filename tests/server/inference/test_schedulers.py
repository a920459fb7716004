"""Schedulers against closed-form maths (values computed here from the formulas, not from the code)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from paqshot_server.inference.schedulers import (
    DDIMScheduler,
    EulerScheduler,
    LCMScheduler,
    make_scheduler,
)

SD = {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000}


def alpha_bar(t: int) -> float:
    """ᾱ_t from the scaled_linear definition, in plain Python."""
    lo, hi = math.sqrt(0.00085), math.sqrt(0.012)
    prod = 1.0
    for i in range(t + 1):
        beta = (lo + i * (hi - lo) / 999) ** 2
        prod *= 1 - beta
    return prod


def sigma(t: float) -> float:
    lo = math.floor(t)
    frac = t - lo
    s_lo = math.sqrt((1 - alpha_bar(lo)) / alpha_bar(lo))
    if frac == 0:
        return s_lo
    s_hi = math.sqrt((1 - alpha_bar(lo + 1)) / alpha_bar(lo + 1))
    return s_lo + frac * (s_hi - s_lo)


@pytest.mark.parametrize(
    ("spacing", "steps", "offset", "expected"),
    [
        ("leading", 4, 1, [751, 501, 251, 1]),  # round(i * (1000 // 4)) reversed, + offset
        ("leading", 3, 0, [666, 333, 0]),  # 1000 // 3 = 333
        ("trailing", 4, 0, [999, 749, 499, 249]),  # round(arange(1000, 0, -250)) - 1
        ("trailing", 3, 0, [999, 666, 332]),  # 1000, 666.67, 333.33 rounded, - 1
        ("linspace", 4, 0, [999, 666, 333, 0]),  # linspace(0, 999, 4) reversed
        ("linspace", 3, 0, [999, 499.5, 0]),  # Euler keeps the fraction
    ],
)
def test_euler_timesteps_and_sigmas(spacing: str, steps: int, offset: int, expected: list[float]) -> None:
    sch = EulerScheduler(SD, timestep_spacing=spacing, steps_offset=offset)
    sch.set_timesteps(steps)
    assert sch.timesteps.tolist() == expected
    want = [sigma(t) for t in expected] + [0.0]
    np.testing.assert_allclose(sch.sigmas, want, rtol=2e-6, atol=1e-7)
    top = max(want)
    want_init = top if spacing in ("linspace", "trailing") else math.sqrt(top**2 + 1)
    assert sch.init_noise_sigma == pytest.approx(want_init, rel=2e-6)


def test_sigma_range_matches_the_published_sd_values() -> None:
    sch = EulerScheduler(SD, timestep_spacing="linspace")
    sch.set_timesteps(10)
    assert sch.sigmas[0] == pytest.approx(14.6146, abs=1e-3)  # σ_max of SD 1.x/SDXL
    assert sch.train_sigmas[0] == pytest.approx(math.sqrt(0.00085 / (1 - 0.00085)), rel=1e-9)


def test_euler_step_identities() -> None:
    sch = EulerScheduler(SD, timestep_spacing="leading", steps_offset=1)
    sch.set_timesteps(5)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    eps = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    s0, s1 = float(sch.sigmas[0]), float(sch.sigmas[1])
    np.testing.assert_allclose(sch.step(eps, 0, x), x + eps * (s1 - s0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sch.scale_model_input(x, 0), x / math.sqrt(s0**2 + 1), rtol=1e-6)
    np.testing.assert_allclose(sch.add_noise(x, eps, 2), x + eps * float(sch.sigmas[2]), rtol=1e-6)

    # With a perfect noise prediction, Euler lands exactly on x0 (x_i = x0 + σ_i ε, σ_last = 0).
    x0 = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    latents = x0 + s0 * eps
    for i in range(len(sch.timesteps)):
        latents = sch.step(eps, i, latents)
    np.testing.assert_allclose(latents, x0, atol=5e-5)


@pytest.mark.parametrize(
    ("spacing", "offset", "expected"),
    [("leading", 1, [751, 501, 251, 1]), ("trailing", 0, [999, 749, 499, 249]), ("linspace", 0, [999, 666, 333, 0])],
)
def test_ddim_timesteps_and_step_identities(spacing: str, offset: int, expected: list[int]) -> None:
    sch = DDIMScheduler(SD, timestep_spacing=spacing, steps_offset=offset, set_alpha_to_one=True)
    sch.set_timesteps(4)
    assert sch.timesteps.tolist() == expected
    assert [sch.prev_timestep(i) for i in range(4)] == [t - 250 for t in expected]
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((1, 4, 8, 8))
    eps = rng.standard_normal((1, 4, 8, 8))
    t = expected[0]
    a = alpha_bar(t)
    x_t = math.sqrt(a) * x0 + math.sqrt(1 - a) * eps
    np.testing.assert_allclose(sch.add_noise(x0, eps, 0), x_t, rtol=1e-5, atol=1e-6)
    # One step with the true noise: x_prev = sqrt(ᾱ_prev) x̂0 + sqrt(1-ᾱ_prev) ε with x̂0 = x0.
    a_prev = alpha_bar(t - 250)
    np.testing.assert_allclose(
        sch.step(eps, 0, x_t), math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps, rtol=1e-4, atol=1e-5
    )
    if spacing == "linspace":
        return  # diffusers' DDIM steps to t - T//n even when the next timestep differs: no chain identity
    # The whole chain ends on x0 (ᾱ_prev = 1 after the last step).
    latents = x_t
    for i in range(4):
        latents = sch.step(eps, i, latents)
    np.testing.assert_allclose(latents, x0, rtol=1e-4, atol=1e-4)


def test_ddim_final_alpha_without_set_alpha_to_one() -> None:
    sch = DDIMScheduler(SD, timestep_spacing="leading", steps_offset=1, set_alpha_to_one=False)
    assert sch.final_alpha_cumprod == pytest.approx(alpha_bar(0), rel=1e-9)


def test_lcm_timesteps_scalings_and_step() -> None:
    sch = LCMScheduler(SD)
    sch.set_timesteps(4)
    # k = 1000 // 50 = 20; origin = 20 i - 1 (i = 1..50) reversed; indices floor(linspace(0, 50, 4, open))
    assert sch.timesteps.tolist() == [999, 759, 499, 259]
    c_skip, c_out = sch.scalings(0)
    assert (c_skip, c_out) == (1.0, 0.0)
    c_skip, c_out = sch.scalings(999)
    assert c_skip == pytest.approx(0.25 / (9990**2 + 0.25))
    assert c_out == pytest.approx(9990 / math.sqrt(9990**2 + 0.25))

    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    eps = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    a = alpha_bar(259)
    x_t = (math.sqrt(a) * x0 + math.sqrt(1 - a) * eps).astype(np.float32)
    c_skip, c_out = sch.scalings(259)
    last = sch.step(eps, 3, x_t)  # the last step returns the denoised sample, no re-noising
    np.testing.assert_allclose(last, c_out * x0 + c_skip * x_t, rtol=1e-4, atol=1e-4)
    # Earlier steps re-noise to the next timestep with fresh noise from the generator.
    a_next = alpha_bar(499)
    out = sch.step(eps, 1, x_t, np.random.default_rng(5))
    noise = np.random.default_rng(5).standard_normal(x_t.shape, dtype=np.float32)
    c_skip, c_out = sch.scalings(759)
    a_t = alpha_bar(759)
    denoised = c_out * (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t) + c_skip * x_t
    np.testing.assert_allclose(out, math.sqrt(a_next) * denoised + math.sqrt(1 - a_next) * noise, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="random generator"):
        sch.step(eps, 0, x_t)


def test_make_scheduler_from_exported_configs() -> None:
    pndm = {**SD, "_class_name": "PNDMScheduler", "steps_offset": 1, "skip_prk_steps": True}
    sch = make_scheduler(None, pndm)
    assert isinstance(sch, EulerScheduler)
    sch.set_timesteps(4)
    assert sch.timesteps.tolist() == [751, 501, 251, 1]  # steps_offset kept from the export
    ddim = make_scheduler("ddim", pndm, spacing="trailing")
    ddim.set_timesteps(2)
    assert ddim.timesteps.tolist() == [999, 499]
    with pytest.raises(ValueError, match="scheduler"):
        make_scheduler("dpm++", pndm)
    with pytest.raises(ValueError, match="epsilon"):
        EulerScheduler({**SD, "prediction_type": "v_prediction"})
