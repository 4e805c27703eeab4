"""Handcrafted features for histology patches, computed on whole batches.

Every feature family takes a batch of RGB patches, ``uint8`` of shape ``(n, H, W, 3)`` (or flattened
``(n, H*W*3)``, square patches), and returns ``float32`` of shape ``(n, d)``:

=============  ==========================  =============================================================
family         transformer                 what it measures
=============  ==========================  =============================================================
``color``      :class:`ColorHistogram`     per-channel histograms in RGB or HSV (fractions of pixels)
``hed``        :class:`HEDStats`           haematoxylin / eosin / DAB colour deconvolution: mean and std
``lbp``        :class:`LBPHistogram`       uniform local binary pattern histograms at several radii
``glcm``       :class:`GLCMFeatures`       grey-level co-occurrence (Haralick) properties, angle-averaged
``hog``        :class:`HOGFeatures`        histogram of oriented gradients
=============  ==========================  =============================================================

Each family is a scikit-learn transformer (stateless ``fit``, ``get_feature_names_out``, tunable parameters), so
it can sit inside a :class:`~sklearn.pipeline.Pipeline` and grid search can tune e.g. ``features__lbp__radii``.

The computations are vectorised over the batch (colour conversion on the whole array, histograms with one
``bincount`` and per-patch offsets, LBP and GLCM on the stacked patches) and reproduce scikit-image's per-patch
functions (``rgb2hsv``, ``rgb2hed``, ``local_binary_pattern``, ``graycomatrix``/``graycoprops``, ``hog``) exactly up
to floating-point rounding of sums; ``tests/test_features.py`` checks this on real patches.

The grey image used by the texture families is scikit-image's luminance rounded to ``uint8`` (see :func:`to_gray`);
the texture families equal scikit-image's functions applied to that grey image.

Entry points: :func:`default_features` (the default :class:`FeatureSet`), :func:`extract_features` for arrays,
:func:`extract_features_from_paths` for files (streamed in chunks, parallel, cached on disk) and the command
``python -m helpers features --data DIR --out FILE``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "ColorHistogram",
    "HEDStats",
    "LBPHistogram",
    "GLCMFeatures",
    "HOGFeatures",
    "FeatureSet",
    "FAMILIES",
    "default_features",
    "feature_family",
    "feature_families",
    "to_gray",
    "rgb_to_hsv",
    "rgb_to_hed",
    "extract_features",
    "extract_features_from_paths",
    "main",
]

_INV255 = 1.0 / 255  # scikit-image's img_as_float for uint8: image * (1 / 255) in float64
_GRAY_COEFFS = np.array([0.2125, 0.7154, 0.0721])  # scikit-image's rgb2gray
_RGB_FROM_HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
_HED_FROM_RGB = np.linalg.inv(_RGB_FROM_HED)  # scikit-image's hed_from_rgb
_LOG_LUT = np.log(np.maximum(np.arange(256) * _INV255, 1e-6)) / np.log(1e-6)  # rgb2hed's -log, per uint8 value
_LOG_LUT32 = _LOG_LUT.astype(np.float32)
_HED_FROM_RGB32 = _HED_FROM_RGB.astype(np.float32)
#: Internal batch size: bounds the float64 temporaries (about 60 kB per patch per array).
_BLOCK = 64


# --------------------------------------------------------------------------------------------------------------
# input handling and shared conversions
# --------------------------------------------------------------------------------------------------------------


def as_images(X) -> np.ndarray:
    """Return ``X`` as a ``uint8`` array of shape ``(n, H, W, 3)``.

    Accepts ``(n, H, W, 3)`` or flattened ``(n, H*W*3)`` (square patches) arrays. Integer arrays must hold values in
    ``0..255``; float arrays are taken as intensities in ``[0, 1]`` (scikit-image convention) and converted with
    rounding.
    """
    X = np.asarray(X)
    if X.ndim == 3 and X.shape[-1] == 3:  # a single patch
        X = X[None]
    if X.ndim == 2:
        side = int(round(np.sqrt(X.shape[1] / 3)))
        if side * side * 3 != X.shape[1]:
            raise ValueError(
                f"flattened input must have H*W*3 columns for square patches; got {X.shape[1]} columns"
            )
        X = X.reshape(len(X), side, side, 3)
    if X.ndim != 4 or X.shape[-1] != 3:
        raise ValueError(f"expected RGB patches of shape (n, H, W, 3) or (n, H*W*3); got shape {X.shape}")
    if X.dtype == np.uint8:
        return X
    if np.issubdtype(X.dtype, np.floating):
        if X.size and (np.nanmin(X) < 0 or np.nanmax(X) > 1):
            raise ValueError("float images must hold intensities in [0, 1]; pass uint8 for 0..255 values")
        return np.rint(X * 255).astype(np.uint8)
    if X.size and (X.min() < 0 or X.max() > 255):
        raise ValueError("integer images must hold values in 0..255")
    return X.astype(np.uint8)


def to_gray(images) -> np.ndarray:
    """Grey levels as ``uint8`` ``(n, H, W)``: the luminance of ``skimage.color.rgb2gray`` scaled to 0..255.

    ``round(0.2125 R + 0.7154 G + 0.0721 B)`` computed exactly in integers (halves to even), i.e.
    ``img_as_ubyte(rgb2gray(patch))`` except at exact half-integers, where scikit-image's float rounding picks
    either neighbour (about one colour in 10,000).
    """
    images = as_images(images)
    s = images[..., 0] * np.int32(2125)
    s += images[..., 1] * np.int32(7154)
    s += images[..., 2] * np.int32(721)
    q, rem = np.divmod(s, 10000)
    q += (rem > 5000) | ((rem == 5000) & (q % 2 == 1))
    return q.astype(np.uint8)


def rgb_to_hsv(images) -> np.ndarray:
    """HSV in ``[0, 1]``, float64 ``(n, H, W, 3)``; the same arithmetic as ``skimage.color.rgb2hsv``, batched."""
    images = as_images(images)
    arr = images * _INV255
    r, g, b = arr[..., 0], arr[..., 1], arr[..., 2]
    v = arr.max(-1)
    delta = v - arr.min(-1)
    zero = delta == 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(zero, 0.0, delta / v)
        # scikit-image assigns red, then green, then blue: the last matching channel wins
        h = np.where(b == v, 4.0 + (r - g) / delta, np.where(g == v, 2.0 + (b - r) / delta, (g - b) / delta))
        h = (h / 6.0) % 1.0
    h[zero] = 0.0
    out = np.stack([h, s, v], axis=-1)
    out[np.isnan(out)] = 0
    return out


def rgb_to_hed(images) -> np.ndarray:
    """Haematoxylin, eosin, DAB stain densities, float64 ``(n, H, W, 3)``, as ``skimage.color.rgb2hed``."""
    images = as_images(images)
    stains = _LOG_LUT[images] @ _HED_FROM_RGB
    np.maximum(stains, 0, out=stains)
    return stains


def _bin_index(values: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """Bin of each value for ``bins`` equal bins on ``[lo, hi]``, exactly as :func:`numpy.histogram` assigns them."""
    values = np.asarray(values, dtype=np.float64)
    edges = np.linspace(lo, hi, bins + 1)
    idx = ((values - lo) * (bins / (hi - lo))).astype(np.intp)
    np.clip(idx, 0, bins - 1, out=idx)
    if lo == 0 and hi == 1 and bins & (bins - 1) == 0:
        return idx  # power-of-two bins on [0, 1]: the products and edges are exact, no correction needed
    idx -= values < edges[idx]
    idx += (values >= edges[idx + 1]) & (idx != bins - 1)
    return idx


def _batched_histogram(codes: np.ndarray, n_bins: int) -> np.ndarray:
    """Per-row histograms (fractions) of integer codes ``(n, m)`` in ``0..n_bins-1``, with one ``bincount``."""
    n, m = codes.shape
    offsets = (np.arange(n, dtype=np.intp) * n_bins)[:, None]
    counts = np.bincount((codes + offsets).ravel(), minlength=n * n_bins).reshape(n, n_bins)
    return counts / m


class _Context(dict):
    """Per-batch cache of intermediate images shared by the families (grey image, HSV, ...)."""

    def __init__(self, images):
        super().__init__()
        self.images = images

    def get_or(self, key, fn):
        if key not in self:
            self[key] = fn(self.images)
        return self[key]


# --------------------------------------------------------------------------------------------------------------
# feature families
# --------------------------------------------------------------------------------------------------------------


class _Family(TransformerMixin, BaseEstimator):
    """Base of the feature families: stateless fit, batched transform, feature names."""

    family = ""

    def fit(self, X, y=None):
        self._validate_params_values()
        return self

    def _validate_params_values(self):  # overridden where parameters need checking
        pass

    def transform(self, X):
        images = as_images(X)
        self._validate_params_values()
        out = np.empty((len(images), self.n_features_), dtype=np.float32)
        for s in range(0, len(images), _BLOCK):
            chunk = images[s : s + _BLOCK]
            out[s : s + len(chunk)] = self._compute(_Context(chunk))
        return out

    def _compute(self, ctx: _Context) -> np.ndarray:
        raise NotImplementedError

    @property
    def n_features_(self) -> int:
        return len(self._names())

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self._names(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class ColorHistogram(_Family):
    """Per-channel colour histograms (fraction of pixels per bin).

    Parameters
    ----------
    space : {"hsv", "rgb"}
        Colour space. HSV uses ``skimage.color.rgb2hsv`` values in ``[0, 1]`` (bins on ``[0, 1]``); RGB uses the
        raw ``0..255`` values (bins on ``[0, 256)``).
    bins : int
        Bins per channel.

    Output: ``3 * bins`` features named ``hsv_h00 .. hsv_v15`` (or ``rgb_r00 ..``); equals, per patch,
    ``np.histogram(channel, bins, range=(0, 1))[0] / n_pixels`` (``range=(0, 256)`` for RGB).
    """

    family = "color"

    def __init__(self, space="hsv", bins=16):
        self.space = space
        self.bins = bins

    def _validate_params_values(self):
        if self.space not in ("hsv", "rgb"):
            raise ValueError(f"space must be 'hsv' or 'rgb', not {self.space!r}")
        if int(self.bins) < 1:
            raise ValueError("bins must be >= 1")

    def _names(self):
        chans = "hsv" if self.space == "hsv" else "rgb"
        return [f"{self.space}_{c}{j:02d}" for c in chans for j in range(int(self.bins))]

    def _compute(self, ctx):
        images = ctx.images
        n = len(images)
        bins = int(self.bins)
        if self.space == "rgb":
            lut = _bin_index(np.arange(256), bins, 0, 256)
            codes = lut[images.reshape(n, -1, 3)]
            return np.concatenate([_batched_histogram(codes[..., c], bins) for c in range(3)], axis=1)
        h_code, s_code, v_code = _hsv_codes(images.reshape(n, -1, 3), bins)
        return np.concatenate([_batched_histogram(c, bins) for c in (h_code, s_code, v_code)], axis=1)


_HSV_LUT_CACHE: dict = {}


def _hsv_luts(bins: int):
    """Bins of V (by max) and S (by max, min) for uint8 RGB, computed with rgb2hsv's float arithmetic."""
    if bins not in _HSV_LUT_CACHE:
        f = np.arange(256) * _INV255
        v_lut = _bin_index(f, bins, 0.0, 1.0).astype(np.uint8)
        mx, mn = np.meshgrid(f, f, indexing="ij")
        delta = mx - mn
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(delta == 0.0, 0.0, delta / mx)
        s[~np.isfinite(s) | (s < 0)] = 0  # max < min: entries never looked up
        s_lut = _bin_index(s, bins, 0.0, 1.0).astype(np.uint8)  # [max, min]
        _HSV_LUT_CACHE[bins] = (v_lut, s_lut)
    return _HSV_LUT_CACHE[bins]


