"""Figures the notebooks share: patch grids, panels of images and maps, embeddings, per-class histograms.

Functions take numpy arrays and return the :class:`matplotlib.figure.Figure` they drew (nothing shown or printed).
Everything else (ROC curves, confusion matrices...) is pandas or a scikit-learn ``Display`` in the notebooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

__all__ = ["CLASS_COLORS", "plot_patch_grid", "plot_slide_panels", "plot_embedding", "plot_class_histograms"]

#: Colours of the IDC classes: 0 = non-IDC (blue), 1 = IDC (vermillion), readable with colour-blindness (Okabe-Ito).
CLASS_COLORS: dict[int, str] = {0: "#0072B2", 1: "#D55E00"}


def _rgb_list(images) -> list[np.ndarray]:
    if isinstance(images, np.ndarray) and (images.ndim != 4 or images.shape[-1] != 3):
        raise ValueError(f"images must have shape (n, h, w, 3) (RGB patches) or be a list of (h, w, 3) arrays; "
                         f"got an array of shape {images.shape}. For one image pass image[None].")
    images = [np.asarray(im) for im in images]
    for k, im in enumerate(images):
        if im.ndim != 3 or im.shape[-1] != 3 or not (im.dtype == np.uint8 or np.issubdtype(im.dtype, np.floating)):
            raise ValueError(f"images[{k}] must be an RGB image (h, w, 3), uint8 0..255 or float 0..1; "
                             f"got shape {im.shape}, dtype {im.dtype}")
    if not images:
        raise ValueError("images is empty: there is nothing to show")
    return images


def _per_item(values, n: int, name: str, what: str) -> list:
    if len(values := list(values)) != n:
        raise ValueError(f"{name} must have {n} entries, one per {what}; got {len(values)}")
    return values


def _grid(n: int, ncols: int, panel_w: float, panel_h: float, title: str | None, extra_h: float = 0.0):
    """A figure with n axes in rows of ``ncols`` (the unused cells of the last row removed) and the axes array."""
    ncols = max(1, min(int(ncols), n))
    fig, axes = plt.subplots(-(-n // ncols), ncols, squeeze=False, layout="constrained",
                             figsize=(panel_w * ncols, panel_h * -(-n // ncols) + extra_h + (0.4 if title else 0.0)))
    for ax in axes.ravel()[n:]:
        fig.delaxes(ax)
    if title:
        fig.suptitle(title)
    return fig, axes


def _frame(ax, color=None, lw: float = 3.0) -> None:
    ax.set(xticks=[], yticks=[])
    for spine in ax.spines.values():
        spine.set(visible=color is not None, edgecolor=color, linewidth=lw)


def _palette(categories: Sequence) -> dict:
    """Category -> colour: :data:`CLASS_COLORS` for the IDC classes 0/1, else matplotlib's tab10 / tab20."""
    if all(isinstance(c, (int, np.integer)) and c in CLASS_COLORS for c in categories):
        return {c: CLASS_COLORS[int(c)] for c in categories}
    cmap = plt.get_cmap("tab10" if len(categories) <= 10 else "tab20")
    return {c: cmap(k % cmap.N) for k, c in enumerate(categories)}


def _option(value, key: str, default=None):
    return value.get(key, default) if isinstance(value, Mapping) else (default if value is None else value)


