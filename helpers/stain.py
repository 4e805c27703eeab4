"""Stain colour of uint8 RGB batches (n, H, W, 3): measure it (optical density, colour deconvolution, Ruifrok &
Johnston 2001), normalise it (Reinhard et al. 2001, Macenko et al. 2009), augment it (HED jitter, Tellez et al. 2018).
Per-patient normalisation passes ``groups`` (a patient id per image): statistics pool the patient's tissue pixels, so
a patch full of nuclei stays darker than a patch of stroma of the same slide."""

from __future__ import annotations

import numpy as np
from skimage.color import hed_from_rgb, rgb2hed, rgb_from_hed
from sklearn.base import BaseEstimator, TransformerMixin

from .features import check_images

__all__ = ["optical_density", "od_to_rgb", "tissue_mask", "stain_means", "rgb_to_lalphabeta", "lalphabeta_to_rgb",
           "lab_stats", "ReinhardNormalizer", "macenko_stain_matrix", "MacenkoNormalizer", "hed_shift", "hed_jitter"]

_CHUNK = 512  # images at a time: float temporaries stay small


def _units(groups, n: int) -> np.ndarray:
    """Index (n,) of each image's unit: its group, or the image itself when ``groups`` is None."""
    if groups is None:
        return np.arange(n)
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have one entry per image ({n}), got shape {groups.shape}")
    return np.unique(groups, return_inverse=True)[1].ravel()


def optical_density(rgb) -> np.ndarray:
    """Optical density ``-log(I / 255)`` (light absorbed by the stains) of RGB values (..., 3): float64 (..., 3) >= 0.
    Zero intensities count as 1 so that the logarithm stays finite."""
    return -np.log(np.clip(np.asarray(rgb, dtype=np.float64), 1.0, 255.0) / 255.0)


def od_to_rgb(od) -> np.ndarray:
    """Inverse of :func:`optical_density`: uint8 RGB ``255 * exp(-od)`` (..., 3), rounded and clipped."""
    return np.clip(np.rint(255.0 * np.exp(-np.asarray(od, dtype=np.float64))), 0, 255).astype(np.uint8)


def tissue_mask(images, od_threshold: float = 0.15) -> np.ndarray:
    """Bool (n, H, W): stained pixels of uint8 images (n, H, W, 3), optical density above ``od_threshold`` in some
    channel (glass and the white padding of edge patches are excluded)."""
    return (check_images(images) < 255.0 * np.exp(-od_threshold)).any(axis=-1)  # OD > t  <=>  I < 255 exp(-t)


def stain_means(images, *, od_threshold: float = 0.15, min_pixels: int = 50) -> np.ndarray:
    """Mean H, E and DAB amount (``skimage.color.rgb2hed``) of the tissue pixels of uint8 images (n, H, W, 3): float
    (n, 3), NaN rows for images with fewer than ``min_pixels`` of them. On H&E, DAB is what H and E do not explain."""
    images = check_images(images)
    out = np.full((len(images), 3), np.nan)
    for s in range(0, len(images), _CHUNK):
        batch = images[s:s + _CHUNK]
        mask, hed = tissue_mask(batch, od_threshold), rgb2hed(batch.reshape(-1, batch.shape[2], 3)).reshape(batch.shape)
        count = mask.sum(axis=(1, 2))
        means = (hed * mask[..., None]).sum(axis=(1, 2)) / np.maximum(count, 1)[:, None]
        out[s:s + _CHUNK] = np.where(count[:, None] < min_pixels, np.nan, means)
    return out


# ---- Reinhard: RGB -> LMS cone space -> log10 -> decorrelating rotation (Reinhard et al. 2001) ----------------------
_RGB_TO_LMS = np.array([[0.3811, 0.5783, 0.0402], [0.1967, 0.7244, 0.0782], [0.0241, 0.1288, 0.8444]])
_LOG_LMS_TO_LAB = np.diag([1 / np.sqrt(3), 1 / np.sqrt(6), 1 / np.sqrt(2)]) @ np.array(
    [[1.0, 1.0, 1.0], [1.0, 1.0, -2.0], [1.0, -1.0, 0.0]])


