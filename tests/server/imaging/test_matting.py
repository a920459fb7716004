"""Matting building blocks: colour conversions, the colour-line solve, guided filter, unmixing."""

from __future__ import annotations

import numpy as np
from paqshot_server.imaging.colour import _RGB_TO_XYZN, linear_to_lab, srgb8_to_lab, to_linear, to_srgb8
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.matting import (
    box,
    decontaminate,
    grey,
    guided_filter,
    guided_upsample,
    project_alpha,
    resize_plane,
    sample,
)
from paqshot_server.imaging.spill import spill_strength, suppress_spill
from PIL import Image
from scipy import ndimage


def test_srgb_round_trip_is_exact() -> None:
    values = np.arange(256, dtype=np.uint8)
    assert (to_srgb8(to_linear(values)) == values).all()


def test_srgb_encoding_clips_and_rounds_like_the_exact_formula() -> None:
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        linear = rng.uniform(-0.2, 1.2, (500, 3)).astype(dtype)
        clipped = np.clip(linear.astype(np.float64), 0.0, 1.0)
        exact = np.where(clipped <= 0.0031308, clipped * 12.92, 1.055 * clipped ** (1 / 2.4) - 0.055) * 255
        got = to_srgb8(linear)
        assert got.dtype == np.uint8 and got.shape == linear.shape
        # the 65,536-step table is off by at most one level, and only right at a rounding boundary
        assert int(np.abs(got.astype(int) - np.round(exact)).max()) <= 1
        assert (got[linear <= 0] == 0).all() and (got[linear >= 1] == 255).all()
    assert to_srgb8(0.5) == 188 and list(to_srgb8([0.0, 2.0])) == [0, 255]


def test_lab_reference_values() -> None:
    lab = srgb8_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], np.uint8))
    assert np.allclose(lab[0], [100, 0, 0], atol=0.05)
    assert np.allclose(lab[1], [0, 0, 0], atol=0.05)
    assert np.allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)
    assert linear_to_lab(np.zeros((2, 2, 3), np.float32)).shape == (2, 2, 3)


def test_lab_takes_each_segment_of_the_cie_function_where_it_applies() -> None:
    # CIE f(t): the cube root above (6/29)³, the linear segment (kappa t + 16) / 116 at and below it, in float32; the
    # linear segment computed only where it applies gives the same bits as choosing between both planes.
    rng = np.random.default_rng(3)
    eps, kappa = 216 / 24389, 24389 / 27
    dark = rng.random((120, 90, 3)) * 0.02  # around eps (0.0089) on every channel
    greys = to_linear(np.arange(256, dtype=np.uint8)[:, None] * np.ones(3, np.uint8))
    for linear in (dark, rng.random((64, 48, 3)) * 1.2 - 0.1, greys):
        xyz = linear.astype(np.float32) @ _RGB_TO_XYZN.T
        f = np.where(xyz > eps, np.cbrt(np.maximum(xyz, eps)), (kappa * xyz + 16) / 116).astype(np.float32)
        want = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
        got = linear_to_lab(linear)
        assert got.dtype == np.float32
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def test_projection_recovers_alpha_of_a_mix() -> None:
    rng = np.random.default_rng(0)
    fg = rng.random((500, 3)).astype(np.float32)
    bg = rng.random((500, 3)).astype(np.float32)
    alpha = rng.random(500).astype(np.float32)
    mix = alpha[:, None] * fg + (1 - alpha[:, None]) * bg
    est, ok = project_alpha(mix, fg, bg)
    assert np.abs(est[ok] - alpha[ok]).max() < 1e-4
    assert ok.mean() > 0.9
    _, ok_same = project_alpha(mix, bg, bg)
    assert not ok_same.any()  # no colour line: the solve says so instead of guessing


