"""Figures shared by the notebooks: patch grids, colour channels, histograms, embeddings, class balance.

Every function takes numpy arrays (or a pandas DataFrame) and returns the :class:`matplotlib.figure.Figure` it drew
into; nothing prints and nothing depends on hidden state. Random choices (which patches to show, which pixels to
histogram) take a ``seed``. Functions that draw a single panel accept ``ax=`` to draw into an existing figure.

Conventions
-----------
* Patches: ``uint8`` arrays of shape ``(n, H, W, 3)`` (RGB, 0..255), as returned by :func:`helpers.load_idc`.
* Labels: integer arrays of shape ``(n,)``; ``0`` = non-IDC, ``1`` = IDC (:data:`CLASS_NAMES`). Other integer
  labels work too (classes are named by ``class_names`` or by their number).
* Colours: :data:`CLASS_COLORS` (Okabe-Ito blue / vermillion, readable with colour-blindness) for the two IDC
  classes; other categories use matplotlib's ``tab10`` / ``tab20``.

In a notebook, assign the result (``fig = plot_patches_by_class(...)``) so that the figure is shown once.

Figures
-------
==================================  ===================================================================
:func:`plot_patch_grid`             a grid of patches, optional titles and class-coloured frames
:func:`plot_patches_by_class`       one row of random patches per class
:func:`plot_patches_by_patient`     one row of random patches per patient (stain variation)
:func:`plot_class_balance`          stacked bars of class counts (or fractions) per patient
:func:`plot_image_and_maps`         one image next to any number of 2-D maps (channels, LBP codes, ...)
:func:`plot_channels`               one image and its RGB / HSV / HED (colour deconvolution) channels
:func:`plot_intensity_histograms`   per-class pixel-intensity histograms of each channel
:func:`plot_feature_histograms`     per-class histograms of selected feature columns
:func:`plot_embedding`              2-D scatter (PCA, t-SNE, ...) coloured by class, group or value
==================================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CLASS_NAMES",
    "CLASS_COLORS",
    "channel_maps",
    "plot_patch_grid",
    "plot_patches_by_class",
    "plot_patches_by_patient",
    "plot_class_balance",
    "plot_image_and_maps",
    "plot_channels",
    "plot_intensity_histograms",
    "plot_feature_histograms",
    "plot_embedding",
]

#: Names of the IDC classes.
CLASS_NAMES: dict[int, str] = {0: "non-IDC", 1: "IDC"}
#: Colours of the IDC classes (Okabe-Ito blue and vermillion).
CLASS_COLORS: dict[int, str] = {0: "#0072B2", 1: "#D55E00"}

_SPACES = {
    "rgb": (("red", "green", "blue"), ("Reds", "Greens", "Blues")),
    "hsv": (("hue", "saturation", "value"), ("hsv", "viridis", "gray")),
    "hed": (("haematoxylin", "eosin", "DAB (residual)"), ("Purples", "RdPu", "Oranges")),
}


# --------------------------------------------------------------------------------------------------------------
# small utilities
# --------------------------------------------------------------------------------------------------------------


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _check_images(images, name: str = "images") -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 3 and images.shape[-1] == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"{name} must be RGB patches of shape (n, H, W, 3); got shape {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 (0..255); got dtype {images.dtype}")
    return images


def _check_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be one uint8 RGB image of shape (H, W, 3); got {image.shape} {image.dtype}")
    return image


def _check_labels(labels, n: int, name: str = "labels") -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one entry per image; got {labels.shape}")
    return labels


def _class_name(c, class_names) -> str:
    names = CLASS_NAMES if class_names is None else class_names
    try:
        return str(names[c])
    except (KeyError, IndexError, TypeError):
        return str(c)


def _class_color(c, k: int, n_classes: int):
    if n_classes <= 2 and c in CLASS_COLORS:
        return CLASS_COLORS[c]
    plt = _plt()
    cmap = plt.get_cmap("tab10" if n_classes <= 10 else "tab20")
    return cmap(k % cmap.N)


def _class_colors(classes) -> dict:
    classes = list(classes)
    binary = set(np.asarray(classes).tolist()) <= {0, 1}
    return {c: _class_color(c, k, 2 if binary else len(classes)) for k, c in enumerate(classes)}


def _clean_axis(ax, frame_color=None, lw: float = 3.0):
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        if frame_color is None:
            spine.set_visible(False)
        else:
            spine.set_visible(True)
            spine.set_color(frame_color)
            spine.set_linewidth(lw)


def _new_axes(ax, figsize):
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def channel_maps(image, space: str = "hed") -> dict[str, np.ndarray]:
    """The three channels of one RGB image in a colour space.

    Parameters
    ----------
    image : uint8 array (H, W, 3)
    space : {"rgb", "hsv", "hed"}
        ``rgb``: the raw 0..255 values; ``hsv``: :func:`skimage.color.rgb2hsv` (all in 0..1); ``hed``: stain
        densities of the Ruifrok & Johnston colour deconvolution, :func:`skimage.color.rgb2hed`.

    Returns
    -------
    dict
        Channel name → float64 array (H, W), in the order of the space.
    """
    from skimage import color

    image = _check_image(image)
    if space not in _SPACES:
        raise ValueError(f"space must be one of {sorted(_SPACES)}, not {space!r}")
    if space == "rgb":
        arr = image.astype(np.float64)
    elif space == "hsv":
        arr = color.rgb2hsv(image)
    else:
        arr = color.rgb2hed(image)
    names = _SPACES[space][0]
    return {name: arr[..., k] for k, name in enumerate(names)}


# --------------------------------------------------------------------------------------------------------------
# patch grids
# --------------------------------------------------------------------------------------------------------------


def plot_patch_grid(
    images,
    *,
    titles: Sequence[str] | None = None,
    labels=None,
    ncols: int = 8,
    size: float = 1.2,
    title: str | None = None,
    class_names: Mapping | None = None,
):
    """Show patches in a grid.

    Parameters
    ----------
    images : uint8 array (n, H, W, 3)
    titles : sequence of n str, optional
        A small title above each patch.
    labels : int array (n,), optional
        Draws a frame in the class colour around each patch and a legend.
    ncols : int
        Patches per row.
    size : float
        Size of one patch in inches.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Patch

    plt = _plt()
    images = _check_images(images)
    n = len(images)
    if n == 0:
        raise ValueError("no images to show")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have {n} entries, one per image; got {len(titles)}")
    if labels is not None:
        labels = _check_labels(labels, n)
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    extra = 0.3 if titles is not None else 0.0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, (size + extra) * nrows + (0.5 if title or labels is not None else 0)),
        squeeze=False, layout="constrained",
    )
    colors = _class_colors(np.unique(labels)) if labels is not None else {}
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.set_axis_off()
            continue
        ax.imshow(images[k], interpolation="nearest")
        _clean_axis(ax, colors.get(labels[k]) if labels is not None else None)
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=8)
    if labels is not None:
        handles = [Patch(facecolor="none", edgecolor=col, linewidth=2, label=_class_name(c, class_names))
                   for c, col in colors.items()]
        fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), fontsize=9, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def _pick(rng, idx: np.ndarray, k: int) -> np.ndarray:
    if len(idx) <= k:
        return np.sort(idx)
    return np.sort(rng.choice(idx, size=k, replace=False))


