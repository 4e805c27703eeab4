"""End-to-end feature extraction (PNG decoding included) against a naive per-patch scikit-image loop.

Both read every PNG of the sample and compute the default feature families with 2 joblib workers, alternated in
the same run (the machine may be shared: compare the ratio, and the per-CPU-second figures when the load average
is above the number of cores):

* naive: for each file, Pillow decode, then ``rgb2hsv`` + 3 ``np.histogram`` (16 bins), ``rgb2hed`` mean/std,
  ``local_binary_pattern`` (P=8 at the default set's radii, uniform) histograms, ``graycomatrix`` (distances 1, 2; 4 angles;
  16 levels) + 5 ``graycoprops`` (with ``--nuclear`` also the nuclear morphometry of ``NuclearFeatures``, per patch);
* ours: ``helpers.features.extract_features_from_paths`` — what ``python -m helpers features`` runs.

Goal (issue 10): ours >= 2x the naive loop.

Usage: ``HISTO_IDC_DIR=/path/to/idc python benchmarks/bench_features.py [--repeat 2] [--nuclear]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from joblib import Parallel, delayed

from _common import idc_dir, load_average, tree_cpu

PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation")


def naive_features(path: str, nuclear: bool = False) -> np.ndarray:
    """What a student would write: one file, one patch, one scikit-image call after the other."""
    from PIL import Image
    from skimage import color, feature, filters, measure, util

    from helpers.features import ANGLES, LBPHistogram

    patch = np.full((50, 50, 3), 255, dtype=np.uint8)
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"))[:50, :50]
    patch[: arr.shape[0], : arr.shape[1]] = arr
    hsv = color.rgb2hsv(patch)
    parts = [np.histogram(hsv[..., c], 16, range=(0, 1))[0] / 2500 for c in range(3)]
    hed = color.rgb2hed(patch).reshape(-1, 3)
    parts.append(np.stack([hed.mean(0), hed.std(0)], axis=1).ravel())
    gray = util.img_as_ubyte(color.rgb2gray(patch))
    for radius in LBPHistogram().radii:  # the default set's radii
        lbp = feature.local_binary_pattern(gray, 8, radius, "uniform")
        parts.append(np.histogram(lbp, bins=10, range=(0, 10))[0] / lbp.size)
    glcm = feature.graycomatrix(gray // 16, (1, 2), ANGLES, 16, symmetric=True, normed=True)
    parts += [feature.graycoprops(glcm, p).mean(axis=1) for p in PROPS]
    if nuclear:
        h = filters.gaussian(color.rgb2hed(patch)[..., 0], sigma=1.0)
        lab = measure.label(h > 0.03)
        sizes = np.bincount(lab.ravel())
        lab[sizes[lab] < 3] = 0
        inside = lab > 0
        row = np.zeros(8)
        row[7] = h[~inside].mean() if not inside.all() else 0
        if inside.any():
            obj = measure.regionprops_table(lab, properties=("area", "eccentricity", "solidity"))
            row[:7] = (len(obj["area"]), inside.mean(), obj["area"].mean(), obj["area"].std(),
                       obj["eccentricity"].mean(), obj["solidity"].mean(), h[inside].mean())
        parts.append(row)
    return np.concatenate(parts).astype(np.float32)


def _naive_chunk(chunk, nuclear):
    return np.stack([naive_features(p, nuclear) for p in chunk])


def naive_loop(paths, nuclear=False, n_jobs=2):
    chunks = [paths[s : s + 256] for s in range(0, len(paths), 256)]
    return np.concatenate(Parallel(n_jobs=n_jobs)(delayed(_naive_chunk)(c, nuclear) for c in chunks))


def main():
    from helpers.data import index_idc
    from helpers.features import default_features, extract_features_from_paths, feature_families

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=2, help="alternating timed runs of each (best kept)")
    p.add_argument("--nuclear", action="store_true", help="add the nuclear morphometry family to both")
    p.add_argument("--n", type=int, default=None, help="only the first N patches")
    args = p.parse_args()

    paths = index_idc(idc_dir())["path"].tolist()[: args.n]
    n = len(paths)
    union = default_features(nuclear=args.nuclear)
    print(f"{n:,} PNG files of the shared sample, {'default + nuclear' if args.nuclear else 'default'} features; "
          f"load average {load_average()}")
    naive_loop(paths[:512], args.nuclear)  # warm-up (worker start-up, imports), not timed
    extract_features_from_paths(paths[:2048], union, progress=False)

    times = {"naive": [], "ours": []}
    cpus = {"naive": [], "ours": []}
    for _ in range(args.repeat):  # alternate, so both see the same machine load
        for name in times:
            t, c = time.perf_counter(), tree_cpu()
            if name == "naive":
                ref = naive_loop(paths, args.nuclear)
            else:
                ours, names = extract_features_from_paths(paths, union, progress=False)
            times[name].append(time.perf_counter() - t)
            cpus[name].append(tree_cpu() - c)
    fams = feature_families(names)
    same = fams != "color"  # colour: skimage's rgb2hsv in the naive loop, Pillow's HSV in ours
    print(f"max |naive - ours| outside the colour family: {np.abs(ref[:, same] - ours[:, same]).max():.1e}")
    rate = {k: n / min(v) for k, v in times.items()}
    cpu_rate = {k: n / min(v) for k, v in cpus.items()}
    for k in times:
        print(f"{k:5s}: {rate[k]:7,.0f} patches/s wall (best of {args.repeat}), {cpu_rate[k]:6,.0f} per CPU-second")
    print(f"speed-up end to end: {rate['ours'] / rate['naive']:.2f}x wall, {cpu_rate['ours'] / cpu_rate['naive']:.2f}x "
          f"per CPU-second (goal >= 2x)")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
