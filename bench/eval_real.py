"""Cut-out quality on real photos: ours, the raw model, rembg (same weights, same photos, same run), classical.

    PAQSHOT_HOME=... .venv/bin/python bench/eval_real.py [--extra DIR ...] [--out out/eval_real]
        [--methods ours,model,rembg,classical] [--rembg-python /work/team/rembg-venv/bin/python]
        [--u2net-home /work/team/u2net_home]

The set: the handed cases (``../shared/cases/photos``) plus every ``--extra`` folder (see ``realset.py``); the
composites and photos of the progress notes are rebuilt by ``realeval_build.py`` (pinned in ``realeval_sources.toml``).
Methods:

- ``ours``: the studio packshot with the installed cut-out model (the data folder's models, or ``--models``)
  and all refinement; its matte, packshot, confidence and review reasons;
- ``model``: the same model's matte resized to the photo (bilinear), no refinement: what the model alone gives;
- ``rembg``: ``bench/rembg_peer.py`` in rembg's own venv (``U2NET_HOME`` pointing at the same u2netp file):
  ``remove`` -> paste on white -> 1,024 px JPEG;
- ``classical``: the studio packshot with the classical segmenter.

Metrics (``matte_metrics.py``): IoU (alpha > 0.5), alpha MAE (1/255), DAVIS boundary F-measure, per family,
on the photos with a reference matte. The labels in ``bench/real_labels.toml`` (by eye: is our cut-out a
success?) give the AUROC of our confidence, with the weights in place and leave-one-out (``fit_confidence.py``'s
fit: the weights were fitted on these photos). Writes ``results.json`` and contact sheets (input | our matte |
our packshot | rembg's matte | rembg's packshot) into ``--out``; numbers only, never a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import inspect
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fit_confidence
import matte_metrics as mm
import realset
from paqshot_server.branding import DEFAULT_BRAND
from paqshot_server.errors import UnsupportedImage
from paqshot_server.imaging.classical import ClassicalSegmenter
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import render_packshot
from paqshot_server.imaging.review import assess
from paqshot_server.settings import load_settings

BENCH = Path(__file__).resolve().parent
LABELS = BENCH / "real_labels.toml"
CELL = 180
OPTIONS = RenderOptions(background="white", shadow="soft", long_side=1024)


def load_segmenter(models: Path, overrides: str, cache: Path | None, model_id: str | None = None):  # -> OnnxSegmenter
    """The installed cut-out model (``model_id``, default the preferred one) with ``overrides`` (``key=value,...``)
    of its RefineConfig; with ``cache``, model outputs are kept on disk by input digest (ablations then re-run only
    the refinement)."""
    from paqshot_server.inference.segmenters import OnnxSegmenter
    from paqshot_server.inference.store import ModelStore, install_level_dir

    store = ModelStore(models, device="cpu", shared=(install_level_dir(),))
    model = store.get(model_id) if model_id else store.best("segmentation")
    if model is None:
        raise SystemExit(f"no cut-out model installed in {models} ({DEFAULT_BRAND.cli_name} models setup)")
    seg = OnnxSegmenter(model.path, device="cpu")
    changes: dict[str, object] = {}
    for item in filter(None, overrides.split(",")):
        key, value = item.split("=", 1)
        default = getattr(seg.refine_config, key)
        changes[key] = value.lower() in ("1", "true", "yes") if isinstance(default, bool) else type(default)(value)
    seg.refine_config = dataclasses.replace(seg.refine_config, **changes)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        raw = seg.predict
        version = hashlib.sha1(inspect.getsource(type(seg).preprocess).encode()).hexdigest()[:8]

        def predict(rgb: np.ndarray, side: int = 0, *, letterbox: bool = False) -> np.ndarray:
            digest = hashlib.sha1(np.ascontiguousarray(rgb).tobytes() + str(rgb.shape).encode()).hexdigest()
            path = cache / f"{model.id}-{version}-{digest}{f'-{side}' if side else ''}{'-lb' if letterbox else ''}.npy"
            if path.is_file():
                return np.load(path)
            out = raw(rgb, side, letterbox=letterbox)
            np.save(path, out)
            return out

        seg.predict = predict  # type: ignore[method-assign]
    return seg


def cutout_colours(photo: Image.Image, segmenter) -> np.ndarray | None:
    """The cut-out's own colours at the photo's size (unmixed edges), for the edge-colour metric."""
    try:
        cut = cutout(photo, segmenter)
    except UnsupportedImage:
        return None
    return np.asarray(cut.rgba_image())[..., :3]


def run_packshot(photo: Image.Image, segmenter, threshold: float | None = None) -> dict:
    """Our packshot: matte (float32), packshot (PIL), confidence, review facts, or the refusal. ``needs_review`` is
    set as the appliance sets it (``review.assess`` with ``threshold``, default the ``review_threshold`` setting);
    ``render_packshot`` alone leaves it False."""
    t0 = time.perf_counter()
    try:
        result = render_packshot(photo, OPTIONS, segmenter=segmenter)
        result = assess(result, load_settings().review_threshold if threshold is None else threshold)
    except UnsupportedImage as exc:
        return {"refused": exc.message, "ms": (time.perf_counter() - t0) * 1000}
    ms = (time.perf_counter() - t0) * 1000
    matte = result.meta["matte"]
    assert isinstance(matte, Image.Image)
    return {
        "alpha": np.asarray(matte, np.float32) / 255.0,
        "packshot": Image.open(io.BytesIO(result.images[0].data)).convert("RGB"),
        "confidence": result.confidence,
        "needs_review": getattr(result, "needs_review", None),
        "reasons": [r.code for r in getattr(result, "review_reasons", ())],
        "facts": result.meta.get("cutout_facts", {}),
        "notes": list(result.notes),
        "ms": ms,
    }


def run_model_only(photo: Image.Image, segmenter) -> dict:
    rgb = np.asarray(photo)
    t0 = time.perf_counter()
    small = segmenter.predict(rgb)
    img = Image.fromarray(small.astype(np.float32), mode="F").resize(photo.size, Image.Resampling.BILINEAR)
    alpha = np.clip(np.asarray(img, np.float32), 0, 1)
    return {"alpha": alpha, "ms": (time.perf_counter() - t0) * 1000}


def run_rembg(
    photos: list[realset.RealPhoto], python: str, u2net_home: str, model: str, keep: Path | None
) -> tuple[dict, dict]:
    """rembg's alphas and packshots for every photo, from one subprocess in rembg's venv (or from ``keep``,
    the output folder of an earlier run on the same photos, when it has them all)."""
    out = keep or Path(tempfile.mkdtemp(prefix="rembg-"))
    report_path = out / "report.json"
    have = report_path.is_file() and all((out / f"{p.path.stem}.alpha.png").is_file() for p in photos)
    if have:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        report["reused"] = str(out)
    else:
        env = {**os.environ, "U2NET_HOME": u2net_home}
        for var in ("PYTHONPATH", "VIRTUAL_ENV"):
            env.pop(var, None)
        peer = str(BENCH / "rembg_peer.py")
        cmd = [python, peer, "--model", model, "--out", str(out), *(str(p.path) for p in photos)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        report_path.write_text(json.dumps(report), encoding="utf-8")
    ms = {t["image"]: t["wall_ms"] for t in report["times"]}
    results = {}
    for p in photos:
        stem = p.path.stem
        alpha = np.asarray(Image.open(out / f"{stem}.alpha.png").convert("L"), np.float32) / 255.0
        packshot = Image.open(out / f"{stem}.packshot.jpg").convert("RGB")
        results[p.name] = {"alpha": alpha, "packshot": packshot, "ms": ms.get(p.path.name, float("nan"))}
    return results, {k: v for k, v in report.items() if k != "times"}


def scores(alpha: np.ndarray | None, ref: np.ndarray) -> dict[str, float]:
    if alpha is None:
        alpha = np.zeros_like(ref)
    if alpha.shape != ref.shape:
        raise ValueError(f"matte {alpha.shape} vs reference {ref.shape}")
    return {"iou": mm.iou(alpha, ref), "mae": mm.mae255(alpha, ref), "bf": mm.boundary_f(alpha, ref)}


# ---- contact sheet -----------------------------------------------------------------------------------------


def _tile(img: Image.Image | np.ndarray | None, refused: bool = False) -> Image.Image:
    tile = Image.new("RGB", (CELL, CELL), (128, 128, 128))
    if img is None:
        ImageDraw.Draw(tile).text((6, CELL // 2), "refused" if refused else "", fill=(255, 255, 0))
        return tile
    if isinstance(img, np.ndarray):
        img = Image.fromarray(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8), "L")
    img = img.convert("RGB")
    img.thumbnail((CELL, CELL))
    tile.paste(img, ((CELL - img.width) // 2, (CELL - img.height) // 2))
    return tile


def contact_rows(photo: realset.RealPhoto, image: Image.Image, res: dict, label: str) -> Image.Image:
    ours, peer = res.get("ours", {}), res.get("rembg", {})
    tiles = [(image, {}), (ours.get("alpha"), ours), (ours.get("packshot"), ours)]
    tiles += [(peer.get("alpha"), peer), (peer.get("packshot"), peer)]
    row = Image.new("RGB", (len(tiles) * CELL, CELL + 14), (20, 20, 20))
    for i, (t, res_of) in enumerate(tiles):
        row.paste(_tile(t, "refused" in res_of), (i * CELL, 14))
    ImageDraw.Draw(row).text((3, 1), label, fill=(255, 255, 255))
    return row


def write_sheets(rows: list[Image.Image], out: Path, per_sheet: int = 9) -> list[Path]:
    paths = []
    for k in range(0, len(rows), per_sheet):
        chunk = rows[k : k + per_sheet]
        w, h = chunk[0].size
        sheet = Image.new("RGB", (w, len(chunk) * (h + 4)), (0, 0, 0))
        for i, row in enumerate(chunk):
            sheet.paste(row, (0, i * (h + 4)))
        path = out / f"contact_{k // per_sheet + 1:02d}.png"
        sheet.save(path)
        paths.append(path)
    return paths


# ---- report ------------------------------------------------------------------------------------------------


def family_table(photos: list[realset.RealPhoto], table: dict[str, dict], methods: list[str]) -> None:
    fams = sorted({p.family for p in photos if p.reference_path})
    print(f"\n{'family':22s} {'n':>3s} " + " ".join(f"{m + ' IoU/MAE/BF/fringe':>29s}" for m in methods))
    rows = [(f, [p for p in photos if p.family == f and p.reference_path]) for f in fams]
    rows.append(("ALL with reference", [p for p in photos if p.reference_path]))
    for fam, members in rows:
        cells = []
        for m in methods:
            s = [table[p.name][m]["scores"] for p in members if "scores" in table[p.name].get(m, {})]
            if not s:
                cells.append(f"{'-':>29s}")
                continue
            fr = [x["fringe"] for x in s if "fringe" in x]
            cells.append(
                f"{statistics.fmean(x['iou'] for x in s):6.3f}/{statistics.fmean(x['mae'] for x in s):5.1f}/"
                f"{statistics.fmean(x['bf'] for x in s):5.3f}/{statistics.fmean(fr) if fr else float('nan'):4.1f}"
                f" (min {min(x['iou'] for x in s):.2f})"
            )
        print(f"{fam:22s} {len(members):3d} " + " ".join(f"{c:>29s}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extra", type=Path, action="append", default=[], help="more photo folders")
    parser.add_argument("--no-cases", action="store_true", help="skip the handed cases")
    parser.add_argument("--only", help="comma-separated substrings: evaluate only matching photos")
    parser.add_argument("--refs-only", action="store_true", help="only the photos with a reference matte")
    parser.add_argument("--out", type=Path, default=Path("out/eval_real"))
    parser.add_argument("--methods", default="ours,model,rembg,classical")
    parser.add_argument("--models", type=Path, help="models folder (default: the data folder's, as the settings say)")
    parser.add_argument("--model", help="cut-out model id (default: the preferred installed one)")
    parser.add_argument("--rembg-python", default="/work/team/rembg-venv/bin/python")
    parser.add_argument("--u2net-home", default="/work/team/u2net_home")
    parser.add_argument("--rembg-model", default="u2netp")
    parser.add_argument("--rembg-keep", type=Path, help="rembg's output folder, reused when complete")
    parser.add_argument("--no-sheets", action="store_true")
    parser.add_argument("--config", default="", help="RefineConfig overrides, key=value,... (ablations)")
    parser.add_argument("--cache", type=Path, help="keep model outputs here (ablations re-run only the refinement)")
    args = parser.parse_args(argv)
    methods = args.methods.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    photos = realset.load(None if args.no_cases else realset.cases_dir(), args.extra)
    if args.only:
        keys = args.only.split(",")
        photos = [p for p in photos if any(k in p.name for k in keys)]
    if args.refs_only:
        photos = [p for p in photos if p.reference_path is not None]
    models = args.models or load_settings().models_dir
    seg = load_segmenter(models, args.config, args.cache, args.model) if {"ours", "model"} & set(methods) else None
    if seg is not None:
        print(f"refinement: {seg.refine_config}")
    labels = tomllib.loads(LABELS.read_text(encoding="utf-8")) if LABELS.is_file() else {}
    print(
        f"{len(photos)} photos ({sum(p.reference_path is not None for p in photos)} with a reference); "
        f"load average {os.getloadavg()}"
    )

    peer: dict = {}
    peer_info: dict = {}
    if "rembg" in methods:
        peer, peer_info = run_rembg(photos, args.rembg_python, args.u2net_home, args.rembg_model, args.rembg_keep)
        print(f"peer: {peer_info}")
    table: dict[str, dict] = {}
    rows = []
    for p in photos:
        image = p.image()
        ref = p.reference()
        res: dict[str, dict] = {}
        for m in methods:
            if m == "ours":
                res[m] = run_packshot(image, seg)
            elif m == "model":
                res[m] = run_model_only(image, seg)
            elif m == "classical":
                res[m] = run_packshot(image, ClassicalSegmenter())
            elif m == "rembg":
                res[m] = peer[p.name]
            if ref is not None:
                res[m]["scores"] = scores(res[m].get("alpha"), ref)
                ref_colours = p.colours()
                alpha = res[m].get("alpha")
                if ref_colours is not None and alpha is not None and m in ("ours", "rembg", "model"):
                    colours = cutout_colours(image, seg) if m == "ours" else np.asarray(image)
                    if colours is not None:
                        res[m]["scores"]["fringe"] = mm.fringe(alpha, colours, ref, ref_colours)
        table[p.name] = res
        ours = res.get("ours", {})
        label = labels.get(p.name, {})
        line = f"{realset.short(p.name)[:34]:34s}"
        for m in methods:
            s = res[m].get("scores")
            line += f" {m}:{s['iou']:.3f}" if s else (f" {m}:refused" if "refused" in res[m] else "")
        if ours:
            conf = ours.get("confidence")
            line += f" | conf {conf if conf is None else round(conf, 2)} review {ours.get('needs_review')}"
            line += f" {','.join(ours.get('reasons', []))}{' ' + ours['refused'] if 'refused' in ours else ''}"
        if label:
            line += f" | label {'ok' if label.get('ok') else 'BAD'}"
        print(line, flush=True)
        if not args.no_sheets:
            s = res.get("ours", {}).get("scores")
            conf = ours.get("confidence")
            title = f"{realset.short(p.name)[:40]}  {p.family[:22]}"
            title += (
                f"  IoU ours {s['iou']:.3f} rembg {res['rembg']['scores']['iou']:.3f}" if s and "rembg" in res else ""
            )
            title += f"  conf {conf:.2f}" if conf is not None else "  refused"
            title += "  REVIEW" if ours.get("needs_review") else ""
            rows.append(contact_rows(p, image, res, title))

    family_table(photos, table, [m for m in methods])
    for m in methods:
        ms = [table[p.name][m]["ms"] for p in photos if "ms" in table[p.name][m]]
        print(f"{m:10s} median {statistics.median(ms):7.1f} ms per photo (<= 800 px; not a speed benchmark)")

    if "ours" in methods and labels:
        scored = [
            (table[p.name]["ours"].get("confidence") or 0.0, bool(labels[p.name]["ok"]), p.name)
            for p in photos
            if p.name in labels
        ]
        auc = mm.auroc([s for s, _, _ in scored], [ok for _, ok, _ in scored])
        n_bad = sum(not ok for _, ok, _ in scored)
        print(f"\nconfidence AUROC on {len(scored)} labelled photos ({n_bad} failures): {auc:.3f}")
        # The weights were fitted on these photos: the honest figure scores each by weights fitted without it.
        loo, n_loo = fit_confidence.loo_auroc({p.name: table[p.name] for p in photos}, labels)
        print(f"confidence AUROC leave-one-out (fit_confidence.py's fit, {n_loo} photos with evidence): {loo:.3f}")
        flagged = [
            (table[p.name]["ours"].get("needs_review", None), bool(labels[p.name]["ok"]))
            for p in photos
            if p.name in labels
        ]
        tp = sum(1 for f, ok in flagged if f and not ok)
        fp = sum(1 for f, ok in flagged if f and ok)
        fn = sum(1 for f, ok in flagged if not f and not ok)
        print(f"needs_review: flags {tp} of {n_bad} failures, {fp} false alarms, {fn} failures missed")
        for s, ok, name in sorted(scored):
            print(f"   {s:5.3f} {'ok ' if ok else 'BAD'} {name}")

    summary = {
        "load_average": os.getloadavg(),
        "peer": peer_info,
        "photos": {
            p.name: {
                "family": p.family,
                "source": p.source,
                **{m: {k: v for k, v in table[p.name][m].items() if k not in ("alpha", "packshot")} for m in methods},
            }
            for p in photos
        },
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=1, default=float), encoding="utf-8")
    if rows:
        for path in write_sheets(rows, args.out):
            print(f"contact sheet: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
