"""``bench/fit_confidence.py``: the hand-set weights (``confidence.HAND_SET``) stay fixed in every fit, the
leave-one-out ones included, and a leave-one-out score is that of the weights fitted without its photo."""

from __future__ import annotations

import fit_confidence
import numpy as np


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 2))
    lost = (rng.random(60) < 0.1) * rng.random(60)  # a rare measurement with a weight set by hand
    offset = -10.0 * lost
    y = (rng.random(60) < 1 / (1 + np.exp(-(0.5 + 1.5 * x[:, 0] - x[:, 1] + offset)))).astype(float)
    return x, y, offset


def test_a_hand_set_weight_enters_every_fit_as_a_fixed_offset() -> None:
    x, y, offset = _data()
    w = fit_confidence.fit(x, y, 0.1, offset)
    # the optimum with the offset: the gradient of the penalised log-likelihood vanishes there, offset included
    p = 1 / (1 + np.exp(-(w[0] + x @ w[1:] + offset)))
    xb = np.hstack([np.ones((len(x), 1)), x])
    assert np.allclose(xb.T @ (p - y) + np.array([0.0, 0.1, 0.1]) * w, 0.0, atol=1e-6)
    assert not np.allclose(w, fit_confidence.fit(x, y, 0.1))  # without it the fit is another


def test_each_leave_one_out_score_comes_from_a_fit_without_its_photo() -> None:
    x, y, offset = _data(1)
    scores = fit_confidence.leave_one_out(x, y, 0.1, offset)
    for i in (0, 17, 59):
        keep = np.arange(len(y)) != i
        w = fit_confidence.fit(x[keep], y[keep], 0.1, offset[keep])
        assert scores[i] == 1 / (1 + np.exp(-(w[0] + x[i] @ w[1:] + offset[i])))