def rgb_to_lalphabeta(rgb) -> np.ndarray:
    """Reinhard's l-alpha-beta colour space of uint8 RGB (..., 3): float64 (..., 3). Lightness ``l``, yellow-blue
    ``alpha`` and red-green ``beta`` are nearly uncorrelated: each channel can be shifted and scaled on its own."""
    lms = np.asarray(rgb, dtype=np.float64) / 255.0 @ _RGB_TO_LMS.T
    return np.log10(np.maximum(lms, 1e-4)) @ _LOG_LMS_TO_LAB.T


def lalphabeta_to_rgb(lab) -> np.ndarray:
    """Inverse of :func:`rgb_to_lalphabeta`: uint8 RGB (..., 3), rounded and clipped."""
    lms = 10.0 ** (np.asarray(lab, dtype=np.float64) @ np.linalg.inv(_LOG_LMS_TO_LAB).T)
    return np.clip(np.rint(lms @ np.linalg.inv(_RGB_TO_LMS).T * 255.0), 0, 255).astype(np.uint8)


def lab_stats(images, groups=None, *, od_threshold: float = 0.15, min_pixels: int = 50, mask=None):
    """Mean and std (float (k, 3)) of l, alpha, beta over the tissue pixels of each image (uint8 (n, H, W, 3)), or
    of each group's images when ``groups`` (n,) is given (rows in ``np.unique`` order). ``mask``: bool (n, H, W)
    pixels to use (default :func:`tissue_mask`); a unit with fewer than ``min_pixels`` of them uses all its pixels."""
    images = check_images(images)
    units = _units(groups, len(images))
    mask = tissue_mask(images, od_threshold) if mask is None else np.array(mask, dtype=bool)
    k = units.max() + 1 if len(units) else 0
    mask[(np.bincount(units, mask.sum(axis=(1, 2)), minlength=k) < min_pixels)[units]] = True  # little tissue: all
    sums = np.zeros((k, 7))  # pixel count, sums of l, alpha, beta, sums of their squares
    for s in range(0, len(images), _CHUNK):
        lab, m = rgb_to_lalphabeta(images[s:s + _CHUNK]), mask[s:s + _CHUNK, ..., None]
        np.add.at(sums, units[s:s + _CHUNK], np.concatenate(
            [m.sum(axis=(1, 2)), (lab * m).sum(axis=(1, 2)), (lab ** 2 * m).sum(axis=(1, 2))], axis=1))
    mean = sums[:, 1:4] / sums[:, :1]
    return mean, np.sqrt(np.maximum(sums[:, 4:] / sums[:, :1] - mean ** 2, 0))


class ReinhardNormalizer(TransformerMixin, BaseEstimator):
    """Reinhard normalisation: match the l-alpha-beta mean and std of each patient (or image) to a target.

    ``fit(X, groups=...)``: target = median over reference patients (images without ``groups``) of their pooled
    tissue mean and std (:func:`lab_stats`), ``target_mean_``, ``target_std_`` float (3,). ``transform(X, groups=...)``
    measures each patient the same way and maps ``(lab - mean_src) / std_src * std_target + mean_target``; with
    ``preserve_background`` non-tissue pixels keep their colour (glass stays white).
    """

    def __init__(self, od_threshold: float = 0.15, min_pixels: int = 50, preserve_background: bool = True):
        self.od_threshold, self.min_pixels, self.preserve_background = od_threshold, min_pixels, preserve_background

    def fit(self, X, y=None, groups=None):
        mean, std = lab_stats(X, groups, od_threshold=self.od_threshold, min_pixels=self.min_pixels)
        self.target_mean_, self.target_std_ = np.median(mean, axis=0), np.median(std, axis=0)
        return self

    def transform(self, X, groups=None):
        """Normalise uint8 images (n, H, W, 3) -> uint8 (n, H, W, 3); ``groups``: (n,) patient ids (recommended)."""
        if not hasattr(self, "target_mean_"):
            raise RuntimeError("ReinhardNormalizer is not fitted: call fit(reference_images, groups=...) first")
        X = check_images(X)
        units, mask = _units(groups, len(X)), tissue_mask(X, self.od_threshold)
        mean, std = lab_stats(X, groups, min_pixels=self.min_pixels, mask=mask)
        scale = self.target_std_ / np.maximum(std, 1e-6)
        shift = self.target_mean_ - mean * scale
        out = np.empty_like(X)
        for s in range(0, len(X), _CHUNK):
            u = units[s:s + _CHUNK, None, None]
            out[s:s + _CHUNK] = lalphabeta_to_rgb(rgb_to_lalphabeta(X[s:s + _CHUNK]) * scale[u] + shift[u])
        if self.preserve_background:
            out[~mask] = X[~mask]
        return out