def _hue_codes_direct(pix: np.ndarray, bins: int) -> np.ndarray:
    """Hue bins of uint8 pixels ``(..., 3)`` with rgb2hsv's float arithmetic, identical to binning ``rgb2hsv``."""
    r, g, b = pix[..., 0], pix[..., 1], pix[..., 2]
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    # rgb2hsv assigns red, then green, then blue where each is the max, so the last one wins; select the operands
    # of that branch first, then do its float arithmetic once
    is_b = b == mx
    is_g = (g == mx) & ~is_b
    x = np.where(is_b, r, np.where(is_g, b, g))
    y = np.where(is_b, g, np.where(is_g, r, b))
    off = np.where(is_b, 4.0, np.where(is_g, 2.0, 0.0))
    f = np.arange(256) * _INV255
    with np.errstate(invalid="ignore", divide="ignore"):
        h = off + (f[x] - f[y]) / (f[mx] - f[mn])
        h /= 6.0
        h %= 1.0
    h[mx == mn] = 0.0
    return _bin_index(h, bins, 0.0, 1.0)


_HUE_LUT_CACHE: dict = {}


def _hue_lut(bins: int) -> np.ndarray:
    """Hue bin of every 24-bit colour (16 MB, uint8), built once per process (about a second)."""
    if bins in _HUE_LUT_CACHE:
        return _HUE_LUT_CACHE[bins]
    if bins > 255:
        raise ValueError("at most 255 bins")
    path = None
    try:  # a copy on disk saves the second per process
        from ._common import cache_dir

        path = cache_dir("features") / f"hue-lut-v{FEATURES_VERSION}-{bins}.npy"
        lut = np.load(path)
        if lut.shape == (1 << 24,) and lut.dtype == np.uint8:
            _HUE_LUT_CACHE[bins] = lut
            return lut
    except Exception:  # no cache folder or no valid file: build it
        pass
    lut = np.empty(1 << 24, dtype=np.uint8)
    gb = np.stack(np.meshgrid(np.arange(256), np.arange(256), indexing="ij"), axis=-1).reshape(-1, 2)
    pix = np.empty((1 << 16, 3), dtype=np.uint8)
    pix[:, 1:] = gb
    for r in range(256):
        pix[:, 0] = r
        lut[r << 16 : (r + 1) << 16] = _hue_codes_direct(pix, bins)
    _HUE_LUT_CACHE[bins] = lut
    if path is not None:
        try:
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, lut)
            os.replace(tmp, path)
        except OSError:
            pass
    return lut


