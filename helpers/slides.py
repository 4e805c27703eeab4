"""From patches back to the slide: mosaics, value maps, slide context, IDC area per patient.

Patch ``<patient>_idx5_x<X>_y<Y>_class<C>.png`` covers the slide pixels ``[Y, Y + height) x [X, X + width)`` of a
50-px grid (edge patches are smaller: only their real pixels are placed). Slide context (:func:`smooth_scores`)
averages each patch's score with its neighbours' (width and threshold: :func:`choose_slide_context`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

__all__ = ["PATCH_SIZE", "grid_position", "mosaic", "value_map", "smooth_scores", "choose_slide_context",
           "slide_summary"]

#: Side of a full patch, and the step of the patch grid, in slide pixels.
PATCH_SIZE = 50


def _as_int(a, name: str, n: int) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must be one-dimensional with one entry per patch ({n}), got shape {arr.shape}")
    return arr.astype(np.int64)


def grid_position(x, y, *, step: int = PATCH_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Row and column (int (n,)) of each patch on the grid of one slide, counted from the top-left patch; ``x``,
    ``y``: (n,) patch coordinates in slide pixels (the ``x``/``y`` of the file names), all of one patient."""
    x, y = _as_int(x, "x", np.size(x)), _as_int(y, "y", np.size(x))
    if len(x) == 0:
        raise ValueError("no patches")
    return (y - y.min()) // step, (x - x.min()) // step