def plot_patches_by_class(
    images,
    labels,
    *,
    n_per_class: int = 8,
    seed: int = 0,
    class_names: Mapping | None = None,
    size: float = 1.2,
    title: str | None = None,
):
    """One row of randomly chosen patches per class.

    Parameters
    ----------
    images : uint8 array (n, H, W, 3)
    labels : int array (n,)
    n_per_class : int
        Patches per row (fewer when a class has fewer patches).
    seed : int
        Seed of the random choice.
    class_names : mapping class → name, optional
        Default :data:`CLASS_NAMES`.

    Returns
    -------
    matplotlib.figure.Figure
        Rows labelled with the class name and its number of patches; frames in the class colour.
    """
    plt = _plt()
    images = _check_images(images)
    labels = _check_labels(labels, len(images))
    classes = np.unique(labels)
    if len(classes) == 0:
        raise ValueError("no images to show")
    colors = _class_colors(classes)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(classes), n_per_class, figsize=(size * n_per_class + 1.2, size * len(classes) + (0.5 if title else 0.1)),
        squeeze=False, layout="constrained",
    )
    for r, c in enumerate(classes):
        idx = _pick(rng, np.flatnonzero(labels == c), n_per_class)
        for j, ax in enumerate(axes[r]):
            if j < len(idx):
                ax.imshow(images[idx[j]], interpolation="nearest")
                _clean_axis(ax, colors[c])
            else:
                ax.set_axis_off()
        axes[r, 0].set_ylabel(
            f"{_class_name(c, class_names)}\n({int((labels == c).sum()):,} patches)",
            rotation=0, ha="right", va="center", fontsize=10, color=colors[c],
        )
    if title:
        fig.suptitle(title)
    return fig