def _hsv_codes(pix: np.ndarray, bins: int):
    """H, S, V histogram bins of uint8 pixels ``(n, m, 3)``, identical to binning ``rgb2hsv`` with numpy.

    Batches of more than 100,000 pixels (40 patches) look the hue bin up in a table of all 2^24 colours (built on
    first use, cached on disk); smaller ones compute it directly.
    """
    v_lut, s_lut = _hsv_luts(bins)
    r, g, b = pix[..., 0], pix[..., 1], pix[..., 2]
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    if pix[..., 0].size > 100_000:
        code = r.astype(np.int32) << 16
        code |= g.astype(np.int32) << 8
        code |= b
        h_code = _hue_lut(bins)[code]
    else:
        h_code = _hue_codes_direct(pix, bins)
    return h_code, s_lut[mx, mn], v_lut[mx]


class HEDStats(_Family):
    """Colour-deconvolution statistics: mean and standard deviation of the H, E and D stain densities.

    Stain densities as ``skimage.color.rgb2hed`` (Ruifrok & Johnston matrix). With ``quantiles`` (e.g.
    ``(0.1, 0.5, 0.9)``) the given quantiles of each channel are added (slower).

    Output: ``hed_h_mean, hed_h_std, hed_e_mean, ...``.
    """

    family = "hed"

    def __init__(self, quantiles=()):
        self.quantiles = quantiles

    def _names(self):
        stats = ["mean", "std"] + [f"q{int(round(100 * q)):02d}" for q in self.quantiles]
        return [f"hed_{c}_{s}" for c in "hed" for s in stats]

    def _compute(self, ctx):
        # stain densities in float32 (relative error ~1e-7, far below the features' float32 output precision),
        # sums accumulated in float64
        hed = _LOG_LUT32[ctx.images] @ _HED_FROM_RGB32
        np.maximum(hed, 0, out=hed)
        flat = hed.reshape(len(hed), -1, 3)
        m = flat.shape[1]
        mean = flat.sum(axis=1, dtype=np.float64) / m
        var = np.einsum("nmk,nmk->nk", flat, flat, dtype=np.float64) / m - mean**2  # densities are O(1)
        parts = [mean, np.sqrt(np.maximum(var, 0))]
        if len(self.quantiles):
            q = np.quantile(flat, list(self.quantiles), axis=1)  # (k, n, 3)
            parts += [q[i] for i in range(len(self.quantiles))]
        stats = np.stack(parts, axis=2)  # (n, 3 channels, k stats)
        return stats.reshape(len(hed), -1)


def _lbp_offsets(P: int, R: float):
    rr = -R * np.sin(2 * np.pi * np.arange(P, dtype=np.double) / P)
    cc = R * np.cos(2 * np.pi * np.arange(P, dtype=np.double) / P)
    return np.round(rr, 5), np.round(cc, 5)