# ---- Macenko ----------------------------------------------------------------------------------------------------
def macenko_stain_matrix(od_pixels, *, alpha: float = 1.0, min_pixels: int = 100,
                         min_angle_deg: float = 5.0) -> np.ndarray | None:
    """H and E stain vectors of tissue optical densities ``od_pixels`` float (m, 3) (Macenko et al. 2009).

    Pixels are projected on the plane of their two main directions (covariance eigenvectors); the robust extreme
    angles there (``alpha`` and ``100 - alpha`` percentiles) are the stains, the one absorbing more red is H.
    Returns float (3, 2), unit columns [H, E]; None if degenerate (< ``min_pixels`` pixels, a clearly negative
    component, vectors closer than ``min_angle_deg``: one stain or glass).
    """
    od = np.asarray(od_pixels, dtype=np.float64)
    if od.ndim != 2 or od.shape[1] != 3:
        raise ValueError(f"od_pixels must have shape (m, 3), got {od.shape}")
    if len(od) < min_pixels:
        return None
    _, vecs = np.linalg.eigh(np.cov(od, rowvar=False))
    plane = vecs[:, [2, 1]] * np.where(vecs[:, [2, 1]].sum(axis=0) < 0, -1.0, 1.0)  # into the positive octant
    proj = od @ plane
    lo, hi = np.percentile(np.arctan2(proj[:, 1], proj[:, 0]), [alpha, 100 - alpha])
    v1, v2 = plane @ [np.cos(lo), np.sin(lo)], plane @ [np.cos(hi), np.sin(hi)]
    stains = np.stack([v1, v2] if v1[0] >= v2[0] else [v2, v1], axis=1)
    stains /= np.linalg.norm(stains, axis=0)
    if np.any(stains < -0.1):
        return None
    stains = np.clip(stains, 0, None)  # tiny negatives are estimation noise
    stains /= np.maximum(np.linalg.norm(stains, axis=0), 1e-12)
    if np.degrees(np.arccos(np.clip(stains[:, 0] @ stains[:, 1], -1, 1))) < min_angle_deg:
        return None
    return stains


