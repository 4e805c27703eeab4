"""Hand-crafted features of histology patches, computed with scikit-image.

Each family is a scikit-learn transformer (``fit`` learns nothing; ``transform``: RGB patches, ``uint8``
``(n, h, w, 3)`` → ``float32`` ``(n, d)``; ``get_feature_names_out``): ``color`` :class:`ColorHistogram` (Pillow's
HSV), ``hed`` :class:`HEDStats` (``rgb2hed``), ``lbp`` :class:`LBPHistogram` (``local_binary_pattern``), ``glcm``
:class:`GLCMFeatures` (``graycomatrix`` + ``graycoprops``), ``hog`` :class:`HOGFeatures` (``hog``) and ``nuclear``
:class:`NuclearFeatures` (``rgb2hed``, a threshold, ``label``, ``regionprops_table``). :func:`default_features` joins
colour, H&E, LBP and GLCM in a ``FeatureUnion`` (74 columns ``"<family>__<feature>"``); :func:`feature_families`
maps columns to families; :func:`extract_features` computes a matrix in parallel, cached with ``joblib.Memory``;
``python -m helpers features`` (:func:`main`) streams PNG files.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from joblib import Memory, Parallel, delayed
from PIL import Image
from skimage import color, feature, filters, measure, util
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import FeatureUnion
from sklearn.utils.validation import check_is_fitted

__all__ = ["ColorHistogram", "HEDStats", "LBPHistogram", "GLCMFeatures", "HOGFeatures", "NuclearFeatures", "FAMILIES",
           "default_features", "feature_families", "extract_features", "extract_features_from_paths", "main"]

FAMILIES = ("color", "hed", "lbp", "glcm", "hog", "nuclear")
ANGLES = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)  # GLCM directions, averaged: orientation-free texture


def check_images(X) -> np.ndarray:
    """Return ``X`` as a ``uint8`` array ``(n, h, w, 3)``, or raise a ``ValueError`` that says what to change."""
    X = np.asarray(X)
    if X.ndim != 4 or X.shape[-1] != 3:
        hint = " (one patch: pass patch[None])" if X.ndim == 3 and X.shape[-1] == 3 else ""
        raise ValueError(f"expected a batch of RGB patches of shape (n, height, width, 3); got shape {X.shape}{hint}")
    if X.dtype != np.uint8:
        raise ValueError(f"expected uint8 patches (values 0-255); got dtype {X.dtype}. Convert float images in "
                         "[0, 1] with skimage.util.img_as_ubyte(images).")
    return X


def _gray(images: np.ndarray) -> np.ndarray:
    """Grey levels ``uint8 (n, h, w)``: ``skimage.color.rgb2gray`` (luminance), as 0-255 integers."""
    return util.img_as_ubyte(color.rgb2gray(images))


def _histograms(codes: np.ndarray, n_bins: int) -> np.ndarray:
    """Histogram of each row of integer ``codes (n, m)`` (values ``0..n_bins-1``) as fractions, one ``bincount``."""
    n, m = codes.shape  # patch k counts into bins k * n_bins ... (k + 1) * n_bins - 1
    counts = np.bincount((codes + np.arange(n)[:, None] * n_bins).ravel(), minlength=n * n_bins)
    return counts.reshape(n, n_bins) / m


class _PatchTransformer(TransformerMixin, BaseEstimator):
    """Stateless transformer of RGB patches: ``fit`` checks the input, ``transform`` calls ``_features``."""

    def fit(self, X, y=None):
        check_images(X)
        return self

    def transform(self, X):
        X = check_images(X)
        if len(X) == 0:
            return np.empty((0, len(self.get_feature_names_out())), dtype=np.float32)
        return np.asarray(self._features(X), dtype=np.float32)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self._names(), dtype=object)


class ColorHistogram(_PatchTransformer):
    """Hue, saturation, value (HSV, Pillow's 0-255) histograms: the fraction of the patch's pixels in each of
    ``bins`` equal bins per channel, ``h00 .. h15, s00 .., v00 ..``. How much of each colour, not where it is."""

    def __init__(self, bins=16):
        self.bins = bins

    def _names(self):
        return [f"{c}{j:02d}" for c in "hsv" for j in range(self.bins)]

    def _features(self, X):
        n, h, w, _ = X.shape
        hsv = np.asarray(Image.fromarray(X.reshape(n * h, w, 3)).convert("HSV"))  # the batch as one tall image
        codes = (hsv.reshape(n, h * w, 3).astype(np.uint16) * self.bins) >> 8  # bin of each value, 0 .. bins - 1
        codes += np.arange(3, dtype=np.uint16) * self.bins  # channel c counts into bins c * bins ...
        return _histograms(codes.reshape(n, -1), 3 * self.bins) * 3


class HEDStats(_PatchTransformer):
    """Mean and std of the haematoxylin, eosin, DAB densities (``rgb2hed``): ``h_mean, h_std, e_mean, ... d_std``."""

    def _names(self):
        return [f"{c}_{s}" for c in "hed" for s in ("mean", "std")]

    def _features(self, X):
        hed = color.rgb2hed(X / np.float32(255)).reshape(len(X), -1, 3)  # float32 input: 2x faster, same values
        hed = np.ascontiguousarray(hed.transpose(0, 2, 1))  # (n, 3, pixels): reducing a contiguous axis is faster
        return np.stack([hed.mean(axis=2), hed.std(axis=2)], axis=2).reshape(len(X), 6)


class LBPHistogram(_PatchTransformer):
    """Histograms of uniform local binary patterns (``skimage.feature.local_binary_pattern``), one per radius.

    ``radii`` : tuple of float, circle radii ``R`` in pixels; ``n_points`` : int, neighbours ``P`` per circle.
    Output: ``(P + 2) * len(radii)`` fractions ``r1_00 .. r1_09, r2_00 ..`` (uniform codes ``0 .. P + 1``).
    Each radius is one ``local_binary_pattern`` call per patch, the most expensive step of the default set; a second
    radius (2) did not change patient-grouped CV accuracy (benchmarks/bench_feature_sets.py --question lbp).
    """

    def __init__(self, radii=(1,), n_points=8):
        self.radii = radii
        self.n_points = n_points

    def _names(self):
        return [f"r{r:g}_{k:02d}" for r in self.radii for k in range(self.n_points + 2)]

    def _features(self, X):
        gray, P = _gray(X), self.n_points
        hists = []
        for R in self.radii:
            codes = np.stack([feature.local_binary_pattern(g, P, R, method="uniform") for g in gray])
            hists.append(_histograms(codes.reshape(len(X), -1).astype(np.intp), P + 2))
        return np.hstack(hists)


class GLCMFeatures(_PatchTransformer):
    """Grey-level co-occurrence (Haralick) properties, averaged over four directions.

    Per patch ``skimage.feature.graycomatrix(gray // (256 // levels), distances, ANGLES, levels, symmetric=True,
    normed=True)``; ``graycoprops`` then runs once on the matrices of the whole batch. ``distances`` : tuple of int
    (pixels); ``levels`` : int, grey levels (a divisor of 256); ``props`` : properties of ``graycoprops``.
    Output: ``d1_contrast, d2_contrast, d1_dissimilarity, ...``.
    """

    def __init__(self, distances=(1, 2), levels=16,
                 props=("contrast", "dissimilarity", "homogeneity", "energy", "correlation")):
        self.distances = distances
        self.levels = levels
        self.props = props

    def _names(self):
        return [f"d{d}_{p}" for p in self.props for d in self.distances]

    def _features(self, X):
        if 256 % self.levels:
            raise ValueError(f"levels must divide 256 (2, 4, ..., 256); got {self.levels}")
        quantised = _gray(X) // (256 // self.levels)
        glcm = np.concatenate([feature.graycomatrix(q, self.distances, ANGLES, self.levels, symmetric=True,
                                                    normed=True) for q in quantised], axis=3)  # angles of patch 0, 1..
        shape = (len(self.distances), len(X), len(ANGLES))
        props = [feature.graycoprops(glcm, p).reshape(shape).mean(axis=2) for p in self.props]  # (n_dist, n)
        return np.concatenate(props).T


class HOGFeatures(_PatchTransformer):
    """Histogram of oriented gradients of the grey patch (``skimage.feature.hog``), with its parameters.

    The default gives 36 columns for 50 x 50 patches; ``fit`` records the patch size (``patch_shape_``).
    """

    def __init__(self, orientations=9, pixels_per_cell=(25, 25), cells_per_block=(2, 2)):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block

    def fit(self, X, y=None):
        self.patch_shape_ = check_images(X).shape[1:3]
        return self

    def _features(self, X):
        check_is_fitted(self, "patch_shape_")
        if X.shape[1:3] != tuple(self.patch_shape_):
            raise ValueError(f"fitted on {self.patch_shape_} patches, got {X.shape[1:3]}: fit again")
        return np.stack([feature.hog(g, self.orientations, self.pixels_per_cell, self.cells_per_block)
                         for g in _gray(X)])

    def _names(self):
        check_is_fitted(self, "patch_shape_")
        n_out = self._features(np.zeros((1, *self.patch_shape_, 3), np.uint8)).shape[1]
        return [f"{k:03d}" for k in range(n_out)]


class NuclearFeatures(_PatchTransformer):
    """Nuclear morphometry: dark haematoxylin objects found and measured in each patch.

    For each patch: the haematoxylin density (``skimage.color.rgb2hed``), smoothed (``skimage.filters.gaussian``),
    thresholded (a fixed value, or ``skimage.filters.threshold_otsu`` per patch), connected objects labelled
    (``skimage.measure.label``), objects smaller than ``min_area`` dropped, then measured
    (``skimage.measure.regionprops_table``).

    At about 4 µm per pixel (slides downsampled to ~2.5x) a nucleus is 1-3 pixels across: the objects are mostly
    *clusters* of dark-stained nuclei. Slower than the other families (``regionprops_table`` works object by object).

    Parameters
    ----------
    threshold : float or "otsu"
        Smoothed haematoxylin density above which a pixel is in an object (``rgb2hed`` units; 0.03 won a grouped CV
        on development patients, benchmarks/bench_feature_sets.py), or ``"otsu"``: Otsu's threshold of each patch.
    sigma, min_area : float, int
        Gaussian smoothing (pixels; 0: none) before thresholding; smallest object kept (pixels).

    Output: ``count, area_fraction, area_mean, area_std`` (pixels), mean ``eccentricity`` and ``solidity``,
    ``h_inside, h_outside`` (mean haematoxylin in / out of objects); 0 where a patch has no object.
    """

    def __init__(self, threshold=0.03, sigma=1.0, min_area=3):
        self.threshold = threshold
        self.sigma = sigma
        self.min_area = min_area

    def _names(self):
        return "count area_fraction area_mean area_std eccentricity solidity h_inside h_outside".split()

    def segment(self, X):
        """Object labels ``int (n, h, w)`` (0: background) and haematoxylin ``float (n, h, w)`` of patches ``X``."""
        X, t = check_images(X), self.threshold
        if not (t == "otsu" if isinstance(t, str) else isinstance(t, (int, float)) and t > 0):
            raise ValueError(f"threshold must be a positive number or 'otsu'; got {t!r}")
        hema = color.rgb2hed(X)[..., 0]
        if self.sigma > 0:
            hema = filters.gaussian(hema, sigma=(0, self.sigma, self.sigma))
        labels = np.empty(hema.shape, dtype=np.int32)
        for k, h in enumerate(hema):
            t = filters.threshold_otsu(h) if self.threshold == "otsu" else self.threshold
            lab = measure.label(h > t)
            lab[np.bincount(lab.ravel())[lab] < self.min_area] = 0  # drop specks (background stays 0)
            labels[k] = lab
        return labels, hema

    def _features(self, X):
        labels, hema = self.segment(X)
        out = np.zeros((len(X), 8))
        for k, (lab, h) in enumerate(zip(labels, hema)):
            inside = lab > 0
            out[k, 7] = h[~inside].mean() if not inside.all() else 0.0
            if inside.any():
                obj = measure.regionprops_table(lab, properties=("area", "eccentricity", "solidity"))
                area = obj["area"]
                out[k, :7] = (len(area), inside.mean(), area.mean(), area.std(), obj["eccentricity"].mean(),
                              obj["solidity"].mean(), h[inside].mean())
        return out


def default_features(*, nuclear=False, n_jobs=None) -> FeatureUnion:
    """The default feature set: a ``FeatureUnion`` with steps ``color`` (HSV, 16 bins), ``hed``, ``lbp`` (radius 1,
    8 points) and ``glcm`` (distances 1, 2; 16 levels): 74 columns ``"<family>__<feature>"``, e.g. ``"lbp__r1_04"``.

    ``nuclear=True`` adds the step ``nuclear`` (:class:`NuclearFeatures`, 8 columns, slower). ``n_jobs`` is
    ``FeatureUnion``'s (one family per worker); :func:`extract_features` parallelises over patches instead.
    """
    steps = [("color", ColorHistogram()), ("hed", HEDStats()), ("lbp", LBPHistogram()), ("glcm", GLCMFeatures())]
    steps += [("nuclear", NuclearFeatures())] if nuclear else []
    return FeatureUnion(steps, n_jobs=n_jobs)


def feature_families(names) -> np.ndarray:
    """Family of each feature column, ``"lbp__r1_04"`` → ``"lbp"``: ndarray of str, shape ``(n_features,)``.

    ``names``: column names ``"<family>__<feature>"`` (as ``default_features().get_feature_names_out()``), or the
    fitted ``FeatureUnion`` itself.
    """
    if hasattr(names, "get_feature_names_out"):
        names = names.get_feature_names_out()
    families = np.array([str(n).split("__")[0] for n in names], dtype=object)
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(f"cannot tell the family of columns starting with {unknown[:3]}: expected names "
                         f"'<family>__<feature>' with a family in {FAMILIES}, as default_features() makes them")
    return families


def _in_chunks(function, fitted, items, n_jobs, chunk_size, progress):
    """Features of ``items`` and their names: ``function(items[s : s + chunk_size])`` in joblib workers, stacked."""
    from tqdm.auto import tqdm
    starts = range(0, len(items), chunk_size)
    jobs = (delayed(function)(items[s : s + chunk_size]) for s in starts)
    results = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")(jobs)  # bounded memory
    X = np.empty((len(items), len(fitted.get_feature_names_out())), dtype=np.float32)
    with tqdm(total=len(items), desc="Features", unit="patch", disable=not progress) as bar:
        for s, block in zip(starts, results):
            X[s : s + len(block)] = block
            bar.update(len(block))
    return X, np.asarray(fitted.get_feature_names_out(), dtype=str)


def _compute(images, transformer, n_jobs, progress, code=None):
    fitted = clone(transformer).fit(images)  # the caller's transformer is left untouched
    return _in_chunks(fitted.transform, fitted, images, n_jobs, 512, progress)


def _source_code(transformer) -> dict[str, str]:
    """Source of the modules defining the transformer's classes and those of every estimator nested in it (union
    steps, pipeline steps, wrapped estimators), for the cache key: joblib pickles a class by its name, so without it
    an edited ``transform`` (or a module function it calls) would silently return the old features."""
    import inspect
    import sys
    estimators = [transformer] + [v for v in transformer.get_params(deep=True).values() if hasattr(v, "get_params")]
    code = {}
    for cls in {c for e in estimators for c in type(e).__mro__}:
        if cls.__module__.startswith(("sklearn", "builtins")) or cls.__module__ in code:
            continue
        try:  # the whole module: helper functions of the class count too
            code[cls.__module__] = inspect.getsource(sys.modules[cls.__module__])
        except (OSError, TypeError, KeyError):  # e.g. a class typed in an interactive session: its name only
            code[f"{cls.__module__}.{cls.__qualname__}"] = cls.__qualname__
    return dict(sorted(code.items()))


def extract_features(images, transformer=None, *, n_jobs=2, cache=True, progress=True):
    """Feature matrix of ``images``, computed in parallel over chunks of patches and cached on disk.

    Parameters
    ----------
    images : ndarray of uint8, shape (n, h, w, 3)
    transformer : transformer, optional
        Default :func:`default_features`. A clone is fitted on ``images``; the object passed in is not modified.
    n_jobs, progress : int, bool
        joblib workers (``-1``: all cores); progress bar.
    cache : bool
        Keep the result in a ``joblib.Memory`` under ``$HISTO_CACHE_DIR/features``, keyed by the pixels, the
        transformer (class and parameters) and its source code: the same call again loads it at once.

    Returns
    -------
    X : ndarray of float32, shape (n, d)
    names : ndarray of str, shape (d,)
    """
    images = check_images(images)
    transformer = default_features() if transformer is None else transformer
    if not cache:
        return _compute(images, transformer, n_jobs, progress)
    from .data import cache_dir
    cached = Memory(cache_dir("features"), verbose=0).cache(_compute, ignore=["n_jobs", "progress"])
    return cached(images, transformer, n_jobs, progress, code=_source_code(transformer))


def _features_of_files(transformer, paths):
    """Decode ``paths`` (slide-edge patches padded to 50 x 50) and compute features; unreadable files: NaN rows."""
    from .data import read_patches
    images, ok = read_patches(paths, on_small="pad", progress=False, cache=False)
    out = np.full((len(paths), len(transformer.get_feature_names_out())), np.nan, dtype=np.float32)
    out[ok] = transformer.transform(images)
    return out


def extract_features_from_paths(paths, transformer=None, *, n_jobs=2, chunk_size=1024, progress=True):
    """Features of PNG patch files, decoded and computed chunk by chunk in joblib workers (bounded memory).

    ``paths``: patch files (slide-edge patches are padded with white to 50 x 50); ``transformer``, ``n_jobs``,
    ``progress`` as in :func:`extract_features` (no cache); ``chunk_size``: files per job (a worker holds one chunk
    of decoded patches at a time). Returns ``X`` float32 ``(n, d)``, one row per path in order (NaN for files that
    cannot be decoded, listed in one warning), and ``names`` str ``(d,)``.
    """
    paths = [str(p) for p in paths]
    fitted = clone(default_features() if transformer is None else transformer)
    fitted.fit(np.full((1, 50, 50, 3), 255, dtype=np.uint8))
    X, names = _in_chunks(partial(_features_of_files, fitted), fitted, paths, n_jobs, chunk_size, progress)
    bad = np.flatnonzero(np.isnan(X).any(axis=1))
    if len(bad):
        warnings.warn(f"{len(bad)} of {len(paths)} file(s) could not be decoded; their rows are NaN: "
                      + ", ".join(paths[i] for i in bad[:5]), stacklevel=2)
    return X, names


def main(argv=None) -> int:
    """``python -m helpers features --data DIR --out FILE``: features of every patch of an IDC folder."""
    parser = argparse.ArgumentParser(prog="python -m helpers features", description="Default features of every "
                                     "patch of an IDC folder → .npz (X, names, labels, patients, x, y, paths).")
    parser.add_argument("--data", required=True, help="IDC folder (Kaggle layout <patient>/<0|1>/*.png)")
    parser.add_argument("--out", required=True, help="output .npz file")
    parser.add_argument("--nuclear", action="store_true", help="add the nuclear morphometry family (slower)")
    parser.add_argument("--n-jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--chunk-size", type=int, default=1024, help="patches per job (default 1024)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    from .data import DataError, index_idc
    t0 = time.perf_counter()
    try:
        table = index_idc(args.data, read_sizes=False)
    except DataError as exc:  # a missing or wrongly laid-out folder: the message says what to do
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    X, names = extract_features_from_paths(table["path"], default_features(nuclear=args.nuclear),
                                           n_jobs=args.n_jobs, chunk_size=args.chunk_size,
                                           progress=not args.no_progress)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, X=X, names=names, labels=table["label"].to_numpy(np.int8),
             patients=table["patient"].to_numpy(str), x=table["x"].to_numpy(np.int32),
             y=table["y"].to_numpy(np.int32), paths=table["path"].to_numpy(str))
    seconds = time.perf_counter() - t0
    print(f"✓ {len(table):,} patches from {table['patient'].nunique()} patients → {out} ({X.shape[1]} features) "
          f"in {seconds:.1f} s ({len(table) / seconds:,.0f} patches/s)")
    return 0