def test_guided_filter_keeps_constants_and_edges() -> None:
    guide = np.zeros((40, 40), np.float32)
    guide[:, 20:] = 1.0
    flat = guided_filter(guide, np.full((40, 40), 0.3, np.float32), 2, 1e-3)
    assert np.allclose(flat, 0.3, atol=1e-4)
    noisy = guide + np.random.default_rng(1).normal(0, 0.05, guide.shape).astype(np.float32)
    out = guided_filter(guide, noisy, 2, 1e-3)
    assert np.abs(out - guide).mean() < np.abs(noisy - guide).mean()
    assert out[:, 17].max() < 0.2 and out[:, 22].min() > 0.8  # the step stays a step


def test_unmixing_removes_the_old_background_from_edges() -> None:
    # a soft-edged white disc on saturated green: edge pixels are green-tinted mixes
    h = w = 120
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (np.hypot(yy - 60, xx - 60) < 35).astype(np.float32)
    alpha = ndimage.gaussian_filter(disc, 2.0)
    fg_lin, bg_lin = np.array([0.9, 0.9, 0.9]), np.array([0.02, 0.6, 0.05])
    img = to_srgb8(alpha[..., None] * fg_lin + (1 - alpha[..., None]) * bg_lin)
    fixed = decontaminate(img, alpha)
    edge = (alpha > 0.2) & (alpha < 0.8)
    before = img[edge].astype(int)
    after = fixed[edge].astype(int)
    green_cast = lambda c: (c[:, 1] - (c[:, 0] + c[:, 2]) / 2).mean()  # noqa: E731
    assert green_cast(before) > 25
    assert abs(green_cast(after)) < 8
    assert (fixed[alpha >= 1] == img[alpha >= 1]).all()


def test_decontamination_touches_only_pixels_partial_in_8_bits() -> None:
    """A model's soft matte is almost never exactly 0: pixels that round to alpha 0 or 255 keep their colours
    (nothing is computed for them; with `alpha > 0` a 2000 x 1500 photo took 0.8 GB in per-pixel arrays)."""
    h = w = 120
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = ndimage.gaussian_filter((np.hypot(yy - 60, xx - 60) < 30).astype(np.float32), 2.0)
    alpha = np.clip(alpha + 1e-4, 0, 1).astype(np.float32)  # the faint floor a min-max normalised map leaves
    img = to_srgb8(alpha[..., None] * np.array([0.9, 0.1, 0.1]) + (1 - alpha[..., None]) * np.array([0.1, 0.6, 0.1]))
    fixed = decontaminate(img, alpha)
    a8 = np.round(alpha * 255)
    assert (fixed[(a8 == 0) | (a8 == 255)] == img[(a8 == 0) | (a8 == 255)]).all()
    partial = (a8 > 20) & (a8 < 235)
    assert (fixed[partial] != img[partial]).any(axis=1).mean() > 0.5  # the edge band is still unmixed


def test_classical_cutout_of_a_soft_edge_is_close_to_truth() -> None:
    h = w = 200
    yy, xx = np.mgrid[0:h, 0:w]
    truth = ndimage.gaussian_filter((np.hypot(yy - 100, xx - 100) < 60).astype(np.float32), 1.5)
    img = to_srgb8(truth[..., None] * np.array([0.05, 0.1, 0.5]) + (1 - truth[..., None]) * 0.9)
    cut = cutout(Image.fromarray(img))
    assert cut.source == "classical"
    err = np.abs(cut.alpha - truth)
    assert err.mean() < 0.01
    edge = (truth > 0.05) & (truth < 0.95)
    assert err[edge].mean() < 0.12