def _layout(n: int, x, y, widths, heights, patch_size: int, downscale: int):
    """Geometry of :func:`mosaic` and :func:`value_map`: top-left output pixel of each of the ``n`` patches, output
    shape, real patch sizes in slide pixels, downscale."""
    x, y = _as_int(x, "x", n), _as_int(y, "y", n)
    if n == 0:
        raise ValueError("no patches to place")
    w = np.full(n, patch_size) if widths is None else _as_int(widths, "widths", n)
    h = np.full(n, patch_size) if heights is None else _as_int(heights, "heights", n)
    if np.any(w < 1) or np.any(h < 1) or np.any(w > patch_size) or np.any(h > patch_size):
        raise ValueError(f"patch widths and heights must lie in 1..{patch_size}")
    d = int(downscale)
    if d < 1 or patch_size % d:
        divisors = [k for k in range(1, patch_size + 1) if patch_size % k == 0]
        raise ValueError(f"downscale must divide the patch size {patch_size}: one of {divisors}, got {downscale}")
    top, left = (y - y.min()) // d, (x - x.min()) // d
    shape = (int((top + -(-h // d)).max()), int((left + -(-w // d)).max()))
    return top, left, shape, w, h, d


def mosaic(images, x, y, *, widths=None, heights=None, downscale: int = 1, background: int = 255) -> np.ndarray:
    """Rebuild a slide image (uint8 (H, W, 3), top-left patch at the top-left corner) from its patches.

    Parameters
    ----------
    images : uint8 array (n, P, P, 3), the patches (edge patches padded at the bottom/right, as loaded).
    x, y : int arrays (n,), top-left corner of each patch in slide pixels (the ``x``/``y`` of the file names).
    widths, heights : int arrays (n,), optional, real size of each patch; only that top-left part is placed.
    downscale : int, each ``downscale x downscale`` block of slide pixels becomes one output pixel (mean of the real
        pixels); must divide P (1, 2, 5, 10, 25 or 50 for P = 50).
    background : int, value where no patch lies (255: white, like the glass).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must have shape (n, P, P, C), got {images.shape}")
    n, p, c = len(images), images.shape[1], images.shape[-1]
    top, left, shape, w, h, d = _layout(n, x, y, widths, heights, p, downscale)
    sums, counts, r = np.zeros(shape + (c,)), np.zeros(shape), np.arange(p)
    for i in range(n):  # one patch at a time: memory stays at one slide
        real = (r[:, None] < h[i]) & (r[None, :] < w[i])
        vals = (images[i] * real[..., None]).reshape(p // d, d, p // d, d, c).sum(axis=(1, 3))
        cnt = real.reshape(p // d, d, p // d, d).sum(axis=(1, 3))
        rows, cols = -(-h[i] // d), -(-w[i] // d)
        sums[top[i]:top[i] + rows, left[i]:left[i] + cols] += vals[:rows, :cols]
        counts[top[i]:top[i] + rows, left[i]:left[i] + cols] += cnt[:rows, :cols]
    out, have = np.full(shape + (c,), background, np.uint8), counts > 0
    out[have] = np.rint(sums[have] / counts[have][:, None]).clip(0, 255).astype(np.uint8)
    return out


def value_map(values, x, y, *, widths=None, heights=None, downscale: int = 1, patch_size: int = PATCH_SIZE,
              fill: float = np.nan) -> np.ndarray:
    """Paint one number per patch (``values`` (n,): a score, a probability, a label) over its area, with the
    geometry of :func:`mosaic` (same other arguments). Returns float (H, W), ``fill`` (NaN) where no patch lies
    (white with ``imshow``); ``downscale=patch_size`` gives one pixel per grid cell."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"values must have shape (n,), one per patch, got {values.shape}")
    top, left, shape, w, h, d = _layout(len(values), x, y, widths, heights, patch_size, downscale)
    out = np.full(shape, fill, dtype=float)
    for i in range(len(values)):
        out[top[i]:top[i] + -(-h[i] // d), left[i]:left[i] + -(-w[i] // d)] = values[i]
    return out


def smooth_scores(scores, x, y, groups, *, sigma: float = 1.0, step: int = PATCH_SIZE) -> np.ndarray:
    """Slide context: each patch's score replaced by a Gaussian-weighted mean of its own and its neighbours'.

    Neighbours are patches of the **same group** (patient) on the 50-px grid; ``sigma`` is in patches (1.0: the 8
    nearest weigh 0.6 to 0.4 of the patch itself). Missing neighbours (glass, patches not in the data) are ignored,
    not counted as zeros: normalised convolution ``gaussian_filter(scores * present) / gaussian_filter(present)``.
    ``scores`` float (n,) (e.g. ``decision_function``); ``x``, ``y`` int (n,) slide pixels; ``groups`` (n,) patient
    ids. Returns float (n,); ``sigma=0`` or a patch without neighbours keeps its score."""
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    x, y, groups = _as_int(x, "x", n), _as_int(y, "y", n), np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have one entry per patch ({n}), got shape {groups.shape}")
    out = scores.copy()
    if sigma <= 0 or n == 0:
        return out
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        rows, cols = grid_position(x[idx], y[idx], step=step)
        total, present = np.zeros((2, rows.max() + 1, cols.max() + 1))
        np.add.at(total, (rows, cols), scores[idx])
        np.add.at(present, (rows, cols), 1.0)
        num, den = (gaussian_filter(a, sigma, mode="constant", truncate=3.0) for a in (total, present))
        out[idx] = num[rows, cols] / den[rows, cols]
    return out


def _best_threshold(scores, labels, scoring: str):
    """Threshold on ``scores`` (one of 201 quantiles) maximising ``scoring``; returns (threshold, bac, f1)."""
    pos = labels == 1
    cand = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, 201)))
    pred = scores[:, None] >= cand[None, :]
    tp = (pred & pos[:, None]).sum(axis=0)
    fp, fn = pred.sum(axis=0) - tp, pos.sum() - tp
    bac = (tp / max(pos.sum(), 1) + 1 - fp / max((~pos).sum(), 1)) / 2
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    k = int(np.argmax({"balanced_accuracy": bac, "f1": f1}[scoring]))
    return float(cand[k]), float(bac[k]), float(f1[k])


def choose_slide_context(scores, labels, x, y, groups, *, sigmas=(0.0, 0.5, 1.0, 1.5, 2.0, 3.0),
                         scoring: str = "balanced_accuracy") -> tuple[dict, pd.DataFrame]:
    """Choose the smoothing width ``sigma`` and the decision threshold of :func:`smooth_scores`.

    Pass **out-of-fold** scores of development patients (``cross_val_predict(..., groups=patients,
    method="decision_function")``), as a new slide's will be. For each sigma the best threshold (one of 201 quantiles
    of the smoothed scores) is found; the sigma with the best ``scoring`` ("balanced_accuracy" or "f1") wins.
    Returns ``(best, table)``: dict ``sigma``, ``threshold``, ``balanced_accuracy``, ``f1``; DataFrame, a row per sigma.
    """
    labels = np.asarray(labels)
    if scoring not in ("balanced_accuracy", "f1"):
        raise ValueError(f"scoring must be 'balanced_accuracy' or 'f1', got {scoring!r}")
    rows = []
    for s in sigmas:
        t, bac, f1 = _best_threshold(smooth_scores(scores, x, y, groups, sigma=s), labels, scoring)
        rows.append({"sigma": float(s), "threshold": t, "balanced_accuracy": bac, "f1": f1})
    table = pd.DataFrame(rows)
    return table.loc[table[scoring].idxmax()].to_dict(), table


def slide_summary(table: pd.DataFrame, proba, threshold: float = 0.5) -> pd.DataFrame:
    """True and predicted IDC area per patient in slide pixels (an edge patch counts for its real size).

    ``table``: columns patient, label (and width, height); ``proba``: (n,) probabilities (or scores) aligned with it.
    Returns a DataFrame, a row per patient: ``n_patches``, ``true_idc_fraction``, ``pred_idc_fraction`` (``proba >=
    threshold``), ``expected_idc_fraction`` (area-weighted mean ``proba``) and ``area_error`` = predicted - true.
    """
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(table),):
        raise ValueError(f"proba must have shape ({len(table)},), one per row of the table, got {proba.shape}")
    area = (table["width"] * table["height"]).to_numpy(float) if "width" in table else np.full(len(table), 2500.0)
    df = pd.DataFrame({"patient": table["patient"].astype(str).to_numpy(), "n_patches": 1, "area": area,
                       "true": area * (table["label"].to_numpy() == 1), "pred": area * (proba >= threshold),
                       "expected": area * proba})
    s = df.groupby("patient", sort=True).sum()
    return pd.DataFrame({"n_patches": s["n_patches"], "true_idc_fraction": s["true"] / s["area"],
                         "pred_idc_fraction": s["pred"] / s["area"],
                         "expected_idc_fraction": s["expected"] / s["area"],
                         "area_error": (s["pred"] - s["true"]) / s["area"]})
