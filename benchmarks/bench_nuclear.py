"""Does the nuclear morphometry family belong in the default feature set? Patient-grouped CV on development patients.

Development patients = the sample's patients NOT in the published test list (test patients are not touched here).
Same folds (StratifiedGroupKFold, 5 folds, by patient, seed 0) for every variant: StandardScaler → RBF SVC with
balanced class weights on the 84 default features, and on the default features + ``NuclearFeatures`` for a few
thresholds (the threshold is itself a parameter chosen here). Prints balanced accuracy, F1 and ROC AUC (mean ± sd over
folds), the per-fold difference to the default set, and the extraction time of each family in the same run.

Usage: ``HISTO_IDC_DIR=/path/to/idc python benchmarks/bench_nuclear.py [--thresholds 0.03 0.04 0.05 otsu]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from _common import idc_dir, load_average, tree_cpu


def main():
    from sklearn.model_selection import StratifiedGroupKFold, cross_validate
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from helpers.data import index_idc, read_patches
    from helpers.features import NuclearFeatures, default_features, extract_features
    from helpers.splits import published_split

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--thresholds", nargs="+", default=["0.03", "0.04", "0.05", "otsu"])
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args()

    table = index_idc(idc_dir())
    test = set(published_split()["test"])
    dev = table[~table["patient"].isin(test)].reset_index(drop=True)
    print(f"{len(dev):,} patches of {dev['patient'].nunique()} development patients "
          f"({len(table) - len(dev):,} patches of test patients left out); load average {load_average()}")
    images, ok = read_patches(dev["path"], progress=False)
    dev = dev[ok].reset_index(drop=True)

    blocks, rates = {}, {}
    for name, transformer in [("default", default_features())] + [
        (f"nuclear t={t}", FeatureUnion([("nuclear", NuclearFeatures(threshold=t if t == "otsu" else float(t)))]))
        for t in args.thresholds
    ]:
        t0, c0 = time.perf_counter(), tree_cpu()
        blocks[name], _ = extract_features(images, transformer, n_jobs=args.n_jobs, cache=False, progress=False)
        wall, cpu = time.perf_counter() - t0, tree_cpu() - c0
        rates[name] = f"{len(images) / wall:,.0f} patches/s, {len(images) / cpu:,.0f} per CPU-s"
        print(f"extracted {name:18s} {rates[name]} (decoded patches, {args.n_jobs} workers)", flush=True)

    y, groups = dev["label"].to_numpy(), dev["patient"].to_numpy()
    cv = list(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0).split(images, y, groups))
    model = make_pipeline(StandardScaler(), SVC(kernel="rbf", class_weight="balanced"))
    scoring = {"BAC": "balanced_accuracy", "F1": "f1", "AUC": "roc_auc"}
    variants = {"default (84)": blocks["default"]}
    for t in args.thresholds:
        variants[f"default + nuclear t={t}"] = np.hstack([blocks["default"], blocks[f"nuclear t={t}"]])
    folds, rows = {}, {}
    for name, X in variants.items():
        res = cross_validate(model, X, y, groups=groups, cv=cv, scoring=scoring, n_jobs=args.n_jobs)
        folds[name] = {m: res[f"test_{m}"] for m in scoring}
        rows[name] = {m: f"{v.mean():.3f} ± {v.std():.3f}" for m, v in folds[name].items()}
        rows[name]["ΔBAC vs default (folds better)"] = (
            f"{(folds[name]['BAC'] - folds['default (84)']['BAC']).mean():+.4f} "
            f"({(folds[name]['BAC'] > folds['default (84)']['BAC']).sum()}/5)")
        print(name, rows[name], flush=True)
    print(pd.DataFrame(rows).T.to_string())
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