def _slanted_edge() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 256 x 256 photo with a sharp, slanted edge: (true matte, uint8 RGB, the true matte at 1/8 resolution)."""
    yy, xx = np.mgrid[0:256, 0:256]
    truth = (xx + 0.3 * yy < 150).astype(np.float32)
    rgb = np.where(truth[..., None] > 0, (200, 40, 40), (240, 240, 240)).astype(np.uint8)
    return truth, rgb, np.asarray(Image.fromarray(truth, "F").resize((32, 32), Image.Resampling.BOX), np.float32)


def test_upsampling_is_edge_aware() -> None:
    # A photo with a sharp, slanted edge; the model's matte is the true one at 1/8 resolution.
    truth, rgb, small = _slanted_edge()
    h, w = truth.shape
    bilinear = np.asarray(Image.fromarray(small, "F").resize((w, h), Image.Resampling.BILINEAR))
    guided = guided_upsample(small, rgb)
    assert guided.shape == (h, w)
    band = np.abs(bilinear - truth) > 0.05  # where plain upsampling is wrong
    err_bilinear = float(np.abs(bilinear - truth)[band].mean())
    err_guided = float(np.abs(guided - truth)[band].mean())
    assert err_guided < 0.2 * err_bilinear, (err_guided, err_bilinear)
    # Away from the edge nothing changes.
    assert float(np.abs(guided - truth)[~band].max()) < 0.05
    assert float(np.abs(guided - truth).mean()) < 0.5 * float(np.abs(bilinear - truth).mean())


def test_upsampling_takes_its_guide_on_the_small_grid_when_given() -> None:
    # The refinement already holds the photo reduced to the matte's grid (its analysis image): its grey is the
    # guide, instead of the full-resolution grey reduced again. Given the default guide, the same matte; given a
    # reduced image's grey, the edge still follows the photo; given a flat guide, it cannot (the guide is used).
    truth, rgb, small = _slanted_edge()
    default = guided_upsample(small, rgb)
    same = resize_plane(grey(rgb), (32, 32))
    assert np.array_equal(guided_upsample(small, rgb, guide_small=same), default)
    reduced = np.asarray(Image.fromarray(rgb).reduce(4).resize((32, 32), Image.Resampling.BILINEAR))
    from_small = guided_upsample(small, rgb, guide_small=grey(reduced))
    flat = guided_upsample(small, rgb, guide_small=np.full((32, 32), 0.5, np.float32))
    err_small = float(np.abs(from_small - truth).mean())
    assert err_small < 1.2 * float(np.abs(default - truth).mean())
    assert float(np.abs(flat - truth).mean()) > 2 * err_small


def test_upsampling_keeps_solid_interiors_solid() -> None:
    # A two-tone product (dark cap on a red body): the colour change inside must not dent the matte.
    h = w = 192
    truth = np.zeros((h, w), np.float32)
    truth[40:170, 60:140] = 1.0
    rgb = np.full((h, w, 3), 235, np.uint8)
    rgb[40:90, 60:140] = (30, 30, 30)
    rgb[90:170, 60:140] = (170, 30, 40)
    small = np.asarray(Image.fromarray(truth, "F").resize((24, 24), Image.Resampling.BOX), np.float32)
    alpha = guided_upsample(small, rgb)
    assert float(alpha[55:155, 75:125].min()) >= 0.98
    assert float(alpha[:20].max()) <= 0.02


def _sample_by_fancy_indexing(plane: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """matting.sample as it was written before it used take (the reference for the test below)."""
    h, w = plane.shape[:2]
    flat = plane.reshape(h * w, -1).astype(np.float32, copy=False)
    y = np.clip(ys, 0, h - 1).astype(np.float32)
    x = np.clip(xs, 0, w - 1).astype(np.float32)
    y0 = np.minimum(y.astype(np.intp), max(h - 2, 0))
    x0 = np.minimum(x.astype(np.intp), max(w - 2, 0))
    fy = (y - y0)[:, None]
    fx = (x - x0)[:, None]
    dy = w if h > 1 else 0
    dx = 1 if w > 1 else 0
    i00 = y0 * w + x0
    top = flat[i00] * (1 - fx) + flat[i00 + dx] * fx
    bot = flat[i00 + dy] * (1 - fx) + flat[i00 + dy + dx] * fx
    out = top * (1 - fy) + bot * fy
    return out if plane.ndim == 3 else out[:, 0]


def test_bilinear_samples_equal_fancy_indexing_within_float32_rounding() -> None:
    rng = np.random.default_rng(3)
    for shape in [(192, 150, 6), (1, 40, 3), (30, 1, 6), (1, 1, 2), (64, 64)]:
        plane = rng.random(shape).astype(np.float32)
        n = 5000
        ys = rng.uniform(-2, shape[0] + 1, n)  # outside the grid too: clamped to its edges
        xs = rng.uniform(-2, shape[1] + 1, n)
        got = sample(plane, ys, xs)
        want = _sample_by_fancy_indexing(plane, ys, xs)
        # float32 as documented (the reference's weights promoted it to float64), lerps as a + (b - a) f in
        # place (the reference: (1 - f) a + f b): the same values within float32 rounding
        assert got.dtype == np.float32 and got.shape == want.shape, shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=str(shape))


def test_box_means_equal_scipys_uniform_filter_within_float32_rounding() -> None:
    rng = np.random.default_rng(5)
    cases = [((192, 192, 4), 2), ((384, 300, 3), 1), ((200, 150), 3), ((1, 20000), 2), ((20000, 1), 1), ((9, 7, 3), 2)]
    for shape, radius in [*cases, ((200, 150), 6)]:  # the last: a radius left to scipy
        img = rng.random(shape).astype(np.float32)
        size = 2 * radius + 1
        want = ndimage.uniform_filter(img, size=(size, size, 1)[: img.ndim], mode="nearest")
        got = box(img, radius)
        assert got.dtype == np.float32 and got.shape == want.shape, shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=str(shape))


def test_half_size_means_equal_the_four_pixel_mean_within_float32_rounding() -> None:
    from paqshot_server.imaging.matting import _half

    rng = np.random.default_rng(8)
    for shape in [(384, 384, 3), (383, 385, 4), (2, 2), (5, 3), (2, 9000)]:
        plane = rng.random(shape).astype(np.float32)
        h, w = shape[0] // 2 * 2, shape[1] // 2 * 2
        p = plane[:h, :w]
        want = (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) * 0.25
        got = _half(plane)
        assert got.dtype == np.float32 and got.shape == want.shape, shape
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-7, err_msg=str(shape))


def test_upsampling_and_unmixing_read_a_crops_view_as_its_copy() -> None:
    # The photo's pixels and the matte's places are read by flat index where the arrays are contiguous (a crop
    # copied out of the photo) and by coordinates where they are views: the same numbers either way.
    _truth, rgb, small = _slanted_edge()
    wide = np.zeros((300, 320, 3), np.uint8)
    wide[20:276, 30:286] = rgb
    view = wide[20:276, 30:286]
    assert not view.flags.c_contiguous
    assert np.array_equal(guided_upsample(small, view), guided_upsample(small, np.ascontiguousarray(view)))
    alpha = np.clip(guided_upsample(small, rgb), 0, 1)
    plane = np.zeros((300, 320), np.float32)
    plane[20:276, 30:286] = alpha
    assert np.array_equal(decontaminate(view, plane[20:276, 30:286]), decontaminate(rgb, alpha))


def test_spill_is_left_alone_on_a_neutral_backdrop_and_taken_out_on_a_coloured_one() -> None:
    # Edge colours (linear) that lean towards the backdrop's hue: a pink product's rim on green, and on beige paper.
    pink = np.array([0.8, 0.3, 0.4], np.float32)
    green, paper = np.array([0.0, 0.44, 0.05], np.float32), np.array([0.7, 0.64, 0.55], np.float32)
    rim = (0.3 * pink + 0.7 * green)[None].repeat(4, axis=0)
    assert not spill_strength(paper[None].repeat(4, axis=0)).any()  # paper: never touched
    backdrop = green[None].repeat(4, axis=0)
    fixed = suppress_spill(rim, backdrop, pink[None], spill_strength(backdrop))
    lean = lambda c: c[:, 1] - np.maximum(c[:, 0], c[:, 2])  # noqa: E731
    assert (lean(rim) > 0).all() and (lean(fixed) <= 0.01).all()  # no longer greener than its red
    assert np.allclose(fixed.sum(axis=1), rim.sum(axis=1), atol=1e-3)  # the light stays
    # A green product's own green stays: only what leans further than the product does goes.
    leaf = np.array([0.1, 0.5, 0.1], np.float32)
    own_rim = (0.9 * leaf + 0.1 * green)[None].repeat(4, axis=0)
    assert np.allclose(suppress_spill(own_rim, backdrop, leaf[None], spill_strength(backdrop)), own_rim, atol=0.02)


def _soft_disc(size: int = 200) -> np.ndarray:
    """uint8 RGB: a blue disc with a soft rim on a pale backdrop."""
    yy, xx = np.mgrid[0:size, 0:size]
    truth = ndimage.gaussian_filter((np.hypot(yy - size / 2, xx - size / 2) < 0.3 * size).astype(np.float32), 1.5)
    return to_srgb8(truth[..., None] * np.array([0.05, 0.1, 0.5]) + (1 - truth[..., None]) * 0.9)


def test_local_colours_from_shared_grids_are_those_from_the_image() -> None:
    """The classical matte estimates its colours twice on one image: the grids it shares (computed once) give the
    same estimates, bit for bit, as the image itself."""
    from paqshot_server.imaging.matting import ColourGrids, local_colours

    linear = to_linear(_soft_disc())
    fg = np.zeros(linear.shape[:2], bool)
    fg[80:120, 80:120] = True
    bg = np.zeros_like(fg)
    bg[:10] = True
    grids = ColourGrids(linear)
    for sure_fg, sure_bg in ((fg, bg), (fg[::-1], bg[:, ::-1])):
        shared = local_colours(grids, sure_fg, sure_bg, 3.5, where=~(sure_fg | sure_bg))
        alone = local_colours(linear, sure_fg, sure_bg, 3.5, where=~(sure_fg | sure_bg))
        assert np.array_equal(shared.fg, alone.fg) and np.array_equal(shared.bg, alone.bg)
    assert grids.coarse is grids.coarse and grids.far is grids.far  # computed once


def test_the_classical_confidence_reads_the_bands_colours_sampled_once(monkeypatch) -> None:
    """The confidence's |F - B| at the matte's partial pixels is the band's, sampled once (the ring probe and the band:
    two samplings, not a third for the confidence), and equal to sampling them there."""
    from paqshot_server.imaging import matting
    from paqshot_server.imaging.classical import ClassicalSegmenter

    calls = []
    at = matting.LocalColours.at

    def counted(self, ys, xs, shape):
        calls.append(ys.size)
        return at(self, ys, xs, shape)

    monkeypatch.setattr(matting.LocalColours, "at", counted)
    seg = ClassicalSegmenter()
    small = _soft_disc()
    linear = to_linear(small)
    result = seg.segment_small(small)
    assert len(calls) == 2
    fg = result.alpha > 0.5
    alpha, colours, contrast = seg._matte(fg, linear, box(linear, 1))
    ys, xs = np.nonzero((alpha > 0) & (alpha < 1))
    assert ys.size > 100
    f_est, b_est = at(colours, ys, xs, alpha.shape)
    assert np.array_equal(contrast, np.linalg.norm(f_est - b_est, axis=1))


def test_the_guides_channel_means_and_the_weighted_means_are_numpys_bit_for_bit() -> None:
    """The classical matte's guide takes the channel mean plane by plane, and the local colours' weighted means are
    built and divided plane by plane: numpy's last-axis mean and the channel-last formula, to the bit, on whole
    grids and on crops of them (strided views), at the sizes where :func:`box` sums planes and where scipy does."""
    from paqshot_server.imaging.classical import _channel_mean
    from paqshot_server.imaging.matting import _weighted_mean, smooth

    rng = np.random.default_rng(5)
    for shape in ((192, 192), (7, 5), (3, 90), (130, 60)):
        image = rng.random((*shape, 3), dtype=np.float32)
        weight = (rng.random(shape) > 0.4).astype(np.float32)
        for view in (image, image[1:, 1:]):
            assert np.array_equal(_channel_mean(view), view.mean(axis=2))
        for sigma in (0.875, 1.75, 7.0):
            mean, wsum = _weighted_mean(image, weight, sigma)
            blurred = smooth(np.concatenate([image * weight[..., None], weight[..., None]], axis=2), sigma)
            assert np.array_equal(wsum, blurred[..., -1])
            assert np.array_equal(mean, blurred[..., :-1] / np.maximum(blurred[..., -1], 1e-6)[..., None])