def lbp_uniform(gray: np.ndarray, P: int = 8, R: float = 1.0) -> np.ndarray:
    """Uniform LBP codes ``(n, H, W)`` in ``0..P+1`` of grey patches ``(n, H, W)``.

    Same sampling (bilinear, zero padding), same float64 arithmetic and same code definition as
    ``skimage.feature.local_binary_pattern(patch, P, R, method="uniform")``, on the whole batch at once.
    """
    g = np.asarray(gray, dtype=np.float64)
    n, H, W = g.shape
    pad = int(np.ceil(R)) + 1
    gp = np.zeros((n, H + 2 * pad, W + 2 * pad))
    gp[:, pad : pad + H, pad : pad + W] = g
    rows = np.arange(H, dtype=np.double)
    cols = np.arange(W, dtype=np.double)
    rp, cp = _lbp_offsets(P, R)
    bits = np.empty((P, n, H, W), dtype=bool)
    t1 = np.empty((n, H, W))
    t2 = np.empty((n, H, W))

    def window(dr_int, dc_int):
        return gp[:, pad + dr_int : pad + dr_int + H, pad + dc_int : pad + dc_int + W]

    for i in range(P):
        r = rows + rp[i]  # the sample positions, computed as in scikit-image (row + offset, in double)
        c = cols + cp[i]
        minr, maxr = np.floor(r), np.ceil(r)
        minc, maxc = np.floor(c), np.ceil(c)
        # the integer offsets are the same for every row / column (an offset is never within 1e-5 of an integer
        # unless it is one)
        r0, r1 = int(minr[0] - rows[0]), int(maxr[0] - rows[0])
        c0, c1 = int(minc[0] - cols[0]), int(maxc[0] - cols[0])
        dr = (r - minr)[None, :, None]
        dc = (c - minc)[None, None, :]
        if r0 == r1 and c0 == c1 and not dr.any() and not dc.any():
            # (1 - 0) * ((1 - 0) * v + 0 * v) + 0 * (...) == v exactly
            np.subtract(window(r0, c0), g, out=t1)
        else:
            # top = (1 - dc) * v00 + dc * v01; bottom likewise; tex = (1 - dr) * top + dr * bottom
            np.multiply(window(r0, c0), 1 - dc, out=t1)
            np.multiply(window(r0, c1), dc, out=t2)
            t1 += t2
            t1 *= 1 - dr
            np.multiply(window(r1, c0), 1 - dc, out=t2)
            t3 = window(r1, c1) * dc
            t2 += t3
            t2 *= dr
            t1 += t2
            t1 -= g
        np.greater_equal(t1, 0, out=bits[i])
    changes = np.zeros((n, H, W), dtype=np.uint8)
    for i in range(P - 1):  # scikit-image counts transitions without wrap-around
        changes += bits[i] != bits[i + 1]
    ones = bits.sum(axis=0, dtype=np.uint8)
    return np.where(changes <= 2, ones, np.uint8(P + 1))


class LBPHistogram(_Family):
    """Histograms of uniform local binary patterns at one or more radii.

    Parameters
    ----------
    radii : tuple of float
        Circle radii in pixels (one histogram each).
    n_points : int
        Sampling points on each circle (``P``); each histogram has ``P + 2`` bins.

    Output: per radius ``P + 2`` fractions named ``lbp_r1_00 .. lbp_r1_09``; equals, per patch,
    ``np.bincount(local_binary_pattern(gray, P, R, "uniform").astype(int).ravel(), minlength=P+2) / n_pixels``.
    """

    family = "lbp"

    def __init__(self, radii=(1, 2), n_points=8):
        self.radii = radii
        self.n_points = n_points

    def _radii(self):
        return (self.radii,) if np.isscalar(self.radii) else tuple(self.radii)

    def _names(self):
        P = int(self.n_points)
        return [f"lbp_r{_fmt(R)}_{k:02d}" for R in self._radii() for k in range(P + 2)]

    def _compute(self, ctx):
        gray = ctx.get_or("gray", to_gray)
        P = int(self.n_points)
        n = len(gray)
        hists = [_batched_histogram(lbp_uniform(gray, P, float(R)).reshape(n, -1), P + 2) for R in self._radii()]
        return np.concatenate(hists, axis=1)


def _fmt(x) -> str:
    return f"{x:g}".replace(".", "p")


GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")


def _cround(x: float) -> int:
    return int(np.copysign(np.floor(abs(x) + 0.5), x))


def glcm_batch(q: np.ndarray, distances, angles, levels: int) -> np.ndarray:
    """Symmetric, normalised grey-level co-occurrence matrices of quantised patches ``q`` ``(n, H, W)`` (values
    ``< levels``), as ``graycomatrix(patch, distances, angles, levels, symmetric=True, normed=True)``, batched.

    Returns float64 ``(n, levels, levels, len(distances), len(angles))``.
    """
    n, H, W = q.shape
    L = levels
    nd, na = len(distances), len(angles)
    qi = q.astype(np.int32)
    qL = qi * L
    codes = []
    for d in distances:
        for a in angles:
            # pixel offset as scikit-image computes it (C round: halves away from zero)
            dr = _cround(np.sin(a) * d)
            dc = _cround(np.cos(a) * d)
            r0, r1 = max(0, -dr), min(H, H - dr)
            c0, c1 = max(0, -dc), min(W, W - dc)
            if r1 <= r0 or c1 <= c0:
                codes.append(np.full((n, 0), 0, dtype=np.int32))
                continue
            pair = qL[:, r0:r1, c0:c1] + qi[:, r0 + dr : r1 + dr, c0 + dc : c1 + dc]
            codes.append(pair.reshape(n, -1))
    # one bincount for every (patch, offset): index = (patch * n_offsets + offset) * L^2 + i * L + j
    n_off = nd * na
    idx = np.concatenate(
        [c + np.int32(k * L * L) for k, c in enumerate(codes)], axis=1
    ).astype(np.intp)
    idx += (np.arange(n, dtype=np.intp) * (n_off * L * L))[:, None]
    counts = np.bincount(idx.ravel(), minlength=n * n_off * L * L).reshape(n, n_off, L, L)
    counts = counts + counts.transpose(0, 1, 3, 2)  # symmetric
    out = counts.reshape(n, nd, na, L * L).astype(np.float64)
    sums = out.sum(axis=-1, keepdims=True)
    sums[sums == 0] = 1
    out /= sums
    return out.reshape(n, len(distances), len(angles), L, L).transpose(0, 3, 4, 1, 2)


