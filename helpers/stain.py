"""Stain colour: measuring it, normalising it (Reinhard, Macenko) and augmenting it (HED jitter).

Slides from different patients (and centres) differ in colour because staining, scanning and
section thickness differ. This module works on uint8 RGB image batches of shape (n, H, W, 3)
with numpy and scikit-image only:

* measure: :func:`optical_density`, :func:`tissue_mask`, :func:`stain_means`;
* normalise: :class:`ReinhardNormalizer`, :class:`MacenkoNormalizer` (scikit-learn transformers on
  image batches: ``fit`` learns the *target* colour from training images, ``transform`` maps any
  image to it) and the functions :func:`macenko_stain_matrix`, :func:`macenko_normalize`;
* simulate another lab: :func:`hed_shift`;
* augment (training data only): :func:`hed_jitter`, :func:`augment_training_set`,
  :class:`RandomHEDJitter`;
* compare treatments with patient-grouped cross-validation: :func:`evaluate_treatments`,
  :func:`compare_to_baseline`;
* per-patient colour and figures: :func:`patient_stain_table`, :func:`plot_stain_spread`,
  :func:`plot_patient_grid`.

References: Reinhard et al., "Color transfer between images", IEEE CG&A 2001; Macenko et al.,
"A method for normalizing histology slides for quantitative analysis", ISBI 2009; Ruifrok &
Johnston, "Quantification of histochemical staining by color deconvolution", 2001; Tellez et al.,
"Whole-slide mitosis detection in H&E breast histology using PHH3 as a reference to train
distilled stain-invariant convolutional networks", IEEE TMI 2018 (HED augmentation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "optical_density",
    "od_to_rgb",
    "tissue_mask",
    "stain_means",
    "rgb_to_lalphabeta",
    "lalphabeta_to_rgb",
    "ReinhardNormalizer",
    "macenko_stain_matrix",
    "macenko_normalize",
    "MacenkoNormalizer",
    "hed_shift",
    "hed_jitter",
    "augment_training_set",
    "RandomHEDJitter",
    "evaluate_treatments",
    "patient_stain_table",
    "plot_stain_spread",
    "plot_patient_grid",
    "compare_to_baseline",
]

_CHUNK = 512  # images processed at a time (float64 temporaries stay < ~100 MB for 50 x 50 patches)


def _mat(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m`` for x (..., k), as one wide BLAS product ``(m.T @ x.T).T`` (much faster than a stacked matmul)."""
    flat = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    return np.ascontiguousarray((m.T @ flat.T).T).reshape(x.shape[:-1] + (m.shape[1],))


