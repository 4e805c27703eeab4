"""From patches back to the slide: mosaics, heatmaps, patient-level summaries, explanations.

The IDC patches of one patient tile its whole-mount slide on a grid with 50 px steps:
a patch named ``<patient>_idx5_x<X>_y<Y>_class<C>.png`` covers the pixels
``[Y, Y + height) x [X, X + width)`` of the (downsampled) slide. Patches at the slide edge
are smaller than 50 x 50 (for example 50 x 42); :func:`mosaic` places them with their real
size, never with the white padding that :func:`helpers.data.read_patches` adds.

Everything here works on numpy arrays and returns values (arrays, data frames, figures);
nothing prints. The functions:

* geometry: :func:`slide_extent`, :func:`mosaic`, :func:`value_map`, :func:`build_slide` (a :class:`Slide`);
* per-patient numbers: :func:`slide_summary`;
* explanations: :func:`grouped_permutation_importance`, :func:`feature_groups`,
  :func:`confidence_ranking`;
* figures: :func:`plot_slide_panels`, :func:`error_map`, :func:`plot_slide_errors`,
  :func:`plot_fraction_scatter`, :func:`plot_importance`, :func:`plot_patch_gallery`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "PATCH_SIZE",
    "ERROR_COLORS",
    "Slide",
    "slide_extent",
    "mosaic",
    "value_map",
    "build_slide",
    "slide_summary",
    "feature_groups",
    "grouped_permutation_importance",
    "confidence_ranking",
    "error_map",
    "plot_slide_panels",
    "plot_slide_errors",
    "plot_fraction_scatter",
    "plot_importance",
    "plot_patch_gallery",
    "plot_confidence_gallery",
    "plot_zoom",
]

#: Side of a full patch, and the step of the patch grid, in slide pixels.
PATCH_SIZE = 50

#: Colours (RGB in 0..1) of the error overlay: Okabe-Ito palette, readable with colour-blindness.
ERROR_COLORS = {
    "true positive": (0.80, 0.47, 0.65),  # reddish purple
    "false positive": (0.90, 0.62, 0.00),  # orange
    "false negative": (0.00, 0.45, 0.70),  # blue
}


# --------------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------------


def _as_int(a, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr.astype(np.int64)


def _sizes(widths, heights, n: int, patch_size: int) -> tuple[np.ndarray, np.ndarray]:
    w = np.full(n, patch_size, np.int64) if widths is None else _as_int(widths, "widths")
    h = np.full(n, patch_size, np.int64) if heights is None else _as_int(heights, "heights")
    if len(w) != n or len(h) != n:
        raise ValueError(f"widths/heights must have one entry per patch ({n})")
    if np.any(w < 1) or np.any(h < 1) or np.any(w > patch_size) or np.any(h > patch_size):
        raise ValueError(f"patch widths and heights must lie in 1..{patch_size}")
    return w, h


def _check_downscale(downscale: int, patch_size: int) -> int:
    d = int(downscale)
    if d < 1 or patch_size % d:
        divisors = [k for k in range(1, patch_size + 1) if patch_size % k == 0]
        raise ValueError(f"downscale must divide the patch size {patch_size}: one of {divisors}, got {downscale}")
    return d


def slide_extent(x, y, *, widths=None, heights=None, downscale: int = 1, patch_size: int = PATCH_SIZE,
                 origin: tuple[int, int] | None = None) -> tuple[float, float, float, float]:
    """Extent ``(left, right, bottom, top)`` of a slide image in original slide pixels.

    Pass it to ``matplotlib.pyplot.imshow(..., extent=...)`` so that axes show the x/y of the
    file names. ``x``, ``y``: (n,) patch coordinates; other arguments as in :func:`mosaic`.
    """
    x, y = _as_int(x, "x"), _as_int(y, "y")
    w, h = _sizes(widths, heights, len(x), patch_size)
    d = _check_downscale(downscale, patch_size)
    x0, y0 = (int(x.min()), int(y.min())) if origin is None else origin
    width = -(-int((x - x0 + w).max()) // d)
    height = -(-int((y - y0 + h).max()) // d)
    return (x0, x0 + width * d, y0 + height * d, y0)


def _place(blocks: np.ndarray, valid: np.ndarray, x, y, d: int, shape: tuple[int, ...],
           origin: tuple[int, int], fill, dtype) -> np.ndarray:
    """Write per-patch blocks (n, s, s, C) where ``valid`` (n, s, s) into a new (H, W, C) array."""
    n, s = blocks.shape[:2]
    x0, y0 = origin
    out = np.full(shape, fill, dtype=dtype)
    rows = (y - y0) // d
    cols = (x - x0) // d
    ii = np.broadcast_to(rows[:, None, None] + np.arange(s)[None, :, None], (n, s, s))
    jj = np.broadcast_to(cols[:, None, None] + np.arange(s)[None, None, :], (n, s, s))
    out[ii[valid], jj[valid]] = blocks[valid]
    return out


def _valid_mask(w: np.ndarray, h: np.ndarray, patch_size: int) -> np.ndarray:
    r = np.arange(patch_size)
    return (r[None, :, None] < h[:, None, None]) & (r[None, None, :] < w[:, None, None])


def _layout(x, y, widths, heights, patch_size: int, downscale: int, origin):
    """Shared geometry of :func:`mosaic` and :func:`value_map`: sizes, downscale, origin and extent."""
    n = len(x)
    if n == 0:
        raise ValueError("no patches to place")
    w, h = _sizes(widths, heights, n, patch_size)
    d = _check_downscale(downscale, patch_size)
    origin = (int(x.min()), int(y.min())) if origin is None else (int(origin[0]), int(origin[1]))
    extent = slide_extent(x, y, widths=w, heights=h, downscale=d, patch_size=patch_size, origin=origin)
    return w, h, d, origin, extent


def mosaic(images: np.ndarray, x, y, *, widths=None, heights=None, downscale: int = 1,
           background: int = 255, origin: tuple[int, int] | None = None, chunk: int = 512) -> np.ndarray:
    """Rebuild a slide image from its patches.

    Parameters
    ----------
    images : uint8 array (n, P, P, 3) (or (n, P, P) for one channel)
        The patches, as returned by :func:`helpers.data.read_patches` (edge patches padded
        at the bottom/right to P x P).
    x, y : int arrays (n,)
        Top-left corner of each patch in slide pixels (the ``x``/``y`` of the file names).
    widths, heights : int arrays (n,), optional
        Real size of each patch (the table's ``width``/``height`` columns). Only the top-left
        ``height x width`` part of a padded patch is placed. Default: full P x P.
    downscale : int
        Each ``downscale x downscale`` block of slide pixels becomes one output pixel (block
        mean of the real, unpadded pixels). Must divide P (1, 2, 5, 10, 25 or 50 for P = 50).
        A 4000 x 3000 px slide takes 36 MB at ``downscale=1`` and 1.4 MB at ``downscale=5``.
    background : int
        Value where no patch lies (255 = white, like the glass).
    origin : (x0, y0), optional
        Slide pixel shown at the top-left output pixel. Default: the smallest x and y.
    chunk : int
        Patches processed at a time (bounds the temporary memory).

    Returns
    -------
    uint8 array (H, W, 3) (or (H, W)) with ``H = ceil(max(y - y0 + height) / downscale)``,
    ``W = ceil(max(x - x0 + width) / downscale)``.
    """
    images = np.asarray(images)
    squeeze = images.ndim == 3
    if squeeze:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must have shape (n, P, P, C) or (n, P, P), got {np.shape(images)}")
    n, patch_size = images.shape[0], images.shape[1]
    x, y = _as_int(x, "x"), _as_int(y, "y")
    if len(x) != n or len(y) != n:
        raise ValueError(f"x and y must have one entry per image ({n})")
    w, h, d, origin, (left, right, bottom, top) = _layout(x, y, widths, heights, patch_size, downscale, origin)
    channels = images.shape[-1]
    shape = ((bottom - top) // d, (right - left) // d, channels)
    out = np.full(shape, background, dtype=np.uint8)
    s = patch_size // d
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        valid = _valid_mask(w[sl], h[sl], patch_size)
        m = len(valid)
        if d == 1:
            blocks, ok = images[sl], valid
        else:
            vals = images[sl].astype(np.float32) * valid[..., None]
            sums = vals.reshape(m, s, d, s, d, channels).sum(axis=(2, 4))
            counts = valid.reshape(m, s, d, s, d).sum(axis=(2, 4))
            ok = counts > 0
            blocks = np.rint(sums / np.maximum(counts, 1)[..., None]).clip(0, 255).astype(np.uint8)
        part = _place(blocks, ok, x[sl], y[sl], d, shape, origin, 0, np.uint8)
        covered = _place(np.ones(ok.shape + (1,), bool), ok, x[sl], y[sl], d, shape[:2] + (1,), origin,
                         False, bool)[..., 0]
        out[covered] = part[covered]
    return out[..., 0] if squeeze else out


def value_map(values, x, y, *, widths=None, heights=None, downscale: int = 1, patch_size: int = PATCH_SIZE,
              fill: float = np.nan, origin: tuple[int, int] | None = None) -> np.ndarray:
    """Paint one number per patch over the patch's area: a heatmap with the geometry of :func:`mosaic`.

    ``values``: (n,) numbers (a predicted probability, a 0/1 label, ...); ``x``, ``y``, ``widths``,
    ``heights``, ``downscale``, ``origin`` as in :func:`mosaic`. Returns a float array (H, W),
    ``fill`` (NaN) where no patch lies, so ``imshow`` leaves those pixels transparent.
    An output pixel partly covered by an edge patch takes that patch's value.
    """
    values = np.asarray(values, dtype=float)
    x, y = _as_int(x, "x"), _as_int(y, "y")
    n = len(x)
    if values.shape != (n,) or len(y) != n:
        raise ValueError(f"values, x and y must all have shape ({n},)")
    w, h, d, origin, (left, right, bottom, top) = _layout(x, y, widths, heights, patch_size, downscale, origin)
    s = patch_size // d
    # an output pixel is covered when any of its d x d slide pixels is: ceil(size / d) pixels
    r = np.arange(s)
    ok = (r[None, :, None] < -(-h // d)[:, None, None]) & (r[None, None, :] < -(-w // d)[:, None, None])
    blocks = np.broadcast_to(values[:, None, None, None], (n, s, s, 1))
    out = _place(blocks, ok, x, y, d, ((bottom - top) // d, (right - left) // d, 1), origin, fill, float)
    return out[..., 0]


@dataclass
class Slide:
    """One patient's slide rebuilt from patches (all maps share one geometry).

    Attributes
    ----------
    patient : str
    tissue : uint8 (H, W, 3) mosaic of the patches.
    truth : float (H, W) ground-truth label per pixel (1 = IDC, 0 = non-IDC, NaN = no patch).
    proba : float (H, W) or None, predicted IDC probability per pixel (NaN = no patch).
    extent : (left, right, bottom, top) in slide pixels, for ``imshow(extent=...)``.
    downscale : int, slide pixels per output pixel.
    """

    patient: str
    tissue: np.ndarray
    truth: np.ndarray
    proba: np.ndarray | None
    extent: tuple[float, float, float, float]
    downscale: int


def build_slide(table: pd.DataFrame, images: np.ndarray, patient, proba=None, *, downscale: int = 1) -> Slide:
    """Rebuild one patient's slide: tissue mosaic, ground-truth map and (optionally) probability map.

    ``table``: the IDC table (columns patient, x, y, label, and width/height if present), aligned
    with ``images`` (n, 50, 50, 3) uint8; ``proba``: optional (n,) predicted IDC probabilities
    aligned with the table. Only the rows of ``patient`` are used.
    """
    sel = (table["patient"].astype(str) == str(patient)).to_numpy()
    if not sel.any():
        raise ValueError(f"patient {patient!r} has no patches in the table")
    t = table.loc[sel]
    geo = dict(
        widths=t["width"].to_numpy() if "width" in t else None,
        heights=t["height"].to_numpy() if "height" in t else None,
        downscale=downscale,
    )
    x, y = t["x"].to_numpy(), t["y"].to_numpy()
    tissue = mosaic(np.asarray(images)[sel], x, y, **geo)
    truth = value_map(t["label"].to_numpy(), x, y, **geo)
    prob = None if proba is None else value_map(np.asarray(proba, dtype=float)[sel], x, y, **geo)
    return Slide(str(patient), tissue, truth, prob, slide_extent(x, y, **geo), int(downscale))


# --------------------------------------------------------------------------------------------
# patient-level numbers
# --------------------------------------------------------------------------------------------


def slide_summary(table: pd.DataFrame, proba, threshold: float = 0.5) -> pd.DataFrame:
    """Predicted vs true IDC area per patient.

    Areas are counted in slide pixels (``width * height`` of each patch, so edge patches count
    for their real size). ``proba``: (n,) predicted IDC probability aligned with ``table``.

    Returns one row per patient (index ``patient``) with columns ``n_patches``,
    ``tissue_px`` (area covered by patches), ``true_idc_px``, ``pred_idc_px`` (area of patches
    with ``proba >= threshold``), ``true_idc_fraction``, ``pred_idc_fraction``,
    ``expected_idc_fraction`` (area-weighted mean probability, no threshold) and
    ``area_error`` = ``pred_idc_fraction - true_idc_fraction``.
    """
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(table),):
        raise ValueError(f"proba must have shape ({len(table)},), got {proba.shape}")
    w = table["width"].to_numpy() if "width" in table else np.full(len(table), PATCH_SIZE)
    h = table["height"].to_numpy() if "height" in table else np.full(len(table), PATCH_SIZE)
    area = (w * h).astype(float)
    df = pd.DataFrame({
        "patient": table["patient"].astype(str).to_numpy(),
        "n_patches": 1,
        "tissue_px": area,
        "true_idc_px": area * (table["label"].to_numpy() == 1),
        "pred_idc_px": area * (proba >= threshold),
        "expected_px": area * proba,
    })
    out = df.groupby("patient", sort=True).sum()
    out["true_idc_fraction"] = out["true_idc_px"] / out["tissue_px"]
    out["pred_idc_fraction"] = out["pred_idc_px"] / out["tissue_px"]
    out["expected_idc_fraction"] = out["expected_px"] / out["tissue_px"]
    out["area_error"] = out["pred_idc_fraction"] - out["true_idc_fraction"]
    out = out.drop(columns="expected_px")
    for col in ("n_patches", "tissue_px", "true_idc_px", "pred_idc_px"):
        out[col] = out[col].astype(np.int64)
    return out


# --------------------------------------------------------------------------------------------
# explanations
# --------------------------------------------------------------------------------------------


def feature_groups(feature_names: Sequence[str], family: Mapping[str, str] | Callable[[str], str]
                   ) -> dict[str, list[int]]:
    """Column indices per feature family.

    ``family`` maps a feature name to its family (a dict, or a function such as
    ``helpers.features`` provides). Returns ``{family: [column indices]}`` in first-seen order.
    """
    get = family.__getitem__ if isinstance(family, Mapping) else family
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(feature_names):
        groups.setdefault(str(get(name)), []).append(i)
    return groups


def grouped_permutation_importance(estimator, X, y, groups: Mapping[str, Sequence[int]], *,
                                   scoring: str | Callable = "balanced_accuracy", n_repeats: int = 5,
                                   seed: int = 0) -> pd.DataFrame:
    """Permutation importance of whole feature families on held-out data.

    For each family, the rows of all its columns are shuffled *together* (one permutation per
    repeat, so the family's internal correlations are kept but its link to ``y`` is broken) and
    the drop of the score of the already fitted ``estimator`` is recorded. Permuting a family
    at once avoids the trap of per-feature importance with correlated features (each one looks
    unimportant because its neighbours carry the same information).

    Parameters
    ----------
    estimator : fitted scikit-learn estimator (or pipeline) taking ``X``.
    X : array (n, p) or DataFrame of held-out features (patients the model never saw).
    y : array (n,) labels.
    groups : ``{family: column indices}``, e.g. from :func:`feature_groups`.
    scoring : scikit-learn scorer name or callable ``scorer(estimator, X, y)``.
    n_repeats, seed : number of shuffles per family, and the seed of the shuffles.

    Returns
    -------
    DataFrame indexed by family with ``n_features``, ``importance`` (mean score drop),
    ``std`` (over repeats) and ``baseline`` (score without shuffling), sorted by importance.
    """
    from sklearn.metrics import get_scorer

    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    is_df = isinstance(X, pd.DataFrame)
    Xv = X.to_numpy() if is_df else np.asarray(X)
    y = np.asarray(y)

    def score(a):
        return scorer(estimator, pd.DataFrame(a, columns=X.columns, index=X.index) if is_df else a, y)

    base = score(Xv)
    rng = np.random.default_rng(seed)
    rows = []
    for name, cols in groups.items():
        cols = np.asarray(cols, dtype=int)
        drops = []
        for _ in range(n_repeats):
            Xp = Xv.copy()
            Xp[:, cols] = Xv[rng.permutation(len(Xv))][:, cols]
            drops.append(base - score(Xp))
        rows.append((name, len(cols), float(np.mean(drops)), float(np.std(drops)), float(base)))
    out = pd.DataFrame(rows, columns=["family", "n_features", "importance", "std", "baseline"])
    return out.set_index("family").sort_values("importance", ascending=False)


def confidence_ranking(proba, labels, k: int = 8) -> dict[str, np.ndarray]:
    """Indices of the most and least confident patches.

    ``proba``: (n,) predicted IDC probability; ``labels``: (n,) true 0/1. Returns a dict of index
    arrays (at most ``k`` each): ``"confident IDC"`` (highest probability), ``"confident non-IDC"``
    (lowest), ``"least confident"`` (closest to 0.5), ``"confident mistakes"`` (wrong and furthest
    from 0.5).
    """
    p = np.asarray(proba, dtype=float)
    lab = np.asarray(labels)
    order = np.argsort(p, kind="stable")
    margin = np.abs(p - 0.5)
    wrong = np.flatnonzero((p >= 0.5) != (lab == 1))
    return {
        "confident IDC": order[::-1][:k],
        "confident non-IDC": order[:k],
        "least confident": np.argsort(margin, kind="stable")[:k],
        "confident mistakes": wrong[np.argsort(-margin[wrong], kind="stable")][:k],
    }


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def error_map(proba_map: np.ndarray, truth_map: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """RGBA overlay (H, W, 4) float of TP / FP / FN pixels after thresholding (colours: ``ERROR_COLORS``).

    ``proba_map`` and ``truth_map``: float (H, W) maps from :func:`value_map` (NaN = no patch).
    True negatives and empty pixels are transparent.
    """
    proba_map = np.asarray(proba_map, float)
    truth_map = np.asarray(truth_map, float)
    if proba_map.shape != truth_map.shape:
        raise ValueError("proba_map and truth_map must have the same shape")
    have = ~np.isnan(proba_map) & ~np.isnan(truth_map)
    pred = have & (np.nan_to_num(proba_map) >= threshold)
    true = have & (np.nan_to_num(truth_map) >= 0.5)
    out = np.zeros(proba_map.shape + (4,))
    for mask, key in ((pred & true, "true positive"), (pred & ~true, "false positive"),
                      (~pred & true & have, "false negative")):
        out[mask, :3] = ERROR_COLORS[key]
        out[mask, 3] = 0.75
    return out


def _faded(tissue: np.ndarray, amount: float = 0.5) -> np.ndarray:
    """Tissue image blended towards white (for overlays)."""
    return (255 - (255 - tissue.astype(float)) * (1 - amount)).astype(np.uint8)


def _axes(axes, n: int, figsize):
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, n, figsize=figsize, constrained_layout=True)
    else:
        axes = np.ravel(axes)
        fig = axes[0].figure
    return fig, np.ravel(axes)


def _slide_axes(ax, title):
    ax.set_title(title)
    ax.set_xlabel("x (slide pixels)")
    ax.set_ylabel("y (slide pixels)")


def plot_slide_panels(slide: Slide, *, threshold: float | None = 0.5, axes=None, cmap: str = "coolwarm",
                      title: str | None = None):
    """Side by side: tissue, ground-truth IDC over the tissue, predicted probability heatmap.

    With ``threshold`` set, the heatmap panel outlines (black contour) the pixels predicted IDC. Returns
    ``(fig, axes)``; pass ``axes`` (3 axes) to draw into an existing figure.
    """
    from matplotlib.patches import Patch

    n = 2 if slide.proba is None else 3
    h, w = slide.tissue.shape[:2]
    fig, axes = _axes(axes, n, (4.2 * n, 4.2 * h / max(w, 1) + 1.0))
    ext = slide.extent
    axes[0].imshow(slide.tissue, extent=ext, interpolation="nearest")
    _slide_axes(axes[0], "tissue")
    axes[1].imshow(_faded(slide.tissue), extent=ext, interpolation="nearest")
    idc = np.zeros(slide.truth.shape + (4,))
    idc[slide.truth >= 0.5] = (0.84, 0.15, 0.16, 0.55)
    axes[1].imshow(idc, extent=ext, interpolation="nearest")
    axes[1].legend(handles=[Patch(color=(0.84, 0.15, 0.16, 0.55), label="IDC (ground truth)")],
                   loc="lower right", fontsize="small")
    _slide_axes(axes[1], "ground truth")
    if slide.proba is not None:
        axes[2].imshow(_faded(slide.tissue, 0.7), extent=ext, interpolation="nearest")
        im = axes[2].imshow(slide.proba, extent=ext, cmap=cmap, vmin=0, vmax=1, alpha=0.85,
                            interpolation="nearest")
        if threshold is not None and np.isfinite(slide.proba).any():
            d = slide.downscale
            h, w = slide.proba.shape
            xs = ext[0] + (np.arange(w) + 0.5) * d
            ys = ext[3] + (np.arange(h) + 0.5) * d
            above = (np.nan_to_num(slide.proba, nan=0.0) >= threshold).astype(float)
            if 0 < above.mean() < 1:
                axes[2].contour(xs, ys, above, levels=[0.5], colors="black", linewidths=0.9)
        fig.colorbar(im, ax=axes[2], shrink=0.8, label="predicted P(IDC)")
        _slide_axes(axes[2], "prediction" + ("" if threshold is None else f" (contour: P ≥ {threshold:g})"))
    fig.suptitle(title or f"patient {slide.patient}")
    return fig, axes


def plot_slide_errors(slide: Slide, threshold: float = 0.5, ax=None, title: str | None = None):
    """Where the model errs on the slide: TP / FP / FN patches coloured over the faded tissue."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if slide.proba is None:
        raise ValueError("the slide has no predicted probabilities (build_slide(..., proba=...))")
    if ax is None:
        h, w = slide.tissue.shape[:2]
        fig, ax = plt.subplots(figsize=(6, 6 * h / max(w, 1) + 0.8), constrained_layout=True)
    ax.imshow(_faded(slide.tissue, 0.4), extent=slide.extent, interpolation="nearest")
    ax.imshow(error_map(slide.proba, slide.truth, threshold), extent=slide.extent, interpolation="nearest")
    ax.legend(handles=[Patch(color=c, alpha=0.75, label=k) for k, c in ERROR_COLORS.items()],
              loc="lower right", fontsize="small")
    _slide_axes(ax, title or f"patient {slide.patient}: errors at P ≥ {threshold:g}")
    return ax


def plot_fraction_scatter(summary: pd.DataFrame, ax=None, *, column: str = "pred_idc_fraction",
                          highlight: Sequence[str] | None = None, highlight_label: str = "complete slide",
                          annotate: bool = True, title: str | None = None):
    """Scatter of predicted vs true IDC fraction per patient (from :func:`slide_summary`), with y = x.

    ``highlight``: patient ids drawn as larger, labelled diamonds (e.g. the complete slides); with
    ``annotate`` and no ``highlight`` every patient is labelled. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 5.2), constrained_layout=True)
    ids = summary.index.astype(str)
    hi = ids.isin([str(h) for h in highlight]) if highlight is not None else np.zeros(len(ids), bool)
    t = summary["true_idc_fraction"].to_numpy()
    p = summary[column].to_numpy()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect agreement")
    ax.scatter(t[~hi], p[~hi], s=25, alpha=0.7, color="tab:purple", edgecolor="black", linewidth=0.5,
               label="patient")
    if hi.any():
        ax.scatter(t[hi], p[hi], s=90, marker="D", color="tab:orange", edgecolor="black", label=highlight_label)
    if annotate:
        for name, ti, pi, h in zip(ids, t, p, hi):
            if h or not hi.any():
                ax.annotate(name, (ti, pi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), aspect="equal", xlabel="true IDC fraction of the tissue",
           ylabel={"pred_idc_fraction": "predicted IDC fraction (thresholded)",
                   "expected_idc_fraction": "expected IDC fraction (mean probability)"}.get(column, column),
           title=title or "IDC area per patient")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_importance(importance: pd.DataFrame, ax=None, *, title: str | None = None,
                    xlabel: str = "drop in balanced accuracy when shuffled"):
    """Horizontal bars of :func:`grouped_permutation_importance` (mean ± std over repeats)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 * len(importance) + 1.2), constrained_layout=True)
    imp = importance.sort_values("importance")
    labels = [f"{name} ({n})" for name, n in zip(imp.index, imp["n_features"])]
    ax.barh(labels, imp["importance"], xerr=imp["std"], color="tab:blue", alpha=0.8, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set(xlabel=xlabel, ylabel="feature family (number of features)",
           title=title or "Which feature families does the model rely on?")
    return ax


def plot_patch_gallery(images: np.ndarray, indices, *, titles: Sequence[str] | None = None, ncols: int = 8,
                       row_label: str | None = None, axes=None, size: float = 1.3):
    """Show ``images[indices]`` (uint8 (n, P, P, 3)) in a grid, with optional per-patch titles.

    Returns ``(fig, axes)``. Pass a row of ``axes`` to draw several galleries in one figure.
    """
    import matplotlib.pyplot as plt

    indices = np.asarray(indices, dtype=int)
    if axes is None:
        nrows = max(1, -(-len(indices) // ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.35) * nrows), squeeze=False)
    else:
        fig = np.ravel(axes)[0].figure
    flat = np.ravel(axes)
    for k, ax in enumerate(flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if k < len(indices):
            ax.imshow(images[indices[k]], interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    if row_label:
        flat[0].set_ylabel(row_label, fontsize=9, rotation=0, ha="right", va="center")
    return fig, axes


def plot_confidence_gallery(images: np.ndarray, proba, labels, *, k: int = 8, size: float = 1.25):
    """Rows of patches from :func:`confidence_ranking`: confident IDC, confident non-IDC, least confident,
    confident mistakes. Each patch is titled with its probability and true label. Returns ``(fig, axes)``."""
    import matplotlib.pyplot as plt

    p = np.asarray(proba, dtype=float)
    y = np.asarray(labels)
    ranking = confidence_ranking(p, y, k)
    fig, axes = plt.subplots(len(ranking), k, figsize=(size * k + 1.6, (size + 0.4) * len(ranking)), squeeze=False)
    for row, (name, idx) in zip(axes, ranking.items()):
        plot_patch_gallery(images, idx, titles=[f"P={p[i]:.2f} y={int(y[i])}" for i in idx], axes=row)
        row[0].set_ylabel(name.replace(" ", "\n"), rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("P = predicted probability of IDC, y = true label")
    return fig, axes


def plot_zoom(slide: Slide, x: float, y: float, *, half_size: int = 125, ax=None, grid: bool = True,
              title: str | None = None):
    """Full-detail view of the slide around slide pixel (x, y), with the 50 px patch grid drawn.

    Useful to check that edge patches sit where they belong. ``x``, ``y``, ``half_size`` in slide pixels.
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5), constrained_layout=True)
    left, right, bottom, top = slide.extent
    d = slide.downscale
    r0 = int(max(0, (y - half_size - top) // d))
    r1 = int(min(slide.tissue.shape[0], -(-(y + half_size - top) // d)))
    c0 = int(max(0, (x - half_size - left) // d))
    c1 = int(min(slide.tissue.shape[1], -(-(x + half_size - left) // d)))
    ext = (left + c0 * d, left + c1 * d, top + r1 * d, top + r0 * d)
    ax.imshow(slide.tissue[r0:r1, c0:c1], extent=ext, interpolation="nearest")
    if grid:
        for gx in np.arange(left, ext[1] + 1, PATCH_SIZE):
            if gx >= ext[0]:
                ax.axvline(gx, color="black", lw=0.5, alpha=0.5)
        for gy in np.arange(top, ext[2] + 1, PATCH_SIZE):
            if gy >= ext[3]:
                ax.axhline(gy, color="black", lw=0.5, alpha=0.5)
    ax.set(xlim=(ext[0], ext[1]), ylim=(ext[2], ext[3]))
    _slide_axes(ax, title or f"patient {slide.patient}: zoom at x={x:g}, y={y:g}")
    return ax
