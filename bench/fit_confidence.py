"""Fit the cut-out confidence (``imaging/confidence.py``: a logistic model of the refinement's evidence) to the
by-eye labels of the real photos, and say how well it separates failures from successes.

    .venv/bin/python bench/fit_confidence.py out/eval_real/results.json [--l2 0.1] [--labels FILE]
        [--features a,b,...]

Reads the evidence (``facts``) that ``bench/eval_real.py`` recorded for our cut-out of every photo and the
labels of ``bench/real_labels.toml``; fits the weights by L2-regularised logistic regression (Newton's method,
the intercept unpenalised), prints them (to copy into ``confidence.WEIGHTS``), the AUROC on the labelled
photos with the weights in place now, with the fitted weights, and with leave-one-out fits (each photo scored
by weights fitted without it: the honest figure, since the weights are fitted on these very photos), and the
review flags at a few thresholds. The weights ``confidence.HAND_SET`` names are set by hand, not fitted: they
enter every fit, the leave-one-out ones included, as a fixed offset, so the figures are those of the model in
place.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matte_metrics as mm
from paqshot_server.imaging.confidence import HAND_SET, WEIGHTS, Evidence, confidence, features

LABELS = Path(__file__).resolve().parent / "real_labels.toml"
L2 = 0.1  # the landed weights' regularisation (session 2 compared 0.1, 0.3, 1.0: docs/progress/issue-10-quality.md)


def fit(x: np.ndarray, y: np.ndarray, l2: float, offset: np.ndarray | None = None) -> np.ndarray:
    """Weights (intercept first) of the L2-regularised logistic regression of y (0/1, n) on x (n x k), with
    ``offset`` (n; the hand-set weights' share of each logit) added to the logit and not fitted (Newton-Raphson)."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    off = np.zeros(len(x)) if offset is None else offset
    w = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(xb @ w + off)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def leave_one_out(x: np.ndarray, y: np.ndarray, l2: float, offset: np.ndarray | None = None) -> np.ndarray:
    """P(success) of each row scored by the weights :func:`fit` finds on all the other rows (n)."""
    off = np.zeros(len(x)) if offset is None else offset
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        w = fit(x[keep], y[keep], l2, off[keep])
        out[i] = 1 / (1 + np.exp(-(w[0] + x[i] @ w[1:] + off[i])))
    return out


def design(evs: Sequence[Evidence], keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(features of ``keys`` per photo (n x k), the hand-set weights' share of each photo's logit (n))."""
    feats = [features(ev) for ev in evs]
    x = np.array([[f[k] for k in keys] for f in feats], dtype=float).reshape(len(feats), len(keys))
    offset = np.array([sum(WEIGHTS[k] * f[k] for k in HAND_SET) for f in feats], dtype=float)
    return x, offset


def labelled(photos: dict, labels: dict) -> tuple[list[str], list[Evidence], np.ndarray]:
    """(names, evidence, 1.0 for a success / 0.0 for a failure) of the labelled photos that have evidence (a
    refused cut-out has none)."""
    names = [n for n in photos if n in labels and photos[n].get("ours", {}).get("facts")]
    evs = [Evidence(**photos[n]["ours"]["facts"]) for n in names]
    return names, evs, np.array([1.0 if labels[n]["ok"] else 0.0 for n in names])


def loo_auroc(photos: dict, labels: dict, l2: float = L2) -> tuple[float, int]:
    """(leave-one-out AUROC of the landed feature set, photos scored) over ``photos`` (``results.json``'s)."""
    _names, evs, y = labelled(photos, labels)
    keys = [k for k in WEIGHTS if k != "bias" and k not in HAND_SET]
    x, offset = design(evs, keys)
    return mm.auroc(list(leave_one_out(x, y, l2, offset)), list(y > 0)), len(y)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--labels", type=Path, default=LABELS, help="by-eye labels (default: %(default)s)")
    parser.add_argument("--features", help="comma-separated subset of the features (default: those in WEIGHTS)")
    args = parser.parse_args(argv)
    photos = json.loads(args.results.read_text(encoding="utf-8"))["photos"]
    labels = tomllib.loads(args.labels.read_text(encoding="utf-8"))
    names, evs, y = labelled(photos, labels)
    missing = sorted(set(labels) - set(names))
    fitted_keys = [k for k in WEIGHTS if k != "bias" and k not in HAND_SET]
    keys = [k for k in args.features.split(",") if k not in HAND_SET] if args.features else fitted_keys
    x, offset = design(evs, keys)
    print(f"{len(names)} labelled photos ({int((1 - y).sum())} failures); missing {missing or 'none'}")
    print(f"hand-set (an offset, not fitted): {', '.join(f'{k} {WEIGHTS[k]}' for k in HAND_SET) or 'none'}")
    now = [confidence(ev) for ev in evs]
    print(f"AUROC with the weights in place: {mm.auroc(now, list(y > 0)):.3f}")
    w = fit(x, y, args.l2, offset)
    fitted = 1 / (1 + np.exp(-(w[0] + x @ w[1:] + offset)))
    print(f"AUROC with the fitted weights (same photos): {mm.auroc(list(fitted), list(y > 0)):.3f}")
    loo = leave_one_out(x, y, args.l2, offset)
    loo_auc = mm.auroc(list(loo), list(y > 0))
    print(f"AUROC leave-one-out (each photo scored by weights fitted without it): {loo_auc:.3f}")
    print("fitted WEIGHTS = {")
    print(f'    "bias": {w[0]:.3f},')
    for k, v in zip(keys, w[1:], strict=True):
        print(f'    "{k}": {v:.3f},')
    print("}")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        flag = fitted < t
        print(
            f"threshold {t:.1f}: flags {int((flag & (y == 0)).sum())}/{int((y == 0).sum())} failures, "
            f"{int((flag & (y == 1)).sum())}/{int((y == 1).sum())} successes"
        )
    print("   fitted  leave-one-out")
    for n, s, s_loo, good in sorted(zip(names, fitted, loo, y, strict=True), key=lambda t: t[1]):
        print(f"   {s:5.3f}  {s_loo:5.3f}  {'ok ' if good else 'BAD'} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