def glcm_props(P: np.ndarray, props=GLCM_PROPS) -> np.ndarray:
    """``graycoprops`` for batched GLCMs ``P`` ``(n, L, L, nd, na)`` → ``(n, len(props), nd, na)``."""
    n, L = P.shape[0], P.shape[1]
    I = np.arange(L, dtype=np.float64).reshape(1, L, 1, 1, 1)
    J = np.arange(L, dtype=np.float64).reshape(1, 1, L, 1, 1)
    res = []
    for prop in props:
        if prop == "contrast":
            r = np.sum(P * (I - J) ** 2, axis=(1, 2))
        elif prop == "dissimilarity":
            r = np.sum(P * np.abs(I - J), axis=(1, 2))
        elif prop == "homogeneity":
            r = np.sum(P * (1.0 / (1.0 + (I - J) ** 2)), axis=(1, 2))
        elif prop == "ASM":
            r = np.sum(P**2, axis=(1, 2))
        elif prop == "energy":
            r = np.sqrt(np.sum(P**2, axis=(1, 2)))
        elif prop == "correlation":
            # as graycoprops, with the means and standard deviations taken from the marginals
            pi = P.sum(axis=2)  # (n, L, nd, na)
            pj = P.sum(axis=1)
            lv = I[:, :, 0]  # (1, L, 1, 1)
            mu_i = np.sum(lv * pi, axis=1, keepdims=True)
            mu_j = np.sum(lv * pj, axis=1, keepdims=True)
            di, dj = lv - mu_i, lv - mu_j  # (n, L, nd, na)
            std_i = np.sqrt(np.sum(pi * di**2, axis=1))
            std_j = np.sqrt(np.sum(pj * dj**2, axis=1))
            cov = np.einsum("nijda,nida,njda->nda", P, di, dj, optimize=True)
            flat = (std_i < 1e-15) | (std_j < 1e-15)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.where(flat, 1.0, cov / np.where(flat, 1.0, std_i * std_j))
        else:
            raise ValueError(f"unknown GLCM property {prop!r}; choose from {GLCM_PROPS}")
        res.append(r)
    return np.stack(res, axis=1)