def _masked_stats(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-image count (n,), mean (n, 3) and std (n, 3) of values (n, H, W, 3) over mask (n, H, W)."""
    n = len(values)
    v = values.reshape(n, -1, values.shape[-1])
    w = mask.reshape(n, -1).astype(np.float64)
    cnt = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.einsum("npc,np->nc", v, w) / cnt[:, None]
        sq = np.einsum("npc,npc,np->nc", v, v, w) / cnt[:, None]
    return cnt, mean, np.sqrt(np.maximum(sq - mean**2, 0))


def _percentile(a: np.ndarray, q, axis: int = 0) -> np.ndarray:
    """``np.percentile(a, q, axis)`` (linear interpolation) through ``np.partition``: faster on small arrays."""
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, 0)
    m = a.shape[0]
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    pos = q / 100.0 * (m - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, m - 1)
    part = np.partition(a, np.unique(np.concatenate([lo, hi])), axis=0)
    frac = (pos - lo).reshape((-1,) + (1,) * (a.ndim - 1))
    out = part[lo] * (1 - frac) + part[hi] * frac
    return out if out.shape[0] > 1 else out[0]


def _check_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 3 and images.shape[-1] == 3:
        raise ValueError("expected a batch (n, H, W, 3); for one image use image[None]")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected RGB images of shape (n, H, W, 3), got {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images, got {images.dtype}")
    return images


_OD_LUT = -np.log(np.maximum(np.arange(256, dtype=np.float64), 1.0) / 255.0)
#: scikit-image's rgb2hed works on ``log(max(I / 255, 1e-6)) / log(1e-6)`` (optical density / ln(1e6)).
_SK_LOG_LUT = np.log(np.maximum(np.arange(256) / 255.0, 1e-6)) / np.log(1e-6)


def optical_density(rgb) -> np.ndarray:
    """Optical density ``-log(I / 255)`` of RGB values (any shape (..., 3)), float64 >= 0.

    Zero intensities are treated as 1 to keep the logarithm finite. uint8 input goes through a
    256-entry lookup table (fast).
    """
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return _OD_LUT[rgb]
    return -np.log(np.clip(rgb.astype(np.float64), 1.0, 255.0) / 255.0)


def od_to_rgb(od) -> np.ndarray:
    """Inverse of :func:`optical_density`: uint8 RGB ``255 * exp(-od)``, rounded and clipped."""
    return np.clip(np.rint(255.0 * np.exp(-np.asarray(od, dtype=np.float64))), 0, 255).astype(np.uint8)


def tissue_mask(images, od_threshold: float = 0.15) -> np.ndarray:
    """Bool mask (n, H, W) of stained pixels: optical density above ``od_threshold`` in any channel.

    White glass and the white padding of edge patches are excluded (their OD is ~0).
    """
    images = _check_images(images)
    out = np.empty(images.shape[:3], dtype=bool)
    for s in range(0, len(images), _CHUNK):
        out[s:s + _CHUNK] = optical_density(images[s:s + _CHUNK]).max(axis=-1) > od_threshold
    return out


def stain_means(images, *, od_threshold: float = 0.15, min_pixels: int = 50) -> np.ndarray:
    """Mean haematoxylin, eosin and DAB amount per image, by colour deconvolution.

    Computes :func:`skimage.color.rgb2hed` (Ruifrok & Johnston stain vectors; same numbers,
    through a lookup table) and averages over the tissue pixels of each image (:func:`tissue_mask`). Returns float (n, 3): columns H, E, DAB
    (in scikit-image's units); NaN rows for images with fewer than ``min_pixels`` tissue pixels.
    On H&E slides the DAB channel holds no stain: it collects what the H and E vectors do not
    explain (a measure of how far a slide's colours are from the reference vectors).
    """
    from skimage.color import hed_from_rgb

    images = _check_images(images)
    out = np.full((len(images), 3), np.nan)
    for s in range(0, len(images), _CHUNK):
        batch = images[s:s + _CHUNK]
        mask = tissue_mask(batch, od_threshold)
        hed = np.maximum(_mat(_SK_LOG_LUT[batch], hed_from_rgb), 0)  # == skimage.color.rgb2hed(batch)
        count, means, _ = _masked_stats(hed, mask)
        means[count < min_pixels] = np.nan
        out[s:s + _CHUNK] = means
    return out


# --------------------------------------------------------------------------------------------
# Reinhard
# --------------------------------------------------------------------------------------------


# Reinhard et al. 2001: RGB -> LMS cone space, log10, then a decorrelating rotation to l-alpha-beta.
_RGB_TO_LMS = np.array([[0.3811, 0.5783, 0.0402],
                        [0.1967, 0.7244, 0.0782],
                        [0.0241, 0.1288, 0.8444]])
_LOG_LMS_TO_LAB = np.diag([1 / np.sqrt(3), 1 / np.sqrt(6), 1 / np.sqrt(2)]) @ np.array(
    [[1.0, 1.0, 1.0], [1.0, 1.0, -2.0], [1.0, -1.0, 0.0]])
_LAB_TO_LOG_LMS = np.linalg.inv(_LOG_LMS_TO_LAB)
_LMS_TO_RGB = np.linalg.inv(_RGB_TO_LMS)


def rgb_to_lalphabeta(rgb) -> np.ndarray:
    """Reinhard's decorrelated colour space l-alpha-beta of uint8 RGB (..., 3): float32 (..., 3).

    ``l`` is achromatic (lightness), ``alpha`` yellow-blue, ``beta`` red-green; the three are nearly
    uncorrelated in natural images, so each can be shifted and scaled on its own.
    """
    lms = _mat(np.asarray(rgb, dtype=np.float32), (_RGB_TO_LMS.T / 255.0).astype(np.float32))
    return _mat(np.log10(np.maximum(lms, np.float32(1e-4))), _LOG_LMS_TO_LAB.T.astype(np.float32))


def lalphabeta_to_rgb(lab) -> np.ndarray:
    """Inverse of :func:`rgb_to_lalphabeta`: uint8 RGB (..., 3), rounded and clipped."""
    lms = np.float32(10.0) ** _mat(np.asarray(lab, dtype=np.float32), _LAB_TO_LOG_LMS.T.astype(np.float32))
    return np.clip(np.rint(_mat(lms, (_LMS_TO_RGB.T * 255.0).astype(np.float32))), 0, 255).astype(np.uint8)


def _lab_stats_batch(batch, od_threshold, min_pixels):
    """l-alpha-beta (n, H, W, 3), tissue mask (n, H, W) and per-image tissue mean, std (n, 3) of one batch.

    Images with fewer than ``min_pixels`` tissue pixels use all their pixels for the statistics.
    """
    lab = rgb_to_lalphabeta(batch)
    mask = tissue_mask(batch, od_threshold)
    use = mask.copy()
    use[mask.sum(axis=(1, 2)) < min_pixels] = True
    _, mean, std = _masked_stats(lab, use)
    return lab, mask, mean, std


class ReinhardNormalizer(TransformerMixin, BaseEstimator):
    """Reinhard colour normalisation: match each image's colour mean and spread to a target.

    Works on uint8 image batches (n, H, W, 3) and returns uint8 batches of the same shape, so
    it can stand first in a :class:`sklearn.pipeline.Pipeline` before a feature extractor.

    Colours are expressed in Reinhard's l-alpha-beta space (:func:`rgb_to_lalphabeta`).
    ``fit(X)`` learns the target as the median, over the images of ``X``, of the per-image
    tissue mean and std of l, alpha, beta (the colour of a *typical* training image; nothing of
    the test images is used). ``transform(X)`` shifts and scales each image's channels:
    ``(lab - mean_image) / std_image * std_target + mean_target``.

    Parameters
    ----------
    od_threshold : float
        Tissue pixels (used for the statistics) have an optical density above this in some channel.
    min_pixels : int
        Images with fewer tissue pixels use all their pixels for the statistics.
    preserve_background : bool
        Leave non-tissue pixels (glass, padding) unchanged, so white stays white.

    Attributes
    ----------
    target_mean_, target_std_ : float arrays (3,), the target l-alpha-beta statistics.
    """

    def __init__(self, od_threshold: float = 0.15, min_pixels: int = 50, preserve_background: bool = True):
        self.od_threshold = od_threshold
        self.min_pixels = min_pixels
        self.preserve_background = preserve_background

    def fit(self, X, y=None):
        X = _check_images(X)
        stats = [_lab_stats_batch(X[s:s + _CHUNK], self.od_threshold, self.min_pixels)[2:]
                 for s in range(0, len(X), _CHUNK)]
        mean = np.concatenate([m for m, _ in stats])
        std = np.concatenate([sd for _, sd in stats])
        self.target_mean_ = np.median(mean, axis=0)
        self.target_std_ = np.median(std, axis=0)
        return self

    def transform(self, X, groups=None):
        """Normalise uint8 images (n, H, W, 3); returns uint8 (n, H, W, 3).

        ``groups``: optional (n,) ids (e.g. patients or slides). Given, the source statistics are
        computed per group (all tissue pixels of the group's images) instead of per image: a
        slide-level normalisation that keeps the colour differences *between* patches of one slide
        (a patch full of nuclei stays darker than a patch of stroma). Per-image statistics force
        every patch to the same mean colour, whatever its content.
        """
        if not hasattr(self, "target_mean_"):
            raise RuntimeError("ReinhardNormalizer is not fitted: call fit(training_images) first")
        X = _check_images(X)
        out = np.empty_like(X)
        group_stats = None
        if groups is not None:
            groups = np.asarray(groups)
            if len(groups) != len(X):
                raise ValueError("groups must have one entry per image")
            n = len(X)
            cnt, s1, s2 = np.empty(n), np.empty((n, 3)), np.empty((n, 3))
            for s in range(0, n, _CHUNK):
                batch = X[s:s + _CHUNK]
                c, m, sd = _masked_stats(rgb_to_lalphabeta(batch), tissue_mask(batch, self.od_threshold))
                cnt[s:s + _CHUNK], s1[s:s + _CHUNK], s2[s:s + _CHUNK] = c, np.nan_to_num(m) * c[:, None], \
                    np.nan_to_num(sd**2 + m**2) * c[:, None]
            _, inv = np.unique(groups, return_inverse=True)
            gc = np.bincount(inv, cnt)
            gm = np.stack([np.bincount(inv, s1[:, k]) for k in range(3)], axis=1) / np.maximum(gc, 1)[:, None]
            g2 = np.stack([np.bincount(inv, s2[:, k]) for k in range(3)], axis=1) / np.maximum(gc, 1)[:, None]
            group_stats = (inv, gc, gm, np.sqrt(np.maximum(g2 - gm**2, 0)))
        for s in range(0, len(X), _CHUNK):
            batch = X[s:s + _CHUNK]
            lab, mask, mean, std = _lab_stats_batch(batch, self.od_threshold, self.min_pixels)
            if group_stats is not None:
                inv, gc, gm, gs = group_stats
                gi = inv[s:s + _CHUNK]
                ok = gc[gi] >= self.min_pixels
                mean = np.where(ok[:, None], gm[gi], mean)
                std = np.where(ok[:, None], gs[gi], std)
            scale = (self.target_std_ / np.maximum(std, 1e-6)).astype(np.float32)
            shift = (self.target_mean_ - mean * scale).astype(np.float32)
            rgb = lalphabeta_to_rgb(lab * scale[:, None, None, :] + shift[:, None, None, :])
            if self.preserve_background:
                rgb[~mask] = batch[~mask]
            out[s:s + _CHUNK] = rgb
        return out


# --------------------------------------------------------------------------------------------
# Macenko
# --------------------------------------------------------------------------------------------


def macenko_stain_matrix(od_pixels, *, alpha: float = 1.0, min_pixels: int = 100,
                         min_angle_deg: float = 5.0) -> np.ndarray | None:
    """Estimate the H and E stain vectors from optical densities (Macenko et al. 2009).

    ``od_pixels``: float (m, 3) optical densities of *tissue* pixels. The pixels are projected
    onto the plane of the two main directions of their (centred) covariance; the robust
    extreme angles (``alpha`` and ``100 - alpha`` percentiles) in that plane give the two stain
    vectors. The one with the larger red-channel OD is haematoxylin (blue-purple absorbs red).

    Returns a float (3, 2) matrix of unit columns [H, E], or ``None`` when the estimate is
    degenerate: fewer than ``min_pixels`` pixels, a vector with a clearly negative component
    (below -0.1; smaller negatives are clipped to 0 as estimation noise), or the two
    vectors closer than ``min_angle_deg`` (one stain only, or a white patch).
    """
    od = np.asarray(od_pixels, dtype=np.float64)
    if od.ndim != 2 or od.shape[1] != 3:
        raise ValueError(f"od_pixels must have shape (m, 3), got {od.shape}")
    if len(od) < min_pixels:
        return None
    centred = od - od.mean(axis=0)
    _, vecs = np.linalg.eigh(centred.T @ centred)
    plane = vecs[:, [2, 1]]  # the two largest eigenvalues
    plane *= np.where(plane.sum(axis=0) < 0, -1.0, 1.0)  # point into the positive octant
    proj = od @ plane
    phi = np.arctan2(proj[:, 1], proj[:, 0])
    lo, hi = _percentile(phi, [alpha, 100 - alpha])
    v1 = plane @ np.array([np.cos(lo), np.sin(lo)])
    v2 = plane @ np.array([np.cos(hi), np.sin(hi)])
    if v1[0] < v2[0]:
        v1, v2 = v2, v1
    stains = np.stack([v1, v2], axis=1)
    stains /= np.linalg.norm(stains, axis=0, keepdims=True)
    if np.any(stains < -0.1):  # a clearly negative absorption: not a stain
        return None
    stains = np.clip(stains, 0, None)  # tiny negatives are estimation noise
    stains /= np.maximum(np.linalg.norm(stains, axis=0, keepdims=True), 1e-12)
    angle = np.degrees(np.arccos(np.clip(stains[:, 0] @ stains[:, 1], -1, 1)))
    if angle < min_angle_deg:
        return None
    return stains


def _concentrations(od: np.ndarray, stains: np.ndarray) -> np.ndarray:
    """Least-squares stain amounts (m, 2) of optical densities (m, 3) for stain matrix (3, 2)."""
    return od @ np.linalg.pinv(stains).T


def _macenko_apply(od, stains, src_max, target_stains, target_max):
    """Re-mix optical densities (m, 3) with the target stains; returns uint8 RGB (m, 3)."""
    conc = _concentrations(od, stains) * (target_max / src_max)
    return od_to_rgb(np.clip(conc, 0, None) @ target_stains.T)


def macenko_normalize(images, target_stains: np.ndarray, target_max: np.ndarray, *, groups=None,
                      od_threshold: float = 0.15, alpha: float = 1.0, min_pixels: int = 100,
                      percentile: float = 99.0, preserve_background: bool = True,
                      max_group_pixels: int = 100_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Map each image's stains to the target stain vectors and amounts (Macenko et al. 2009).

    For every image: estimate its own stain matrix (:func:`macenko_stain_matrix` on its tissue
    pixels), unmix every pixel into H and E amounts, rescale the amounts so that their
    ``percentile`` matches ``target_max`` (2,), and re-mix them with ``target_stains`` (3, 2).

    ``groups``: optional (n,) ids (patients, slides). Given, the stain matrix and the amounts'
    percentile are estimated once per group, from the pooled tissue pixels of its images (at most
    ``max_group_pixels``, drawn with ``seed``): more pixels, a steadier estimate, fewer fallbacks,
    and the differences between patches of one slide are kept.

    Degenerate images or groups (mostly white background, a single stain, too little tissue)
    cannot give a stain estimate. **Fallback:** they are returned unchanged, and flagged.
    With ``preserve_background`` the non-tissue pixels (OD below ``od_threshold`` in every
    channel) keep their colour, so glass and padding stay white.

    Returns ``(normalised uint8 (n, H, W, 3), fell_back bool (n,))``.
    """
    images = _check_images(images)
    target_stains = np.asarray(target_stains, float)
    target_max = np.asarray(target_max, float)
    out = images.copy()
    fell_back = np.zeros(len(images), dtype=bool)
    if groups is None:
        units = [np.array([i]) for i in range(len(images))]
    else:
        groups = np.asarray(groups)
        if len(groups) != len(images):
            raise ValueError("groups must have one entry per image")
        _, inv = np.unique(groups, return_inverse=True)
        units = [np.flatnonzero(inv == k) for k in range(inv.max() + 1)] if len(inv) else []
    rng = np.random.default_rng(seed)
    for idx in units:
        od = optical_density(images[idx].reshape(-1, 3))
        tissue = od.max(axis=1) > od_threshold
        od_t = od[tissue]
        if len(od_t) > max_group_pixels:
            od_t = od_t[rng.choice(len(od_t), max_group_pixels, replace=False)]
        stains = macenko_stain_matrix(od_t, alpha=alpha, min_pixels=min_pixels)
        src_max = None if stains is None else _percentile(_concentrations(od_t, stains), percentile, axis=0)
        if stains is None or np.any(src_max <= 1e-6):
            fell_back[idx] = True
            continue
        new = _macenko_apply(od, stains, src_max, target_stains, target_max)
        flat = out[idx].reshape(-1, 3)
        if preserve_background:
            flat[tissue] = new[tissue]
        else:
            flat = new
        out[idx] = flat.reshape(out[idx].shape)
    return out, fell_back


class MacenkoNormalizer(TransformerMixin, BaseEstimator):
    """Macenko stain normalisation as a scikit-learn transformer on uint8 image batches (n, H, W, 3).

    ``fit(X)`` estimates the *target* stain matrix and the target maximal stain amounts from
    the tissue pixels of the training images pooled together (at most ``max_fit_pixels`` of
    them, drawn with ``seed``); ``transform(X)`` applies :func:`macenko_normalize` image by image.

    Fallback for degenerate images (white background, a single stain): they are returned
    unchanged; after each ``transform`` the bool array ``fallback_`` (n,) says which ones.
    ``preserve_background``: keep the colour of non-tissue pixels (white stays white).

    Attributes
    ----------
    stains_ : float (3, 2), target stain vectors [H, E] (unit columns, RGB optical density).
    max_concentrations_ : float (2,), target ``percentile`` of the H and E amounts.
    fallback_ : bool (n,), images left unchanged by the last ``transform``.
    """

    def __init__(self, od_threshold: float = 0.15, alpha: float = 1.0, min_pixels: int = 100,
                 percentile: float = 99.0, max_fit_pixels: int = 200_000, seed: int = 0,
                 preserve_background: bool = True):
        self.preserve_background = preserve_background
        self.od_threshold = od_threshold
        self.alpha = alpha
        self.min_pixels = min_pixels
        self.percentile = percentile
        self.max_fit_pixels = max_fit_pixels
        self.seed = seed

    def fit(self, X, y=None):
        X = _check_images(X)
        od = optical_density(X.reshape(-1, 3))
        od = od[od.max(axis=1) > self.od_threshold]
        if len(od) > self.max_fit_pixels:
            od = od[np.random.default_rng(self.seed).choice(len(od), self.max_fit_pixels, replace=False)]
        stains = macenko_stain_matrix(od, alpha=self.alpha, min_pixels=self.min_pixels)
        if stains is None:
            raise ValueError("cannot estimate target stains: the training images hold too little stained tissue")
        self.stains_ = stains
        self.max_concentrations_ = np.percentile(_concentrations(od, stains), self.percentile, axis=0)
        return self

    def transform(self, X, groups=None):
        """Normalise uint8 images (n, H, W, 3); returns uint8 (n, H, W, 3).

        ``groups``: optional (n,) ids; given, stains are estimated per group (e.g. per patient)
        from the pooled tissue pixels instead of per image (see :func:`macenko_normalize`).
        """
        if not hasattr(self, "stains_"):
            raise RuntimeError("MacenkoNormalizer is not fitted: call fit(training_images) first")
        out, self.fallback_ = macenko_normalize(
            X, self.stains_, self.max_concentrations_, groups=groups, od_threshold=self.od_threshold,
            alpha=self.alpha, min_pixels=self.min_pixels, percentile=self.percentile,
            preserve_background=self.preserve_background, seed=self.seed)
        return out


# --------------------------------------------------------------------------------------------
# HED augmentation (training data only)
# --------------------------------------------------------------------------------------------


def hed_shift(images, scale=(1.0, 1.0, 1.0), bias=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Change the amount of each stain: ``amount * scale + bias`` in HED space, per image or for all.

    Each image is unmixed into haematoxylin, eosin and DAB amounts with scikit-image's
    Ruifrok-Johnston vectors (``skimage.color.hed_from_rgb``, on optical densities), changed, and
    re-mixed to RGB. ``bias`` is in optical-density units and applied to stained pixels only, so
    the glass stays white.

    ``images``: uint8 (n, H, W, 3); ``scale``, ``bias``: (3,) for all images or (n, 3) per image.
    Returns uint8 (n, H, W, 3). ``hed_shift(x, scale=(1.3, 0.8, 1))`` mimics a lab that stains
    nuclei darker and cytoplasm paler.
    """
    from skimage.color import hed_from_rgb, rgb_from_hed

    images = _check_images(images)
    n = len(images)
    a = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n, 3))
    b = np.broadcast_to(np.asarray(bias, dtype=np.float64), (n, 3))
    out = np.empty_like(images)
    for s in range(0, n, _CHUNK):
        od = optical_density(images[s:s + _CHUNK])
        stained = (od.max(axis=-1, keepdims=True) > 0.05).astype(float)
        hed = _mat(od, hed_from_rgb)
        hed = hed * a[s:s + _CHUNK, None, None, :] + b[s:s + _CHUNK, None, None, :] * stained
        out[s:s + _CHUNK] = od_to_rgb(np.clip(_mat(hed, rgb_from_hed), 0, None))
    return out


def hed_jitter(images, *, sigma: float = 0.05, bias: float = 0.02, seed: int | np.random.Generator = 0
               ) -> np.ndarray:
    """Random stain variation in HED space (Tellez et al. 2018), one random draw per image.

    Each stain amount of an image becomes ``amount * a + b`` with ``a ~ U(1 - sigma, 1 + sigma)`` and
    ``b ~ U(-bias, bias)`` drawn per image and stain (see :func:`hed_shift`; ``b`` in
    optical-density units, stained pixels only, so the glass stays white).

    **Use on training images only**: it simulates the colour spread of other patients/centres so
    the model learns to ignore it; test images must stay as they are.

    ``images``: uint8 (n, H, W, 3). ``seed``: int or numpy Generator (same seed, same result).
    Returns uint8 (n, H, W, 3).
    """
    images = _check_images(images)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(images)
    a = rng.uniform(1 - sigma, 1 + sigma, size=(n, 3))
    b = rng.uniform(-bias, bias, size=(n, 3))
    return hed_shift(images, a, b)


def augment_training_set(images, *arrays, n_copies: int = 1, seed: int = 0, **jitter_kw):
    """Training images plus ``n_copies`` HED-jittered copies, with aligned labels/groups.

    ``images``: uint8 (n, H, W, 3); ``arrays``: any number of (n, ...) arrays (labels, patient
    ids, ...) that are repeated to stay aligned. ``jitter_kw`` go to :func:`hed_jitter`.
    Returns ``(images_aug, *arrays_aug)`` with ``n * (1 + n_copies)`` rows: the originals first.
    Call it on the training part of a split only, never on test data.
    """
    images = _check_images(images)
    rng = np.random.default_rng(seed)
    parts = [images] + [hed_jitter(images, seed=rng, **jitter_kw) for _ in range(n_copies)]
    out = [np.concatenate(parts)]
    for arr in arrays:
        arr = np.asarray(arr)
        if len(arr) != len(images):
            raise ValueError("every array must have one row per image")
        out.append(np.concatenate([arr] * (1 + n_copies)))
    return tuple(out)


class RandomHEDJitter(TransformerMixin, BaseEstimator):
    """HED colour augmentation that acts **at fit time only** (a scikit-learn transformer).

    In a :class:`~sklearn.pipeline.Pipeline`, ``fit`` calls ``fit_transform`` on this step, which
    returns jittered copies of the training images (:func:`hed_jitter`, same number of rows, a
    new draw each time with ``seed``); ``transform`` — used by ``predict`` and ``score`` on
    test images — returns the images **unchanged**. So the model is trained on colour-varied
    images, and test images are never altered.

    Parameters: ``sigma``, ``bias`` as in :func:`hed_jitter`; ``seed`` (int).
    """

    def __init__(self, sigma: float = 0.05, bias: float = 0.02, seed: int = 0):
        self.sigma = sigma
        self.bias = bias
        self.seed = seed

    def fit(self, X, y=None):
        _check_images(X)
        self.n_fit_ = len(X)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        self.fit(X, y)
        return hed_jitter(X, sigma=self.sigma, bias=self.bias, seed=self.seed)

    def transform(self, X):
        return _check_images(X)


# --------------------------------------------------------------------------------------------
# comparing treatments
# --------------------------------------------------------------------------------------------


def evaluate_treatments(make_model: Callable[[], object], treatments: Mapping[str, Mapping[str, np.ndarray]],
                        y, groups, *, n_splits: int = 5, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patient-grouped cross-validation of one model under several colour treatments.

    Parameters
    ----------
    make_model : function returning a fresh (unfitted) scikit-learn classifier; ROC AUC uses its
        ``predict_proba`` or, without it, its ``decision_function``; the other scores its ``predict``.
    treatments : ``{name: {"train": X, "test": X, "extra": X_extra (optional)}}``; each X is a
        feature matrix (n, p) with rows aligned with ``y``. The model is fitted on the ``train``
        rows of the training patients and scored on the ``test`` rows of the held-out patients.
        ``extra`` holds additional training rows aligned with ``y`` (e.g. the features of a
        HED-jittered copy of every image): the extra rows of the training patients are added to
        the fit, the extra rows of the test patients are never used.
    y : (n,) 0/1 labels; groups : (n,) patient ids.
    n_splits : folds of :class:`~sklearn.model_selection.GroupKFold` (same folds for every treatment).

    Returns
    -------
    ``(per_fold, summary)``: per-fold scores (treatment, fold, balanced_accuracy, f1, roc_auc) and
    their mean and std per treatment (rows in the order of ``treatments``).
    """
    from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import GroupKFold

    y = np.asarray(y)
    groups = np.asarray(groups)
    folds = list(GroupKFold(n_splits=n_splits).split(np.zeros(len(y)), y, groups))
    rows = []
    jobs = [(name, k, tr, te) for name in treatments for k, (tr, te) in enumerate(folds)]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="cross-validation")
    for name, k, tr, te in jobs:
        t = treatments[name]
        X_fit, y_fit = np.asarray(t["train"])[tr], y[tr]
        if t.get("extra") is not None:
            X_fit = np.concatenate([X_fit, np.asarray(t["extra"])[tr]])
            y_fit = np.concatenate([y_fit, y[tr]])
        model = make_model().fit(X_fit, y_fit)
        X_te = np.asarray(t["test"])[te]
        pred = model.predict(X_te)
        score = model.predict_proba(X_te)[:, 1] if hasattr(model, "predict_proba") else model.decision_function(X_te)
        auc = roc_auc_score(y[te], score) if len(np.unique(y[te])) == 2 else np.nan
        rows.append((name, k, balanced_accuracy_score(y[te], pred), f1_score(y[te], pred, zero_division=0), auc))
    per_fold = pd.DataFrame(rows, columns=["treatment", "fold", "balanced_accuracy", "f1", "roc_auc"])
    summary = per_fold.groupby("treatment", sort=False)[["balanced_accuracy", "f1", "roc_auc"]].agg(["mean", "std"])
    return per_fold, summary


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def patient_stain_table(means: np.ndarray, patients, labels=None) -> pd.DataFrame:
    """Per-patient mean of per-patch stain amounts (from :func:`stain_means`).

    ``means``: float (n, 3) H, E, DAB per patch (NaN rows ignored); ``patients``: (n,) ids;
    ``labels``: optional (n,) 0/1 to add the patient's IDC fraction. Returns a DataFrame indexed by
    patient with columns ``H``, ``E``, ``DAB``, ``n_patches`` (and ``idc_fraction``).
    """
    df = pd.DataFrame(np.asarray(means, float), columns=["H", "E", "DAB"])
    df["patient"] = np.asarray(patients).astype(str)
    df["n_patches"] = 1
    if labels is not None:
        df["idc_fraction"] = np.asarray(labels, float)
    agg = {"H": "mean", "E": "mean", "DAB": "mean", "n_patches": "sum"}
    if labels is not None:
        agg["idc_fraction"] = "mean"
    return df.groupby("patient", sort=True).agg(agg)


def plot_stain_spread(tables: Mapping[str, pd.DataFrame], ax=None, *, x: str = "H", y: str = "E",
                      title: str | None = None):
    """Scatter of per-patient mean stain amounts, one colour per table (e.g. raw vs normalised).

    ``tables``: ``{name: DataFrame}`` from :func:`patient_stain_table`. Each dot is one patient; a
    tight cloud means patients look alike in colour. The legend gives the spread (std) of each
    axis over patients. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
    for k, (name, t) in enumerate(tables.items()):
        ax.scatter(t[x], t[y], s=12 + 40 * np.sqrt(t["n_patches"] / t["n_patches"].max()), alpha=0.6,
                   color=plt.get_cmap("tab10")(k), edgecolor="none",
                   label=f"{name} (std {x} {t[x].std():.4f}, {y} {t[y].std():.4f})")
    ax.set(xlabel=f"mean {x} per patient (colour deconvolution)", ylabel=f"mean {y} per patient",
           title=title or "Colour differs between patients (one dot = one patient)")
    ax.legend(fontsize="small")
    return ax


def plot_patient_grid(images, patients, *, labels=None, label: int | None = 1, n_per_patient: int = 6,
                      order: Sequence[str] | None = None, max_patients: int = 8, spread: bool = False,
                      seed: int = 0, size: float = 1.1, title: str | None = None):
    """Grid of patches of one tissue type: one row per patient, ``n_per_patient`` random patches each.

    ``images``: uint8 (n, H, W, 3); ``patients``: (n,) ids; ``labels``/``label``: keep only patches
    with this label (e.g. 1 = IDC) so rows differ by patient, not by tissue type. ``order``:
    patient ids to show, in this order (default: sorted ids); patients with fewer than
    ``n_per_patient`` such patches are skipped; at most ``max_patients`` rows: the first ones, or,
    with ``spread=True``, evenly spaced along ``order`` (e.g. from palest to darkest). The same arguments
    give the same patches, so grids of raw and normalised images can be compared.
    Returns ``(fig, axes)``.
    """
    import matplotlib.pyplot as plt

    images = _check_images(images)
    patients = np.asarray(patients).astype(str)
    keep = np.ones(len(images), bool) if labels is None or label is None else np.asarray(labels) == label
    candidates = sorted(np.unique(patients[keep]), key=lambda s: (len(s), s)) if order is None else \
        [str(p) for p in order]
    eligible = [(p, idx) for p in candidates
                if len(idx := np.flatnonzero(keep & (patients == p))) >= n_per_patient]
    if spread and len(eligible) > max_patients:
        eligible = [eligible[int(i)] for i in np.linspace(0, len(eligible) - 1, max_patients).round()]
    chosen = []
    for k, (p, idx) in enumerate(eligible[:max_patients]):
        rng = np.random.default_rng([seed, k, len(idx)])
        chosen.append((p, np.sort(rng.choice(idx, n_per_patient, replace=False))))
    if not chosen:
        raise ValueError(f"no patient has {n_per_patient} patches of the requested type")
    fig, axes = plt.subplots(len(chosen), n_per_patient, figsize=(size * n_per_patient + 0.9, size * len(chosen) + 0.4),
                             squeeze=False)
    for r, (p, idx) in enumerate(chosen):
        for c, i in enumerate(idx):
            ax = axes[r, c]
            ax.imshow(images[i], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(p, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig, axes


def compare_to_baseline(per_fold: pd.DataFrame, baseline: str, metric: str = "balanced_accuracy",
                        treatments: Sequence[str] | None = None, min_difference: float = 0.01) -> pd.DataFrame:
    """Paired, fold-by-fold differences to a baseline treatment (from :func:`evaluate_treatments`).

    Returns one row per treatment with ``mean_difference`` and ``std_difference`` of ``metric``
    (treatment minus baseline, over folds), ``folds_better`` (out of ``n_folds``) and a plain
    ``verdict``: "helped" when the mean difference is above ``min_difference`` and at most one
    fold is worse, "hurt" for the mirror case, "no clear effect" otherwise. The folds are the same
    patients for every treatment, so the differences are paired.
    """
    base = per_fold[per_fold.treatment == baseline].set_index("fold")[metric]
    names = [t for t in per_fold.treatment.unique() if t != baseline] if treatments is None else treatments
    rows = []
    for name in names:
        d = per_fold[per_fold.treatment == name].set_index("fold")[metric] - base
        d = d.dropna()
        k = len(d)
        better, worse = int((d > 0).sum()), int((d < 0).sum())
        if d.mean() > min_difference and worse <= 1:
            verdict = "helped"
        elif d.mean() < -min_difference and better <= 1:
            verdict = "hurt"
        else:
            verdict = "no clear effect"
        rows.append((name, d.mean(), d.std(), better, k, verdict))
    return pd.DataFrame(rows, columns=["treatment", "mean_difference", "std_difference", "folds_better", "n_folds",
                                       "verdict"]).set_index("treatment")