def plot_patch_grid(images, *, titles: Sequence[str] | None = None, row_labels: Sequence[str] | None = None,
                    frame_colors: Sequence | None = None, legend: Mapping[str, object] | None = None,
                    ncols: int = 8, size: float = 1.1, title: str | None = None):
    """Show patches in a grid, row by row, with optional titles, coloured frames and row labels.

    Parameters
    ----------
    images : uint8 or float array (n, h, w, 3), or a list of n arrays (h_i, w_i, 3)
        RGB patches (uint8 0..255 or float 0..1). Patches of different sizes (e.g. the smaller patches cut at a
        slide's edge) are drawn at the same scale: every panel spans the largest height and width.
    titles, row_labels : sequence of str, optional
        A small title above each of the n patches; a label left of each of the ``ceil(n / ncols)`` rows.
    frame_colors : sequence of n colours, optional
        A frame around each patch in that colour (``None``: no frame), e.g. ``[CLASS_COLORS[y] for y in labels]``.
    legend : mapping str -> colour, optional
        A legend for the frame colours, e.g. ``{"non-IDC": CLASS_COLORS[0], "IDC": CLASS_COLORS[1]}``.
    ncols, size, title : int, float, str
        Patches per row; width of one panel (inches); figure title.

    Returns
    -------
    matplotlib.figure.Figure
        With exactly n axes, in the order of ``images``.
    """
    images = _rgb_list(images)
    n = len(images)
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    titles = None if titles is None else _per_item(titles, n, "titles", "image")
    frame_colors = [None] * n if frame_colors is None else _per_item(frame_colors, n, "frame_colors", "image")
    if row_labels is not None:
        row_labels = _per_item(row_labels, nrows, "row_labels", f"row ({n} images in rows of ncols={ncols})")
    height, width = max(im.shape[0] for im in images), max(im.shape[1] for im in images)
    fig, axes = _grid(n, ncols, size + (1.0 / ncols if row_labels else 0.0),
                      size * height / width + (0.25 if titles is not None else 0.0), title, 0.4 if legend else 0.0)
    for k, ax in enumerate(axes.ravel()[:n]):
        ax.imshow(images[k], interpolation="nearest")
        ax.set(xlim=(-0.5, width - 0.5), ylim=(height - 0.5, -0.5))
        _frame(ax, frame_colors[k])
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=8)
    for r, label in enumerate(row_labels or []):
        axes[r, 0].set_ylabel(str(label), rotation=0, ha="right", va="center", fontsize=9)
    if legend:
        handles = [Patch(facecolor="none", edgecolor=c, linewidth=2, label=str(lab)) for lab, c in legend.items()]
        fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), fontsize=9, frameon=False)
    return fig


def plot_slide_panels(panels: Mapping[str, np.ndarray], *, cmaps=None, vmin=None, vmax=None, colorbar_labels=None,
                      size: float = 4.0, title: str | None = None):
    """Images and 2-D maps of one region side by side (a slide mosaic and its heatmaps, a patch and its channels).

    Parameters
    ----------
    panels : mapping str -> array
        Panel title -> an RGB image (h, w, 3), uint8 0..255 or float 0..1, or a 2-D map (h, w) of numbers drawn
        with a colour map and a colour bar. NaN marks "no tissue / no value" and is drawn white.
    cmaps, vmin, vmax, colorbar_labels : one value for every map, or a mapping panel title -> value, optional
        Colour map (default ``"viridis"``), colour range (default: the map's own min and max), colour-bar label.
    size, title : float, str
        Width of one panel (inches); figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel (in the order of ``panels``), then one colour-bar axes per 2-D map.
    """
    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("panels must be a non-empty dict {title: image (h, w, 3) or map (h, w)}")
    arrays = {name: np.asarray(a) for name, a in panels.items()}
    for name, a in arrays.items():
        if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] == 3)):
            raise ValueError(f"panel {name!r} must be an RGB image (h, w, 3) or a 2-D map (h, w); got shape {a.shape}")
    h, w = next(iter(arrays.values())).shape[:2]
    fig, axes = _grid(len(arrays), len(arrays), size, size * h / max(w, 1) + 0.6, title)
    for ax, (name, a) in zip(axes[0], arrays.items()):
        if a.ndim == 3:  # NaN: white
            ax.imshow(np.where(np.isnan(a), 1.0, a) if a.dtype.kind == "f" else a, interpolation="nearest")
        else:
            cmap = plt.get_cmap(_option(cmaps, name, "viridis")).with_extremes(bad="white")  # NaN: white
            im = ax.imshow(np.ma.masked_invalid(a.astype(np.float64)), cmap=cmap, interpolation="nearest",
                           vmin=_option(vmin, name), vmax=_option(vmax, name))
            fig.colorbar(im, ax=ax, shrink=0.8, label=_option(colorbar_labels, name))
        ax.set_title(str(name), fontsize=10)
        _frame(ax, "0.85", lw=0.8)
    return fig