def plot_patches_by_patient(
    images,
    patients,
    labels=None,
    *,
    patient_ids: Sequence | None = None,
    n_patients: int = 5,
    n_per_patient: int = 8,
    only_label=None,
    seed: int = 0,
    size: float = 1.1,
    title: str | None = None,
    class_names: Mapping | None = None,
):
    """One row of randomly chosen patches per patient: how much patients differ (stain, tissue, scanner).

    Parameters
    ----------
    images : uint8 array (n, H, W, 3)
    patients : array (n,) of patient ids
    labels : int array (n,), optional
        Frames in the class colour; rows say the patient's share of IDC patches.
    patient_ids : sequence, optional
        Patients to show, in this order. Default: ``n_patients`` patients drawn at random (``seed``) among those
        with at least ``n_per_patient`` patches (of class ``only_label`` if given).
    only_label : int, optional
        Show only patches of this class (e.g. ``1``), so rows differ by patient rather than by tissue type.
    seed : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    images = _check_images(images)
    patients = _check_labels(patients, len(images), "patients").astype(str)
    if labels is not None:
        labels = _check_labels(labels, len(images))
    if only_label is not None and labels is None:
        raise ValueError("only_label needs labels")
    keep = np.ones(len(images), bool) if only_label is None else labels == only_label
    rng = np.random.default_rng(seed)
    if patient_ids is None:
        ids, counts = np.unique(patients[keep], return_counts=True)
        eligible = ids[counts >= n_per_patient]
        if len(eligible) == 0:
            eligible = ids[np.argsort(-counts, kind="stable")][:n_patients]
        chosen = eligible if len(eligible) <= n_patients else rng.choice(eligible, n_patients, replace=False)
        patient_ids = sorted(chosen, key=lambda s: (len(s), s))
    patient_ids = [str(p) for p in patient_ids]
    missing = [p for p in patient_ids if not (keep & (patients == p)).any()]
    if missing:
        raise ValueError(f"no (matching) patches for patient(s) {missing}")
    colors = _class_colors(np.unique(labels)) if labels is not None else {}
    fig, axes = plt.subplots(
        len(patient_ids), n_per_patient,
        figsize=(size * n_per_patient + 1.6, size * len(patient_ids) + (0.5 if title else 0.1)),
        squeeze=False, layout="constrained",
    )
    for r, p in enumerate(patient_ids):
        idx = _pick(rng, np.flatnonzero(keep & (patients == p)), n_per_patient)
        for j, ax in enumerate(axes[r]):
            if j < len(idx):
                ax.imshow(images[idx[j]], interpolation="nearest")
                _clean_axis(ax, colors.get(labels[idx[j]]) if labels is not None else None, lw=2.0)
            else:
                ax.set_axis_off()
        text = f"patient {p}"
        if labels is not None:
            mine = patients == p
            text += f"\n{mine.sum()} patches, {np.mean(labels[mine] == 1):.0%} IDC"
        axes[r, 0].set_ylabel(text, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------------------------------
# class balance
# --------------------------------------------------------------------------------------------------------------


def plot_class_balance(
    patients,
    labels,
    *,
    ax=None,
    normalize: bool = False,
    sort_by: str = "total",
    max_patients: int | None = None,
    class_names: Mapping | None = None,
    title: str | None = None,
):
    """Stacked bars of the number (or fraction) of patches of each class, one bar per patient.

    Parameters
    ----------
    patients : array (n,) of patient ids (one per patch), e.g. ``table["patient"]``
    labels : int array (n,)
    ax : matplotlib Axes, optional
    normalize : bool
        Bars of fractions (each patient sums to 1) instead of counts.
    sort_by : {"total", "fraction", "patient"}
        Order of the bars: by number of patches (largest first), by share of class 1 (largest first), or by
        patient id.
    max_patients : int, optional
        Show only the first ``max_patients`` bars of that order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    patients = np.asarray(patients).astype(str)
    labels = _check_labels(labels, len(patients))
    if sort_by not in ("total", "fraction", "patient"):
        raise ValueError(f"sort_by must be 'total', 'fraction' or 'patient', not {sort_by!r}")
    counts = pd.crosstab(pd.Series(patients, name="patient"), pd.Series(labels, name="label"))
    classes = list(counts.columns)
    total = counts.sum(axis=1)
    frac1 = counts[1] / total if 1 in counts.columns else pd.Series(0.0, index=counts.index)
    if sort_by == "total":
        order = np.lexsort((counts.index.to_numpy(), -total.to_numpy()))
    elif sort_by == "fraction":
        order = np.lexsort((-total.to_numpy(), -frac1.to_numpy()))
    else:
        ids = counts.index.to_numpy()
        order = np.array(sorted(range(len(ids)), key=lambda i: (len(ids[i]), ids[i])), dtype=int)
    counts = counts.iloc[order]
    if max_patients is not None:
        counts = counts.iloc[: int(max_patients)]
    values = counts.div(counts.sum(axis=1), axis=0) if normalize else counts
    n_bars = len(values)
    fig, ax = _new_axes(ax, (min(14, max(6, 0.06 * n_bars + 4)), 3.6))
    colors = _class_colors(classes)
    x = np.arange(n_bars)
    width = 0.85 if n_bars < 60 else 1.0
    bottom = np.zeros(n_bars)
    for c in classes:
        ax.bar(x, values[c].to_numpy(), width, bottom=bottom, color=colors[c], label=_class_name(c, class_names),
               linewidth=0)
        bottom += values[c].to_numpy()
    ax.set_xlim(-0.6, n_bars - 0.4)
    if n_bars <= 40:
        ax.set_xticks(x, values.index, rotation=90, fontsize=8)
        ax.set_xlabel("patient")
    else:
        ax.set_xticks([])
        order_text = {"total": "by number of patches", "fraction": "by IDC fraction", "patient": "by id"}[sort_by]
        ax.set_xlabel(f"{n_bars} patients, sorted {order_text}")
    ax.set_ylabel("fraction of the patient's patches" if normalize else "patches")
    if normalize:
        ax.set_ylim(0, 1)
    ax.legend(loc="upper right", fontsize=9)
    ax.set_title(title or "Class balance per patient")
    return fig


# --------------------------------------------------------------------------------------------------------------
# one image, several maps
# --------------------------------------------------------------------------------------------------------------