class GLCMFeatures(_Family):
    """Grey-level co-occurrence (Haralick) properties, averaged over angles (rotation invariant).

    Parameters
    ----------
    distances : tuple of int
        Pixel-pair distances (one set of properties each).
    levels : int
        Grey levels after quantisation (``gray * levels // 256``); 256 / levels must be an integer.
    angles : tuple of float
        Angles in radians (averaged).
    props : tuple of str
        Properties of ``skimage.feature.graycoprops``.

    Output: ``glcm_d1_contrast, ...``; equals, per patch, ``graycoprops(graycomatrix(gray // (256 // levels),
    distances, angles, levels, symmetric=True, normed=True), prop).mean(axis=1)``.
    """

    family = "glcm"

    def __init__(
        self,
        distances=(1, 2),
        levels=16,
        angles=(0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4),
        props=("contrast", "dissimilarity", "homogeneity", "energy", "correlation"),
    ):
        self.distances = distances
        self.levels = levels
        self.angles = angles
        self.props = props

    def _validate_params_values(self):
        if 256 % int(self.levels):
            raise ValueError("levels must divide 256 (2, 4, 8, 16, 32, 64, 128 or 256)")

    def _names(self):
        return [f"glcm_d{_fmt(d)}_{p}" for p in self.props for d in self.distances]

    def _compute(self, ctx):
        L = int(self.levels)
        q = ctx.get_or(("gray_q", L), lambda im: ctx.get_or("gray", to_gray) // (256 // L))
        P = glcm_batch(q, tuple(self.distances), tuple(self.angles), L)
        props = glcm_props(P, tuple(self.props)).mean(axis=3)  # (n, n_props, n_dist)
        return props.reshape(len(q), -1)


class HOGFeatures(_Family):
    """Histogram of oriented gradients of the grey patch, as ``skimage.feature.hog`` (not in the default set).

    Parameters are those of :func:`skimage.feature.hog`. The default (9 orientations, 25 x 25 px cells, one
    2 x 2 block) gives 36 features for a 50 x 50 patch.
    """

    family = "hog"

    def __init__(self, orientations=9, pixels_per_cell=(25, 25), cells_per_block=(2, 2), block_norm="L2-Hys"):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.block_norm = block_norm

    _shape = (50, 50)

    def _layout(self, H, W):
        cr, cc = self.pixels_per_cell
        br, bc = self.cells_per_block
        ncr, ncc = H // cr, W // cc
        nbr, nbc = ncr - br + 1, ncc - bc + 1
        if nbr <= 0 or nbc <= 0:
            raise ValueError("patch too small for pixels_per_cell and cells_per_block")
        return ncr, ncc, nbr, nbc

    def _names(self):
        H, W = self._shape
        ncr, ncc, nbr, nbc = self._layout(H, W)
        br, bc = self.cells_per_block
        return [
            f"hog_b{r}{c}_c{i}{j}_o{o}"
            for r in range(nbr)
            for c in range(nbc)
            for i in range(br)
            for j in range(bc)
            for o in range(int(self.orientations))
        ]

    def transform(self, X):
        images = as_images(X)
        self._shape = images.shape[1:3]
        return super().transform(images)

    def _compute(self, ctx):
        gray = ctx.get_or("gray", to_gray).astype(np.float64)
        n, H, W = gray.shape
        n_or = int(self.orientations)
        cr, cc = self.pixels_per_cell
        br, bc = self.cells_per_block
        ncr, ncc, nbr, nbc = self._layout(H, W)
        g_row = np.zeros_like(gray)
        g_col = np.zeros_like(gray)
        g_row[:, 1:-1, :] = gray[:, 2:, :] - gray[:, :-2, :]
        g_col[:, :, 1:-1] = gray[:, :, 2:] - gray[:, :, :-2]
        mag = np.hypot(g_col, g_row)
        ori = np.arctan2(g_row, g_col) * (180 / np.pi) % 180
        # bin i holds end_i <= ori < start_i with the float32 limits scikit-image uses
        limits = np.array([np.float32(180.0 / n_or * i) for i in range(n_or + 1)], dtype=np.float64)
        obin = np.searchsorted(limits, ori, side="right") - 1
        # cells tile the patch from the top-left; rows / columns beyond the last full cell are ignored
        # scikit-image adds each cell's magnitudes pixel by pixel (row-major) into a float32 total, then divides by
        # the cell's area: the same, vectorised over patches, cells and orientations
        mag = mag[:, : ncr * cr, : ncc * cc].reshape(n, ncr, cr, ncc, cc).transpose(0, 1, 3, 2, 4)
        obin = obin[:, : ncr * cr, : ncc * cc].reshape(n, ncr, cr, ncc, cc).transpose(0, 1, 3, 2, 4)
        onehot = np.arange(n_or)
        total = np.zeros((n, ncr, ncc, n_or), dtype=np.float32)
        for i in range(cr):
            for j in range(cc):
                contrib = np.where(obin[..., i, j, None] == onehot, mag[..., i, j, None], 0.0)
                total = (total + contrib).astype(np.float32)
        hist = (total / np.float32(cr * cc)).astype(np.float64)
        blocks = np.empty((n, nbr, nbc, br, bc, n_or))
        for r in range(nbr):
            for c in range(nbc):
                blocks[:, r, c] = hist[:, r : r + br, c : c + bc]
        blocks = _hog_normalize(blocks, self.block_norm)
        return blocks.reshape(n, -1)


def _hog_normalize(blocks, method, eps=1e-5):
    ax = (3, 4, 5)
    if method == "L1":
        return blocks / (np.sum(np.abs(blocks), axis=ax, keepdims=True) + eps)
    if method == "L1-sqrt":
        return np.sqrt(blocks / (np.sum(np.abs(blocks), axis=ax, keepdims=True) + eps))
    if method == "L2":
        return blocks / np.sqrt(np.sum(blocks**2, axis=ax, keepdims=True) + eps**2)
    if method == "L2-Hys":
        out = blocks / np.sqrt(np.sum(blocks**2, axis=ax, keepdims=True) + eps**2)
        out = np.minimum(out, 0.2)
        return out / np.sqrt(np.sum(out**2, axis=ax, keepdims=True) + eps**2)
    raise ValueError(f"unknown block_norm {method!r}")


#: Feature families: name → transformer class.
FAMILIES = {
    "color": ColorHistogram,
    "hed": HEDStats,
    "lbp": LBPHistogram,
    "glcm": GLCMFeatures,
    "hog": HOGFeatures,
}

_PREFIX_TO_FAMILY = {"hsv": "color", "rgb": "color", "hed": "hed", "lbp": "lbp", "glcm": "glcm", "hog": "hog"}


def feature_family(name: str) -> str:
    """Family (a key of :data:`FAMILIES`) of an output feature name, e.g. ``"lbp_r1_03"`` → ``"lbp"``.

    Names of a multi-scale :class:`FeatureSet` (``"s2_lbp_r1_03"``) map to the same family.
    """
    parts = str(name).split("_")
    if parts[0].startswith("s") and parts[0][1:].isdigit() and len(parts) > 1:
        parts = parts[1:]
    try:
        return _PREFIX_TO_FAMILY[parts[0]]
    except KeyError:
        raise ValueError(f"{name!r} is not a feature name of helpers.features") from None


def feature_families(names) -> np.ndarray:
    """Vectorised :func:`feature_family`: an array of family names, one per feature name."""
    return np.array([feature_family(n) for n in names], dtype=object)


# --------------------------------------------------------------------------------------------------------------
# the feature set
# --------------------------------------------------------------------------------------------------------------


def _downscale(images: np.ndarray, factor: int) -> np.ndarray:
    """Block-mean downscaling of uint8 patches by an integer factor (rounded back to uint8)."""
    if factor == 1:
        return images
    n, H, W, _ = images.shape
    h, w = H // factor, W // factor
    x = images[:, : h * factor, : w * factor].reshape(n, h, factor, w, factor, 3).mean(axis=(2, 4))
    return np.rint(x).astype(np.uint8)


def _transform_block(families, scales, images):
    parts = []
    for s in scales:
        ctx = _Context(_downscale(images, s))
        for fam in families:
            parts.append(fam._compute(ctx))
    return np.concatenate(parts, axis=1).astype(np.float32)


class FeatureSet(TransformerMixin, BaseEstimator):
    """Several feature families computed together, on chunks of patches, optionally in parallel.

    Parameters
    ----------
    color, hed, lbp, glcm, hog : transformer or None
        The families (``None`` leaves one out). Their parameters are tunable through the usual double-underscore
        names, e.g. ``features__lbp__radii`` when this step is called ``features`` in a pipeline.
    scales : tuple of int
        Downscaling factors: ``(1, 2)`` also computes every family on the 2x block-mean downscaled patch (names
        prefixed with ``s2_``), a cheap multi-scale description.
    n_jobs : int
        joblib workers over chunks (``-1``: all cores).
    chunk_size : int
        Patches per chunk (memory per worker grows with it: about 0.5 MB per patch in temporaries).
    progress : bool
        Progress bar over chunks (tqdm) for batches of more than one chunk.

    Intermediate images (grey levels, HSV, stain densities) are computed once per chunk and shared.
    """

    def __init__(
        self,
        color="default",
        hed="default",
        lbp="default",
        glcm="default",
        hog=None,
        scales=(1,),
        n_jobs=1,
        chunk_size=1024,
        progress=False,
    ):
        self.color = color
        self.hed = hed
        self.lbp = lbp
        self.glcm = glcm
        self.hog = hog
        self.scales = scales
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.progress = progress

    _DEFAULTS = {
        "color": lambda: ColorHistogram("hsv", 16),
        "hed": lambda: HEDStats(),
        "lbp": lambda: LBPHistogram((1, 2), 8),
        "glcm": lambda: GLCMFeatures(),
        "hog": lambda: HOGFeatures(),
    }

    def _families(self):
        fams = []
        for name in ("color", "hed", "lbp", "glcm", "hog"):
            fam = getattr(self, name)
            if fam is None or fam == "drop":
                continue
            if isinstance(fam, str) and fam == "default":
                fam = self._DEFAULTS[name]()
            fam._validate_params_values()
            fams.append(fam)
        if not fams:
            raise ValueError("FeatureSet needs at least one family")
        return fams

    def _scales(self):
        return (self.scales,) if np.isscalar(self.scales) else tuple(int(s) for s in self.scales)

    def fit(self, X, y=None):
        self._families()
        return self

    def get_feature_names_out(self, input_features=None):
        names = []
        for s in self._scales():
            prefix = "" if s == 1 else f"s{s}_"
            for fam in self._families():
                if isinstance(fam, HOGFeatures):
                    fam = fam.__class__(**fam.get_params())
                    fam._shape = (50 // s, 50 // s)
                names += [prefix + n for n in fam._names()]
        return np.asarray(names, dtype=object)

    def transform(self, X):
        from joblib import Parallel, delayed
        from tqdm.auto import tqdm

        images = as_images(X)
        fams = self._families()
        scales = self._scales()
        for fam in fams:
            if isinstance(fam, HOGFeatures):
                fam._shape = images.shape[1:3]
        n = len(images)
        step = max(1, int(self.chunk_size))
        starts = list(range(0, n, step))
        if n == 0:
            return np.empty((0, len(self.get_feature_names_out())), dtype=np.float32)
        show = bool(self.progress) and len(starts) > 1

        def blocks(start):
            # inside a chunk, work on _BLOCK-sized pieces to keep temporaries small
            chunk = images[start : start + step]
            return np.concatenate(
                [_transform_block(fams, scales, chunk[b : b + _BLOCK]) for b in range(0, len(chunk), _BLOCK)]
            )

        n_jobs = self.n_jobs if self.n_jobs is not None else 1
        if n_jobs == 1 or len(starts) == 1:
            outs = [blocks(s) for s in tqdm(starts, desc="Features", unit="chunk", disable=not show)]
        else:
            par = Parallel(n_jobs=n_jobs, return_as="generator")
            gen = par(delayed(_chunk_job)(fams, scales, images[s : s + step]) for s in starts)
            outs = list(tqdm(gen, total=len(starts), desc="Features", unit="chunk", disable=not show))
        return np.concatenate(outs, axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def _chunk_job(fams, scales, chunk):
    return np.concatenate(
        [_transform_block(fams, scales, chunk[b : b + _BLOCK]) for b in range(0, len(chunk), _BLOCK)]
    )


def default_features(n_jobs=1, *, scales=(1,), progress=False) -> FeatureSet:
    """The default feature set: HSV histograms (16 bins), H&E statistics, uniform LBP at radii 1 and 2, GLCM
    properties at distances 1 and 2 (16 grey levels). A :class:`FeatureSet` (a transformer)."""
    return FeatureSet(
        color=ColorHistogram("hsv", 16),
        hed=HEDStats(),
        lbp=LBPHistogram((1, 2), 8),
        glcm=GLCMFeatures(),
        hog=None,
        scales=scales,
        n_jobs=n_jobs,
        progress=progress,
    )


def extract_features(images, *, features=None, n_jobs=1, progress=True, cache=True):
    """Features of an array of patches.

    Parameters
    ----------
    images : uint8 array (n, H, W, 3) or (n, H*W*3)
    features : transformer, optional
        Default: :func:`default_features`.
    n_jobs : int
        joblib workers.
    progress : bool
        Progress bar.
    cache : bool
        Keep the result on disk (``$HISTO_CACHE_DIR``), keyed by the pixels and the feature parameters, so the next
        notebook that asks for the same features of the same patches gets them at once. Only for this module's
        feature sets, whose parameters are plain values (a custom transformer is always recomputed).

    Returns
    -------
    X : float32 array (n, d)
    names : array of str (d,)
    """
    fs = features if features is not None else default_features()
    if isinstance(fs, FeatureSet):
        fs = fs.set_params(n_jobs=n_jobs, progress=progress)
    path = None
    if cache and isinstance(fs, (FeatureSet, _Family)):
        from ._common import cache_dir

        pixels = np.ascontiguousarray(as_images(images))
        h = hashlib.sha1(f"arrays-v{FEATURES_VERSION}|{_params_digest(fs)}|{pixels.shape}".encode())
        h.update(memoryview(pixels).cast("B"))
        path = cache_dir("features") / f"array-{h.hexdigest()[:20]}.npz"
        if path.exists():
            try:
                with np.load(path) as f:
                    return f["X"], f["names"]
            except Exception:
                path.unlink(missing_ok=True)
    X = np.asarray(fs.fit(images).transform(images), dtype=np.float32)
    names = np.asarray(fs.get_feature_names_out()).astype(str)
    if path is not None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, X=X, names=names)
        os.replace(tmp, path)
    return X, names


# --------------------------------------------------------------------------------------------------------------
# from files: streamed, parallel, cached
# --------------------------------------------------------------------------------------------------------------

#: Bump when the feature definitions change: old cache files are then ignored.
FEATURES_VERSION = 1


def _features_from_files(features, paths):
    """Decode ``paths`` (white-padded to 50 x 50) and compute ``features``; unreadable files give NaN rows."""
    from .data import read_patch

    images = np.empty((len(paths), 50, 50, 3), dtype=np.uint8)
    ok = np.zeros(len(paths), dtype=bool)
    for i, p in enumerate(paths):
        try:
            images[i] = read_patch(p, on_small="pad")
            ok[i] = True
        except Exception:  # corrupt or unreadable: reported by the caller
            pass
    out = np.full((len(paths), len(features.get_feature_names_out())), np.nan, dtype=np.float32)
    if ok.any():
        out[ok] = features.transform(images[ok])
    return out


def _params_digest(features) -> str:
    """The feature transformer's class and parameters (not how it runs: n_jobs, progress, chunk_size) as text."""
    params = {k: v for k, v in features.get_params(deep=True).items() if k not in ("n_jobs", "progress", "chunk_size")}
    return f"{type(features).__name__}|" + repr(sorted((k, repr(v)) for k, v in params.items()))


def features_cache_key(paths, features) -> str:
    """Key of a feature cache file: the file list (names, sizes, modification times) and the feature parameters."""
    h = hashlib.sha1()
    h.update(f"v{FEATURES_VERSION}|{_params_digest(features)}|".encode())
    for p in paths:
        try:
            st = os.stat(p)
            h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{p}|missing\n".encode())
    return h.hexdigest()[:20]


def extract_features_from_paths(
    paths, *, features=None, chunk_size=2048, n_jobs=2, cache_dir=None, progress=True
):
    """Features of PNG patch files, streamed from disk in chunks (bounded memory), in parallel, cached on disk.

    Parameters
    ----------
    paths : sequence of path-like
        Patch files (slide-edge patches smaller than 50 x 50 are padded with white, as in ``helpers.data``).
    features : transformer, optional
        Default: :func:`default_features`. Must be picklable (joblib sends it to the workers).
    chunk_size : int
        Files per job: each worker holds one chunk of decoded patches (about 7.5 kB per patch) at a time.
    n_jobs : int
        joblib worker processes (``-1``: all cores).
    cache_dir : path-like, None or False
        Folder of the cache (``None``: ``helpers``' cache folder, see ``HISTO_CACHE_DIR``; ``False``: no cache).
        The cache file is keyed by the file list (names, sizes, modification times) and the feature parameters.
    progress : bool
        Progress bar (patches).

    Returns
    -------
    X : float32 array (n, d)
        One row per path, in order; rows of files that could not be decoded are NaN (with a warning).
    names : array of str (d,)
    """
    import warnings

    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    paths = [str(p) for p in paths]
    fs = features if features is not None else default_features()
    if isinstance(fs, FeatureSet):
        fs = fs.set_params(n_jobs=1, progress=False)
    fs.fit(np.zeros((1, 50, 50, 3), dtype=np.uint8))
    names = np.asarray(fs.get_feature_names_out())

    cache_file = None
    if cache_dir is not False:
        if cache_dir is None:
            from ._common import cache_dir as _default_cache_dir

            folder = _default_cache_dir("features")
        else:
            folder = Path(cache_dir)
            folder.mkdir(parents=True, exist_ok=True)
        cache_file = folder / f"features-{features_cache_key(paths, fs)}.npz"
        if cache_file.exists():
            try:
                with np.load(cache_file, allow_pickle=False) as z:
                    if z["X"].shape == (len(paths), len(names)):
                        return z["X"], z["names"].astype(object)
            except Exception:  # unreadable cache file: recompute
                pass

    n = len(paths)
    X = np.empty((n, len(names)), dtype=np.float32)
    step = max(1, int(chunk_size))
    if n_jobs not in (None, 1) and n > step:
        # several chunks per worker in flight at most, so memory stays bounded whatever n is
        par = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")
        results = par(delayed(_features_from_files)(fs, paths[s : s + step]) for s in range(0, n, step))
    else:
        results = (_features_from_files(fs, paths[s : s + step]) for s in range(0, n, step))
    with tqdm(total=n, desc="Features", unit="patch", disable=not progress or n == 0) as bar:
        for s, block in zip(range(0, n, step), results):
            X[s : s + len(block)] = block
            bar.update(len(block))
    bad = np.isnan(X).any(axis=1)
    if bad.any():
        shown = ", ".join(np.asarray(paths)[bad][:5])
        warnings.warn(
            f"{int(bad.sum())} of {n} file(s) could not be decoded; their rows are NaN: {shown}", stacklevel=2
        )
    if cache_file is not None:
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, X=X, names=names)
        os.replace(tmp, cache_file)
    return X, names


# --------------------------------------------------------------------------------------------------------------
# command line: python -m helpers features
# --------------------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    """``python -m helpers features --data DIR --out FILE``: default features of every patch of an IDC folder."""
    p = argparse.ArgumentParser(
        prog="python -m helpers features",
        description="Extract the default feature set (HSV histograms, H&E statistics, LBP, GLCM) of every patch "
        "of an IDC folder into a .npz with X, names, labels, patients, x, y and paths.",
    )
    p.add_argument("--data", required=True, help="IDC folder (Kaggle layout <patient>/<0|1>/*.png)")
    p.add_argument("--out", required=True, help="output .npz file")
    p.add_argument("--n-jobs", type=int, default=2, help="worker processes (default 2; -1 = all cores)")
    p.add_argument("--chunk-size", type=int, default=2048, help="patches per job (default 2048)")
    p.add_argument("--cache-dir", default=None, help="feature cache folder (default: helpers' cache folder)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the feature cache")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    from ._common import DataError
    from .data import index_idc

    t0 = time.perf_counter()
    try:
        table = index_idc(args.data, read_sizes=False)
    except DataError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    if len(table) == 0:
        print(f"✗ no patches found under {args.data}", file=sys.stderr)
        return 2
    t1 = time.perf_counter()
    X, names = extract_features_from_paths(
        table["path"].tolist(),
        chunk_size=args.chunk_size,
        n_jobs=args.n_jobs,
        cache_dir=False if args.no_cache else args.cache_dir,
        progress=not args.no_progress,
    )
    t2 = time.perf_counter()
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        X=X,
        names=np.asarray(names, dtype=str),
        labels=table["label"].to_numpy(np.int8),
        patients=table["patient"].to_numpy(str),
        x=table["x"].to_numpy(np.int32),
        y=table["y"].to_numpy(np.int32),
        paths=table["path"].to_numpy(str),
    )
    t3 = time.perf_counter()
    n = len(table)
    print(
        f"✓ {n:,} patches from {table['patient'].nunique()} patients → {out} ({X.shape[1]} features). "
        f"Index {t1 - t0:.1f} s, features {t2 - t1:.1f} s ({n / max(t2 - t1, 1e-9):,.0f} patches/s), "
        f"total {t3 - t0:.1f} s."
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
