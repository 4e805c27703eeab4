"""Which families belong in the default feature set? Patient-grouped CV on development patients, and the cost.

Development patients = the sample's patients NOT in the published test list (test patients are not touched here).
Every variant is scored on the same folds (``helpers.splits.patient_cv``: 5 patient-grouped folds, repeated 3 times,
seed 0) with StandardScaler → RBF SVC (balanced class weights), and compared with the first variant by the corrected
paired t-test (``helpers.evaluation.compare_to_baseline``). The extraction time of each block is measured in the same
run (decoded patches, 2 workers).

- ``--question nuclear``: the default features (74) vs default + ``NuclearFeatures`` at several thresholds.
- ``--question lbp``: local binary patterns at radii 1 and 2 (the set before issue 10's scale goal) vs one radius,
  the rest of the default set unchanged.

Usage: ``HISTO_IDC_DIR=/path/to/idc python benchmarks/bench_feature_sets.py --question lbp``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from _common import idc_dir, load_average, tree_cpu


def blocks_and_variants(question, thresholds):
    """Feature blocks to extract ({name: transformer}) and variants ({name: [block names]}), baseline first."""
    from sklearn.pipeline import FeatureUnion

    from helpers.features import ColorHistogram, GLCMFeatures, HEDStats, LBPHistogram, NuclearFeatures

    def one(name, transformer):  # a one-step FeatureUnion names its columns "<family>__<feature>"
        return FeatureUnion([(name, transformer)])

    blocks = {"color": one("color", ColorHistogram()), "hed": one("hed", HEDStats()),
              "glcm": one("glcm", GLCMFeatures())}
    if question == "nuclear":
        blocks["lbp"] = one("lbp", LBPHistogram())
        base = ["color", "hed", "lbp", "glcm"]
        variants = {"default": base}
        for t in thresholds:
            blocks[f"nuclear t={t}"] = one("nuclear", NuclearFeatures(threshold=t if t == "otsu" else float(t)))
            variants[f"default + nuclear t={t}"] = base + [f"nuclear t={t}"]
        return blocks, variants
    for r in (1, 2):  # LBPHistogram(radii=(1, 2)) is the radius-1 histogram followed by the radius-2 one
        blocks[f"lbp r={r}"] = one("lbp", LBPHistogram(radii=(r,)))
    variants = {"lbp radii (1, 2)": ["color", "hed", "lbp r=1", "lbp r=2", "glcm"],
                "lbp radii (1,)": ["color", "hed", "lbp r=1", "glcm"], "lbp radii (2,)": ["color", "hed", "lbp r=2", "glcm"]}
    return blocks, variants


def main():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from helpers.data import index_idc, read_patches
    from helpers.evaluation import compare_to_baseline, cv_scores
    from helpers.features import extract_features
    from helpers.splits import development_test_split, patient_cv

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--question", choices=["nuclear", "lbp"], required=True)
    p.add_argument("--thresholds", nargs="+", default=["0.03", "0.04", "0.05", "otsu"], help="for --question nuclear")
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args()

    table = index_idc(idc_dir())
    dev = table[development_test_split(table)[0]].reset_index(drop=True)
    print(f"{len(dev):,} patches of {dev['patient'].nunique()} development patients "
          f"({len(table) - len(dev):,} patches of test patients left out); load average {load_average()}")
    images, ok = read_patches(dev["path"], progress=False)
    dev = dev[ok].reset_index(drop=True)

    blocks, variants = blocks_and_variants(args.question, args.thresholds)
    features = {}
    extract_features(images[:512], blocks["color"], n_jobs=args.n_jobs, cache=False, progress=False)  # warm-up
    for name, transformer in blocks.items():
        t0, c0 = time.perf_counter(), tree_cpu()
        features[name], _ = extract_features(images, transformer, n_jobs=args.n_jobs, cache=False, progress=False)
        wall, cpu = time.perf_counter() - t0, tree_cpu() - c0
        print(f"extracted {name:16s} {features[name].shape[1]:3d} columns: {1e3 * cpu / len(images):.3f} ms per "
              f"patch (CPU), {len(images) / wall:,.0f} patches/s ({args.n_jobs} workers)", flush=True)

    X = {name: np.hstack([features[b] for b in parts]) for name, parts in variants.items()}
    model = make_pipeline(StandardScaler(), SVC(kernel="rbf", class_weight="balanced"))
    scores = cv_scores({name: model for name in variants}, X, dev["label"].to_numpy(), dev["patient"].to_numpy(),
                       cv=patient_cv(5, n_repeats=3, random_state=0), n_jobs=args.n_jobs)
    summary = scores.groupby(["model", "metric"], sort=False)["score"].agg(["mean", "std"])
    table = summary.apply(lambda r: f"{r['mean']:.3f} ± {r['std']:.3f}", axis=1).unstack("metric")
    table.insert(0, "columns", [X[name].shape[1] for name in table.index])
    print("\nmean ± sd over 3 × 5 patient-grouped folds (development patients only)")
    print(table.to_string())
    baseline = next(iter(variants))
    for metric in ["balanced_accuracy", "f1", "roc_auc"]:
        print(f"\n{metric}: difference to '{baseline}' on the same folds (corrected paired t-test)")
        print(compare_to_baseline(scores, baseline, metric=metric).round(4).to_string())
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