def plot_image_and_maps(
    image,
    maps: Mapping[str, np.ndarray],
    *,
    cmaps: Mapping[str, str] | str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    colorbar: bool = True,
    image_title: str = "RGB patch",
    size: float = 2.6,
    title: str | None = None,
):
    """An RGB image followed by any number of 2-D maps of the same image, side by side.

    Parameters
    ----------
    image : uint8 array (H, W, 3)
    maps : mapping name → 2-D array (h, w)
        Channels, filter responses, LBP codes... Each gets a panel titled with its name.
    cmaps : str or mapping name → colormap name, optional
        Default ``"viridis"``.
    ranges : mapping name → (vmin, vmax), optional
        Colour range of each map (default: its own min and max).
    colorbar : bool
        A colour bar under each map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    image = _check_image(image)
    maps = dict(maps)
    for name, m in maps.items():
        if np.ndim(m) != 2:
            raise ValueError(f"map {name!r} must be 2-D; got shape {np.shape(m)}")
    n = 1 + len(maps)
    fig, axes = plt.subplots(1, n, figsize=(size * n, size + (0.9 if colorbar else 0.4) + (0.3 if title else 0)),
                             squeeze=False, layout="constrained")
    axes = axes[0]
    axes[0].imshow(image, interpolation="nearest")
    axes[0].set_title(image_title, fontsize=10)
    _clean_axis(axes[0])
    for ax, (name, m) in zip(axes[1:], maps.items()):
        cmap = cmaps if isinstance(cmaps, str) else (cmaps or {}).get(name, "viridis")
        vmin, vmax = (ranges or {}).get(name, (None, None))
        im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        _clean_axis(ax)
        if colorbar:
            fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.06, pad=0.03)
    if colorbar:  # keep the RGB panel the same size as the others
        fig.colorbar(plt.cm.ScalarMappable(), ax=axes[0], orientation="horizontal", fraction=0.06,
                     pad=0.03).ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def plot_channels(image, space: str = "hed", *, title: str | None = None, size: float = 2.6):
    """One RGB image and its three channels in a colour space (see :func:`channel_maps`).

    Parameters
    ----------
    image : uint8 array (H, W, 3)
    space : {"rgb", "hsv", "hed"}
        ``hed`` shows the stain densities of haematoxylin (nuclei), eosin (cytoplasm, stroma) and the residual
        third channel (DAB; near zero in H&E).

    Returns
    -------
    matplotlib.figure.Figure
    """
    maps = channel_maps(image, space)
    names, cmap_list = _SPACES[space]
    cmaps = dict(zip(names, cmap_list))
    ranges = {}
    if space == "rgb":
        ranges = {n: (0, 255) for n in names}
    elif space == "hsv":
        ranges = {n: (0, 1) for n in names}
    return plot_image_and_maps(image, maps, cmaps=cmaps, ranges=ranges, size=size,
                               title=title or f"{space.upper()} channels")


# --------------------------------------------------------------------------------------------------------------
# histograms
# --------------------------------------------------------------------------------------------------------------


def _pixel_values(images: np.ndarray, space: str) -> np.ndarray:
    """Pixels (m, 3) of uint8 images (m, 3) converted to a colour space (float64)."""
    from skimage import color

    pix = images.reshape(-1, 1, 3)
    if space == "rgb":
        return pix.reshape(-1, 3).astype(np.float64)
    if space == "hsv":
        return color.rgb2hsv(pix).reshape(-1, 3)
    return color.rgb2hed(pix).reshape(-1, 3)


def plot_intensity_histograms(
    images,
    labels,
    *,
    space: str = "rgb",
    bins: int = 50,
    tissue_only: bool = False,
    background: int = 220,
    max_pixels: int = 200_000,
    seed: int = 0,
    class_names: Mapping | None = None,
    title: str | None = None,
):
    """Per-class histograms (densities) of the pixel values of each channel.

    Parameters
    ----------
    images : uint8 array (n, H, W, 3)
    labels : int array (n,)
    space : {"rgb", "hsv", "hed"}
        Colour space (see :func:`channel_maps`).
    bins : int
        Number of bins (for RGB rounded so that every bin holds the same number of integer values).
    tissue_only : bool
        Leave out near-white pixels (glass, white padding of edge patches): pixels whose three RGB values are all
        at least ``background``.
    max_pixels : int
        At most this many randomly chosen pixels per class are used (``seed``), which keeps memory and time small.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels (one per channel); one step curve per class, normalised to unit area so classes of different
        sizes compare. HED panels show 0 to the 99.5th percentile (the rare darker pixels are left out).
    """
    plt = _plt()
    images = _check_images(images)
    labels = _check_labels(labels, len(images))
    if space not in _SPACES:
        raise ValueError(f"space must be one of {sorted(_SPACES)}, not {space!r}")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    colors = _class_colors(classes)
    values = {}
    for c in classes:
        pix = images[labels == c].reshape(-1, 3)
        if tissue_only:
            pix = pix[~(pix >= background).all(axis=1)]
        if len(pix) > max_pixels:
            pix = pix[rng.choice(len(pix), max_pixels, replace=False)]
        values[c] = _pixel_values(pix, space)
    names = _SPACES[space][0]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3 + (0.3 if title else 0)), layout="constrained")
    for k, ax in enumerate(axes):
        if space == "rgb":
            lo, hi = 0.0, 256.0
        elif space == "hsv":
            lo, hi = 0.0, 1.0
        else:
            allv = np.concatenate([v[:, k] for v in values.values() if len(v)]) if values else np.zeros(1)
            lo, hi = (0.0, float(np.percentile(allv, 99.5))) if allv.size else (0.0, 1.0)
            if hi <= lo:
                hi = lo + 1e-3
        if space == "rgb":  # integer values: bin edges on integers, or the histogram shows comb artefacts
            step = max(1, int(round(256 / bins)))
            edges = np.arange(0, 256 + step, step, dtype=float)
        else:
            edges = np.linspace(lo, hi, bins + 1)
        for c in classes:
            v = values[c][:, k]
            if len(v) == 0:
                continue
            ax.hist(v[(v >= lo) & (v <= hi)], bins=edges, density=True, histtype="step", linewidth=1.8,
                    color=colors[c], label=_class_name(c, class_names))
        ax.set_title(names[k])
        ax.set_xlabel({"rgb": "value (0-255)", "hsv": "value (0-1)", "hed": "stain density"}[space])
        ax.set_yticks([])
    axes[0].set_ylabel("density")
    axes[-1].legend(fontsize=9)
    suffix = ", tissue pixels only" if tissue_only else ""
    fig.suptitle(title or f"Pixel values per class in {space.upper()}{suffix}")
    return fig


def plot_feature_histograms(
    X,
    labels,
    names: Sequence[str],
    *,
    features: Sequence[str] | None = None,
    ncols: int = 4,
    bins: int = 40,
    class_names: Mapping | None = None,
    title: str | None = None,
):
    """Per-class histograms of some feature columns: which single features separate the classes?

    Parameters
    ----------
    X : float array (n, d)
    labels : int array (n,)
    names : sequence of d str
        Column names (e.g. from ``get_feature_names_out()``).
    features : sequence of str, optional
        The columns to show (default: the first eight).
    ncols : int

    Returns
    -------
    matplotlib.figure.Figure
        One panel per feature, one filled histogram per class (density), on the 1st–99th percentile range of the
        feature (the extreme 2 % are left out).
    """
    plt = _plt()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, d); got shape {X.shape}")
    labels = _check_labels(labels, len(X))
    names = [str(n) for n in names]
    if len(names) != X.shape[1]:
        raise ValueError(f"names must have {X.shape[1]} entries, one per column; got {len(names)}")
    features = list(features) if features is not None else names[:8]
    unknown = [f for f in features if f not in names]
    if unknown:
        raise ValueError(f"unknown feature name(s) {unknown}")
    classes = np.unique(labels)
    colors = _class_colors(classes)
    ncols = max(1, min(ncols, len(features)))
    nrows = -(-len(features) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.4 * nrows + (0.4 if title else 0)),
                             squeeze=False, layout="constrained")
    for ax, f in zip(axes.ravel(), features):
        v = X[:, names.index(f)]
        finite = np.isfinite(v)
        lo, hi = np.percentile(v[finite], [1, 99]) if finite.any() else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
        for c in classes:
            vc = v[(labels == c) & finite]
            if len(vc):
                ax.hist(vc[(vc >= lo) & (vc <= hi)], bins=edges, density=True, histtype="stepfilled", alpha=0.35,
                        color=colors[c], edgecolor=colors[c], linewidth=1.2, label=_class_name(c, class_names))
        ax.set_title(f, fontsize=10)
        ax.set_xlabel("feature value", fontsize=8)
        ax.set_yticks([])
    for row in axes:
        row[0].set_ylabel("density")
    for ax in axes.ravel()[len(features):]:
        ax.set_axis_off()
    axes.ravel()[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------------------------------
# embeddings
# --------------------------------------------------------------------------------------------------------------


def plot_embedding(
    Z,
    labels,
    *,
    ax=None,
    kind: str = "auto",
    class_names: Mapping | None = None,
    max_points: int | None = None,
    seed: int = 0,
    s: float = 8,
    alpha: float = 0.6,
    xlabel: str = "component 1",
    ylabel: str = "component 2",
    colorbar_label: str | None = None,
    max_categories: int = 10,
    title: str | None = None,
):
    """2-D scatter of an embedding (PCA, t-SNE, UMAP, two features...) coloured by class, group or value.

    Parameters
    ----------
    Z : float array (n, 2)
    labels : array (n,)
        Classes (int), groups (e.g. patient ids) or a continuous value (e.g. predicted probability).
    kind : {"auto", "categorical", "continuous"}
        ``auto``: float labels with more than 10 distinct values are continuous (colour bar), everything else
        categorical (legend; the ``max_categories`` largest categories are named, the others drawn in grey).
    max_points : int, optional
        Draw at most this many randomly chosen points (``seed``).
    s, alpha : marker size and opacity.

    Points are drawn in random order so that no class is hidden under another.

    Returns
    -------
    matplotlib.figure.Figure
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != 2:
        raise ValueError(f"Z must have shape (n, 2); got {Z.shape}")
    labels = _check_labels(labels, len(Z))
    if kind not in ("auto", "categorical", "continuous"):
        raise ValueError(f"kind must be 'auto', 'categorical' or 'continuous', not {kind!r}")
    if kind == "auto":
        continuous = np.issubdtype(labels.dtype, np.floating) and len(np.unique(labels)) > 10
        kind = "continuous" if continuous else "categorical"
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(Z))
    if max_points is not None and len(order) > max_points:
        order = order[:max_points]
    fig, ax = _new_axes(ax, (5.6, 4.6))
    if kind == "continuous":
        sc = ax.scatter(Z[order, 0], Z[order, 1], c=labels[order].astype(float), s=s, alpha=alpha,
                        cmap="viridis", linewidths=0)
        fig.colorbar(sc, ax=ax, label=colorbar_label or "value")
    else:
        classes, counts = np.unique(labels, return_counts=True)
        named = classes[np.argsort(-counts, kind="stable")][: max(1, int(max_categories))]
        palette = _class_colors(sorted(named.tolist()))
        colors = np.array([palette.get(v, (0.7, 0.7, 0.7, 1.0)) for v in labels[order].tolist()], dtype=object)
        rgba = np.array([_to_rgba(c) for c in colors])
        ax.scatter(Z[order, 0], Z[order, 1], c=rgba, s=s, alpha=alpha, linewidths=0)
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="o", linestyle="", color=palette[c], markersize=6,
                          label=f"{_class_name(c, class_names)} ({int((labels == c).sum()):,})")
                   for c in sorted(named.tolist())]
        if len(classes) > len(named):
            handles.append(Line2D([], [], marker="o", linestyle="", color=(0.7, 0.7, 0.7), markersize=6,
                                  label=f"{len(classes) - len(named)} others"))
        ax.legend(handles=handles, fontsize=8, loc="best", ncols=1 if len(handles) <= 10 else 2,
                  markerscale=1.0, framealpha=0.85)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig


