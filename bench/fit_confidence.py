"""Fit the cut-out confidence (``imaging/confidence.py``: a logistic model of the refinement's evidence) to the
by-eye labels of the real photos, and say how well it separates failures from successes.

    .venv/bin/python bench/fit_confidence.py out/eval_real/results.json [--l2 1.0] [--labels FILE]

Reads the evidence (``facts``) that ``bench/eval_real.py`` recorded for our cut-out of every photo and the
labels of ``bench/real_labels.toml``; fits the weights by L2-regularised logistic regression (Newton's method,
the intercept unpenalised), prints them (to copy into ``confidence.WEIGHTS``), the AUROC on the labelled
photos with the weights in place now, with the fitted weights, and with leave-one-out fits (each photo scored
by weights fitted without it: the honest figure), and the review flags at a few thresholds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matte_metrics as mm
from paqshot_server.imaging.confidence import WEIGHTS, Evidence, confidence, features

LABELS = Path(__file__).resolve().parent / "real_labels.toml"


def fit(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Weights (intercept first) of the L2-regularised logistic regression of y on x (Newton-Raphson)."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--labels", type=Path, default=LABELS, help="by-eye labels (default: %(default)s)")
    parser.add_argument("--features", help="comma-separated subset of the features (default: those in WEIGHTS)")
    args = parser.parse_args(argv)
    photos = json.loads(args.results.read_text(encoding="utf-8"))["photos"]
    labels = tomllib.loads(args.labels.read_text(encoding="utf-8"))
    names = [n for n in photos if n in labels and photos[n].get("ours", {}).get("facts")]
    missing = sorted(set(labels) - set(names))
    evs = [Evidence(**photos[n]["ours"]["facts"]) for n in names]
    keys = args.features.split(",") if args.features else [k for k in WEIGHTS if k != "bias"]
    x = np.array([[features(ev)[k] for k in keys] for ev in evs])
    y = np.array([1.0 if labels[n]["ok"] else 0.0 for n in names])
    print(f"{len(names)} labelled photos ({int((1 - y).sum())} failures); missing {missing or 'none'}")
    now = [confidence(ev) for ev in evs]
    print(f"AUROC with the weights in place: {mm.auroc(now, list(y > 0)):.3f}")
    w = fit(x, y, args.l2)
    fitted = 1 / (1 + np.exp(-(w[0] + x @ w[1:])))
    print(f"AUROC with the fitted weights (same photos): {mm.auroc(list(fitted), list(y > 0)):.3f}")
    loo = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        wi = fit(x[keep], y[keep], args.l2)
        loo.append(float(1 / (1 + np.exp(-(wi[0] + x[i] @ wi[1:])))))
    print(f"AUROC leave-one-out (each photo scored by weights fitted without it): {mm.auroc(loo, list(y > 0)):.3f}")
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
    for n, s, good in sorted(zip(names, fitted, y, strict=True), key=lambda t: t[1]):
        print(f"   {s:5.3f} {'ok ' if good else 'BAD'} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