def plot_embedding(X2, labels, *, class_names=None, max_categories: int = 10, ax=None, s: float = 8,
                   alpha: float = 0.6, random_state: int = 0, title: str | None = None):
    """2-D scatter of an embedding (PCA, t-SNE, two features...) coloured by class or group.

    Parameters
    ----------
    X2, labels : float array (n, 2), array (n,)
        Coordinates (e.g. ``PCA(n_components=2).fit_transform(X)``) and category of each point: class or group.
    class_names : sequence or mapping, optional
        Label -> name in the legend (``class_names[label]``); default the label itself.
    max_categories : int
        The ``max_categories`` largest categories get a colour and a legend entry; the others are drawn grey.
    ax : matplotlib Axes, optional
        Draw into this axes (e.g. one of several side by side) instead of a new figure.
    s, alpha, random_state, title : float, float, int, str
        Marker size, opacity, seed of the random drawing order (so that no class hides under another), title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    X2 = np.asarray(X2, dtype=np.float64)
    if X2.ndim != 2 or X2.shape[1] != 2:
        raise ValueError(f"X2 must have shape (n, 2), two coordinates per point; got {X2.shape}")
    if (labels := np.asarray(labels)).shape != (len(X2),):
        raise ValueError(f"labels must have shape ({len(X2)},), one per point; got {labels.shape}")
    cats, counts = np.unique(labels, return_counts=True)
    named = sorted(cats[np.argsort(-counts, kind="stable")][: max(1, int(max_categories))].tolist())
    palette, grey = _palette(named), (0.7, 0.7, 0.7, 1.0)
    colours = np.array([to_rgba(palette.get(v, grey)) for v in labels.tolist()]).reshape(-1, 4)
    order = np.random.default_rng(random_state).permutation(len(X2))
    fig, ax = plt.subplots(figsize=(5.6, 4.6), layout="constrained") if ax is None else (ax.figure, ax)
    ax.scatter(X2[order, 0], X2[order, 1], c=colours[order], s=s, alpha=alpha, linewidths=0)
    shown = {c: c if class_names is None else class_names[c] for c in named}  # label -> legend name
    handles = [Line2D([], [], marker="o", linestyle="", color=palette[c], label=f"{shown[c]} ({k:,})")
               for c, k in zip(cats.tolist(), counts.tolist()) if c in shown]
    if len(cats) > len(named):
        handles.append(Line2D([], [], marker="o", linestyle="", color=grey, label=f"{len(cats) - len(named)} others"))
    ax.legend(handles=handles, fontsize=8, framealpha=0.85)
    ax.set(xlabel="component 1", ylabel="component 2", title=title or "")
    return fig


def plot_class_histograms(values, labels, *, names: Sequence[str] | None = None, class_names=None, bins: int = 40,
                          ncols: int = 4, title: str | None = None):
    """Per-class histograms of each column: do the classes differ in this value?

    Parameters
    ----------
    values : array (n, d)
        One row per sample: pixels in a colour space (e.g. ``skimage.color.rgb2hed(pixels)``) or patch features.
    labels, class_names : array (n,), sequence or mapping (optional)
        Class of each row; label -> name in the legend (``class_names[label]``).
    names : sequence of d str, optional
        Panel titles (default ``column 0``, ``column 1``...).
    bins, ncols, title : int, int, str
        Number of bins (columns of integers, e.g. RGB values, get bins on integer boundaries: no comb artefacts);
        panels per row; figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per column; per class a histogram normalised to unit area (classes of different sizes compare),
        over the 0.5th to 99.5th percentile of the column (the rarest extreme values are left out).
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D (n, d), one row per sample; got shape {values.shape}")
    if (labels := np.asarray(labels)).shape != (len(values),):
        raise ValueError(f"labels must have shape ({len(values)},), one per row of values; got {labels.shape}")
    d = values.shape[1]
    names = [f"column {k}" for k in range(d)] if names is None else _per_item(names, d, "names", "column")
    palette = _palette(classes := np.unique(labels).tolist())
    shown = {c: c if class_names is None else class_names[c] for c in classes}  # label -> legend name
    fig, axes = _grid(d, ncols, 3.2, 2.4, title)
    for k, ax in enumerate(axes.ravel()[:d]):
        finite = np.isfinite(v := values[:, k].astype(np.float64))
        lo, hi = np.percentile(v[finite], [0.5, 99.5]) if finite.any() else (0.0, 1.0)
        step = max(1, int(np.ceil((hi - lo + 1) / bins)))
        integers = np.all(v[finite] == np.round(v[finite]))  # then the same number of whole values in every bin
        edges = (np.arange(np.floor(lo), hi + step + 1, step) - 0.5 if integers
                 else np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1))
        for c in classes:
            vc = v[(labels == c) & finite]
            ax.hist(vc[(vc >= edges[0]) & (vc <= edges[-1])], bins=edges, density=True, histtype="stepfilled",
                    alpha=0.35, color=palette[c], edgecolor=palette[c], linewidth=1.2, label=str(shown[c]))
        ax.set(yticks=[], title=str(names[k]))
    fig.axes[0].legend(fontsize=8)
    return fig