def _to_rgba(c):
    from matplotlib.colors import to_rgba

    return to_rgba(c)


# --------------------------------------------------------------------------------------------------------------
# model evaluation (notebooks 04-06; added by the binary-track evaluation notebooks)
# --------------------------------------------------------------------------------------------------------------

__all__ += [
    "plot_decision_regions",
    "plot_score_distributions",
    "plot_roc_pr",
    "plot_metric_bars",
    "plot_cv_schemes",
    "plot_grid_heatmap",
]


def plot_decision_regions(
    estimator,
    X2,
    y,
    *,
    ax=None,
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
    max_points: int = 1500,
    seed: int = 0,
    resolution: int = 150,
    class_names: Mapping | None = None,
    title: str | None = None,
):
    """Decision function of a fitted 2-feature classifier as a coloured map, its boundary and the samples.

    Parameters
    ----------
    estimator : fitted classifier on 2 features, with ``decision_function`` (or ``predict_proba``)
    X2 : float array (n, 2)
        The two features (on the scale the estimator was fitted on).
    y : int array (n,) of 0/1
    feature_names : two str
        Axis labels.
    max_points : int
        Draw at most this many randomly chosen samples (``seed``).
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.figure.Figure
        Background: decision value (blue = class 0 side, vermillion = class 1 side); black line: the decision
        boundary (decision value 0, or probability 0.5); dots: the samples in their class colour.
    """
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.lines import Line2D

    X2 = np.asarray(X2, dtype=np.float64)
    if X2.ndim != 2 or X2.shape[1] != 2:
        raise ValueError(f"X2 must have shape (n, 2); got {X2.shape}")
    y = _check_labels(y, len(X2))
    lo = np.percentile(X2, 0.5, axis=0)
    hi = np.percentile(X2, 99.5, axis=0)
    pad = 0.05 * (hi - lo + 1e-12)
    lo, hi = lo - pad, hi + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[gx.ravel(), gy.ravel()]
    if hasattr(estimator, "decision_function"):
        z, level = estimator.decision_function(grid), 0.0
    else:
        z, level = estimator.predict_proba(grid)[:, 1], 0.5
    z = np.asarray(z, dtype=float).reshape(gx.shape)
    span = float(np.nanmax(np.abs(z - level))) or 1.0
    cmap = LinearSegmentedColormap.from_list("idc", [CLASS_COLORS[0], "#f7f7f7", CLASS_COLORS[1]])
    fig, ax = _new_axes(ax, (5.8, 4.6))
    cs = ax.contourf(gx, gy, z, levels=21, cmap=cmap, vmin=level - span, vmax=level + span, alpha=0.55)
    ax.contour(gx, gy, z, levels=[level], colors="k", linewidths=1.8)
    fig.colorbar(cs, ax=ax, label="decision value" if level == 0.0 else "P(IDC)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X2))[: max(1, int(max_points))]
    colors = _class_colors(np.unique(y))
    ax.scatter(X2[order, 0], X2[order, 1], c=[colors[v] for v in y[order].tolist()], s=9, alpha=0.7,
               linewidths=0.3, edgecolors="white")
    handles = [Line2D([], [], marker="o", linestyle="", color=col, label=_class_name(c, class_names))
               for c, col in colors.items()]
    handles.append(Line2D([], [], color="k", label="decision boundary"))
    ax.legend(handles=handles, fontsize=8, loc="best", framealpha=0.85)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    if title:
        ax.set_title(title)
    return fig


def plot_score_distributions(
    y_true,
    y_score,
    *,
    threshold: float | None = 0.0,
    ax=None,
    bins: int = 40,
    xlabel: str = "decision value",
    class_names: Mapping | None = None,
    title: str | None = None,
):
    """Histograms of a classifier's scores, one per true class, with the decision threshold.

    Parameters
    ----------
    y_true : int array (n,)
    y_score : float array (n,)
        Decision values or probabilities of class 1.
    threshold : float or None
        Drawn as a vertical line (0 for an SVM's decision function, 0.5 for a probability).
    bins : int

    Returns
    -------
    matplotlib.figure.Figure
        Counts per bin; the overlap of the two histograms is where the mistakes are.
    """
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_score.ndim != 1:
        raise ValueError(f"y_score must be 1-D; got shape {y_score.shape}")
    y_true = _check_labels(y_true, len(y_score))
    fig, ax = _new_axes(ax, (6.0, 3.4))
    edges = np.histogram_bin_edges(y_score[np.isfinite(y_score)], bins=bins)
    classes = np.unique(y_true)
    colors = _class_colors(classes)
    for c in classes:
        ax.hist(y_score[y_true == c], bins=edges, histtype="stepfilled", alpha=0.4, color=colors[c],
                edgecolor=colors[c], linewidth=1.2,
                label=f"true {_class_name(c, class_names)} ({int((y_true == c).sum()):,})")
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", linewidth=1.2, label=f"threshold {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("patches")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_roc_pr(
    y_true,
    scores: Mapping[str, np.ndarray],
    *,
    operating_points: Mapping[str, float] | None = None,
    title: str | None = None,
):
    """ROC curve and precision-recall curve side by side, one line per model.

    Parameters
    ----------
    y_true : int array (n,) of 0/1
    scores : mapping name → float array (n,)
        Scores of class 1 (decision values or probabilities) of each model on the same samples.
    operating_points : mapping name → threshold, optional
        Marks where each model's threshold puts it on both curves (e.g. ``{"SVM": 0.0}``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: true-positive rate against false-positive rate, with the area under the curve (AUC) and the chance
        diagonal. Right: precision against recall, with the average precision (AP) and the positive-class share
        (the precision of a random guess).
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    plt = _plt()
    y_true = np.asarray(y_true).astype(int)
    if len(np.unique(y_true)) != 2:
        raise ValueError("ROC and PR curves need both classes in y_true")
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    cmap = plt.get_cmap("tab10")
    for k, (name, s) in enumerate(scores.items()):
        s = np.asarray(s, dtype=np.float64)
        if s.shape != y_true.shape:
            raise ValueError(f"scores[{name!r}] must have shape {y_true.shape}; got {s.shape}")
        col = cmap(k % 10)
        fpr, tpr, _ = roc_curve(y_true, s)
        prec, rec, _ = precision_recall_curve(y_true, s)
        ax_roc.plot(fpr, tpr, color=col, lw=2, label=f"{name} (AUC {roc_auc_score(y_true, s):.3f})")
        ax_pr.plot(rec, prec, color=col, lw=2, label=f"{name} (AP {average_precision_score(y_true, s):.3f})")
        if operating_points and name in operating_points:
            pred = s >= operating_points[name]
            tp = np.sum(pred & (y_true == 1))
            fp = np.sum(pred & (y_true == 0))
            r = tp / max(1, np.sum(y_true == 1))
            f = fp / max(1, np.sum(y_true == 0))
            p = tp / max(1, tp + fp)
            ax_roc.plot(f, r, "o", color=col, ms=8, mec="k")
            ax_pr.plot(r, p, "o", color=col, ms=8, mec="k")
    prevalence = float(np.mean(y_true))
    ax_roc.plot([0, 1], [0, 1], color="0.6", ls=":", label="chance")
    ax_pr.axhline(prevalence, color="0.6", ls=":", label=f"chance (IDC share {prevalence:.2f})")
    ax_roc.set(xlabel="false-positive rate (1 - specificity)", ylabel="true-positive rate (recall)",
               title="ROC curve", xlim=(0, 1), ylim=(0, 1.01))
    ax_pr.set(xlabel="recall (sensitivity)", ylabel="precision", title="Precision-recall curve",
              xlim=(0, 1), ylim=(0, 1.01))
    for ax in (ax_roc, ax_pr):
        ax.legend(fontsize=8, loc="lower left" if ax is ax_pr else "lower right")
        ax.set_aspect("equal")
    if operating_points:
        fig.text(0.5, -0.02, "dots: the threshold actually used", ha="center", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


_METRIC_LABELS = {
    "balanced_accuracy": "balanced accuracy",
    "f1": "F1 (IDC)",
    "roc_auc": "ROC AUC",
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
}


def plot_metric_bars(
    table: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    ax=None,
    ylim: tuple[float, float] | None = (0.0, 1.0),
    title: str | None = None,
):
    """Grouped bars: one group per model (row of ``table``), one bar per metric (column), values written on top.

    Parameters
    ----------
    table : DataFrame
        Models as rows, metrics as columns, e.g. from :func:`helpers.metrics.report_table`.
    metrics : sequence of str, optional
        Columns to show (default: all).
    ylim : (low, high) or None

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    metrics = list(metrics) if metrics is not None else list(table.columns)
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise ValueError(f"unknown metric column(s) {missing}; have {list(table.columns)}")
    n_models, n_metrics = len(table), len(metrics)
    fig, ax = _new_axes(ax, (max(5.5, 1.1 * n_models * n_metrics * 0.55 + 2), 3.8))
    width = 0.8 / max(1, n_metrics)
    x = np.arange(n_models)
    cmap = plt.get_cmap("tab10")
    for j, m in enumerate(metrics):
        vals = table[m].to_numpy(dtype=float)
        bars = ax.bar(x + (j - (n_metrics - 1) / 2) * width, vals, width * 0.95, color=cmap(j % 10),
                      label=_METRIC_LABELS.get(m, m))
        for b, v in zip(bars, vals):
            if np.isfinite(v):
                ax.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{v:.2f}", ha="center", va="bottom",
                        fontsize=7, rotation=90 if n_metrics * n_models > 12 else 0)
    ax.set_xticks(x, [str(i) for i in table.index], rotation=15 if n_models > 4 else 0)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel("score")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    return fig


def plot_cv_schemes(scores: pd.DataFrame, *, metrics: Sequence[str] | None = None, title: str | None = None):
    """Per-fold cross-validation scores of one model under several CV schemes, one panel per metric.

    Parameters
    ----------
    scores : DataFrame
        Long form with columns ``scheme``, ``fold``, ``metric``, ``score`` (:func:`helpers.evaluation.cv_compare`).
    metrics : sequence of str, optional
        Panels to draw (default: every metric in ``scores``).

    Returns
    -------
    matplotlib.figure.Figure
        Dots: folds; horizontal bar and number: the mean of the scheme.
    """
    plt = _plt()
    need = {"scheme", "fold", "metric", "score"}
    if not need <= set(scores.columns):
        raise ValueError(f"scores needs the columns {sorted(need)}; has {list(scores.columns)}")
    metrics = list(metrics) if metrics is not None else list(dict.fromkeys(scores["metric"]))
    schemes = list(dict.fromkeys(scores["scheme"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.3 * len(metrics) + 0.5, 3.8), squeeze=False,
                             layout="constrained")
    palette = ["#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]
    rng = np.random.default_rng(0)
    for ax, m in zip(axes[0], metrics):
        sub = scores[scores["metric"] == m]
        for k, s in enumerate(schemes):
            v = sub.loc[sub["scheme"] == s, "score"].to_numpy(dtype=float)
            col = palette[k % len(palette)]
            ax.scatter(k + rng.uniform(-0.08, 0.08, len(v)), v, color=col, s=28, zorder=3, edgecolors="k",
                       linewidths=0.4)
            mean = float(np.mean(v)) if len(v) else np.nan
            ax.hlines(mean, k - 0.28, k + 0.28, color=col, lw=3, zorder=2)
            ax.text(k + 0.31, mean, f"{mean:.3f}", va="center", fontsize=9)
        ax.set_xticks(range(len(schemes)), [s.replace(" ", "\n", 1) for s in schemes], fontsize=9)
        ax.set_xlim(-0.5, len(schemes) - 0.1)
        ax.set_title(_METRIC_LABELS.get(m, m))
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel("score per fold")
    if title:
        fig.suptitle(title)
    return fig


def plot_grid_heatmap(
    table: pd.DataFrame,
    *,
    ax=None,
    fmt: str = "{:.3f}",
    cmap: str = "viridis",
    score_label: str = "mean CV score",
    title: str | None = None,
):
    """Heatmap of a 2-parameter search (rows × columns), every cell annotated, the best cell framed.

    Parameters
    ----------
    table : DataFrame
        Scores with parameter values as index and columns (:func:`helpers.evaluation.grid_table`). Index and
        column names become the axis labels.
    fmt : str
        Format of the cell annotations.
    score_label : str
        Colour-bar label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Rectangle

    vals = table.to_numpy(dtype=float)
    if vals.ndim != 2 or vals.size == 0:
        raise ValueError("table must be a non-empty 2-D table of scores")
    fig, ax = _new_axes(ax, (1.0 * vals.shape[1] + 2.6, 0.65 * vals.shape[0] + 1.6))
    im = ax.imshow(vals, cmap=cmap, aspect="auto", origin="lower")
    fig.colorbar(im, ax=ax, label=score_label)

    def _fmt_param(v):
        return f"{v:g}" if isinstance(v, (int, float, np.floating, np.integer)) else str(v)

    ax.set_xticks(range(vals.shape[1]), [_fmt_param(v) for v in table.columns])
    ax.set_yticks(range(vals.shape[0]), [_fmt_param(v) for v in table.index])
    ax.set_xlabel(str(table.columns.name or "columns"))
    ax.set_ylabel(str(table.index.name or "rows"))
    finite = np.isfinite(vals)
    mid = (np.nanmin(vals) + np.nanmax(vals)) / 2 if finite.any() else 0
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if finite[i, j]:
                ax.text(j, i, fmt.format(vals[i, j]), ha="center", va="center", fontsize=8,
                        color="k" if vals[i, j] > mid else "w")
    if finite.any():
        bi, bj = np.unravel_index(np.nanargmax(vals), vals.shape)
        ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    if title:
        ax.set_title(title)
    return fig