class MacenkoNormalizer(TransformerMixin, BaseEstimator):
    """Macenko normalisation: replace each patient's (or image's) stain vectors and amounts by the reference's.

    ``fit(X)``: ``stains_`` float (3, 2) (unit columns H, E) and ``max_concentrations_`` float (2,) (``percentile``
    of the amounts) of the reference's pooled tissue pixels (at most ``max_pixels``, drawn with ``random_state``).
    ``transform(X, groups)`` estimates each group's (patient's) stains, unmixes every pixel into H and E amounts,
    rescales them to the target's and re-mixes them with ``stains_``; degenerate groups stay unchanged (``fallback_``).
    """

    def __init__(self, od_threshold: float = 0.15, alpha: float = 1.0, percentile: float = 99.0,
                 max_pixels: int = 200_000, preserve_background: bool = True, random_state: int = 0):
        self.od_threshold, self.alpha, self.percentile = od_threshold, alpha, percentile
        self.max_pixels, self.preserve_background, self.random_state = max_pixels, preserve_background, random_state

    def _estimate(self, images, rng):
        """OD (m, 3) of every pixel, tissue mask (m,), stain matrix (None if degenerate), percentile of amounts."""
        od = optical_density(images.reshape(-1, 3))
        tissue = od.max(axis=1) > self.od_threshold
        od_t = od[tissue]
        if len(od_t) > self.max_pixels:
            od_t = od_t[rng.choice(len(od_t), self.max_pixels, replace=False)]
        stains = macenko_stain_matrix(od_t, alpha=self.alpha)
        top = None if stains is None else np.percentile(od_t @ np.linalg.pinv(stains).T, self.percentile, axis=0)
        return od, tissue, stains, top

    def fit(self, X, y=None):
        _, _, stains, top = self._estimate(check_images(X), np.random.default_rng(self.random_state))
        if stains is None:
            raise ValueError("cannot estimate the target stains: the reference images hold too little stained "
                             "tissue; fit on more (or other) images")
        self.stains_, self.max_concentrations_ = stains, top
        return self

    def transform(self, X, groups=None):
        """Normalise uint8 images (n, H, W, 3) -> uint8 (n, H, W, 3); ``groups``: (n,) patient ids (recommended)."""
        if not hasattr(self, "stains_"):
            raise RuntimeError("MacenkoNormalizer is not fitted: call fit(reference_images) first")
        X = check_images(X)
        units, out = _units(groups, len(X)), X.copy()
        self.fallback_ = np.zeros(len(X), dtype=bool)
        rng = np.random.default_rng(self.random_state)
        for u in np.unique(units):
            idx = np.flatnonzero(units == u)
            od, tissue, stains, src = self._estimate(X[idx], rng)
            if stains is None or np.any(src <= 1e-6):
                self.fallback_[idx] = True
                continue
            keep = tissue | (not self.preserve_background)
            flat = X[idx].reshape(-1, 3).copy()
            amounts = od[keep] @ np.linalg.pinv(stains).T * (self.max_concentrations_ / src)
            flat[keep] = od_to_rgb(np.clip(amounts, 0, None) @ self.stains_.T)
            out[idx] = flat.reshape(X[idx].shape)
        return out


# ---- HED: simulate another lab, augment training data -------------------------------------------------------------
def hed_shift(images, scale=(1.0, 1.0, 1.0), bias=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Each stain's amount in uint8 images (n, H, W, 3) -> ``amount * scale + bias`` (HED space): uint8 (n, H, W, 3).

    ``scale``, ``bias``: (3,) for every image or (n, 3) one row per image; ``bias`` (optical density) is added to
    stained pixels only. ``scale=(1.3, 0.8, 1)`` mimics a lab with darker nuclei and paler cytoplasm.
    """
    images = check_images(images)
    a, b = (np.broadcast_to(np.asarray(v, dtype=np.float64), (len(images), 3)) for v in (scale, bias))
    out = np.empty_like(images)
    for s in range(0, len(images), _CHUNK):
        od = optical_density(images[s:s + _CHUNK])
        stained = od.max(axis=-1, keepdims=True) > 0.05
        hed = od @ hed_from_rgb * a[s:s + _CHUNK, None, None] + b[s:s + _CHUNK, None, None] * stained
        out[s:s + _CHUNK] = od_to_rgb(np.clip(hed @ rgb_from_hed, 0, None))
    return out


def hed_jitter(images, *, sigma: float = 0.05, bias: float = 0.02, random_state=0) -> np.ndarray:
    """Random stain variation for **training images only**, uint8 (n, H, W, 3) -> uint8 (n, H, W, 3): per image and
    stain ``amount * a + b`` (:func:`hed_shift`), ``a ~ U(1 - sigma, 1 + sigma)``, ``b ~ U(-bias, bias)``, drawn
    with ``random_state`` (int or ``numpy.random.Generator``)."""
    n, rng = len(check_images(images)), np.random.default_rng(random_state)
    return hed_shift(images, rng.uniform(1 - sigma, 1 + sigma, size=(n, 3)), rng.uniform(-bias, bias, size=(n, 3)))
