"""Accuracy of the reference method, patch only and with slide context, on patients never used for any choice.

1. The published split of the sample: train + validation patients → test patients, through
   ``python -m helpers baseline --json`` (folders of symbolic links).
2. Patient-grouped 5-fold CV over every patient of the sample (out-of-fold scores, pooled).
3. Whole slides of unseen patients: leave one complete slide out (8863, 8864, 8917, 8950, 9023, 9124) — train on every
   other patient (sparse ones and the other complete slides), score every patch of the held-out slide; per slide and
   pooled.

In 2 and 3 the SVM is fitted on at most 200 patches per patient and the slide context (smoothing width, threshold) is
chosen by patient-grouped 5-fold CV on the training patients only (:func:`helpers.models.fit_reference_method`),
exactly as in 1. Patch only = the SVM's own threshold 0.

Targets (issue 12), on unseen whole slides: reference method BAC >= 0.85 and F1 >= 0.72; patch only not below
0.842 / 0.677. Anchors on the full data: Cruz-Roa 2014 CNN F1 0.718 / BAC 0.842; Janowczyk 2016 AlexNet F1 0.765.

Usage: ``HISTO_IDC_DIR=/path/to/idc python benchmarks/bench_accuracy.py [--work /tmp/idc-split]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import idc_dir, load_average

COMPLETE = ["8863", "8864", "8917", "8950", "9023", "9124"]
COLUMNS = ["balanced_accuracy", "f1", "roc_auc", "precision", "recall"]


def link_split(root: Path, work: Path) -> tuple[Path, Path]:
    from helpers.splits import published_split

    split = published_split()
    shutil.rmtree(work, ignore_errors=True)
    for name, ids in {"train": split["train"] + split["val"], "test": split["test"]}.items():
        (work / name).mkdir(parents=True)
        for pid in ids:
            for png in (root / pid).glob("*/*.png"):  # one link per file: folders of links are not followed
                (work / name / pid / png.parent.name).mkdir(parents=True, exist_ok=True)
                os.symlink(png, work / name / pid / png.parent.name / png.name)
    return work / "train", work / "test"


def scores_on(X, table, train, test, max_per_patient=200):
    """Fit the reference method on rows ``train`` (bool), return (patch scores, smoothed scores, threshold) on
    rows ``test`` and the chosen context."""
    from helpers.models import fit_reference_method
    from helpers.slides import smooth_scores

    t_train = table[train].reset_index(drop=True)
    capped = t_train.sample(frac=1.0, random_state=0).groupby("patient").head(max_per_patient).index.to_numpy()
    head, context, _ = fit_reference_method(X[train], t_train["label"].to_numpy(), t_train, capped)
    t_test = table[test]
    score = head.decision_function(X[test])
    smooth = smooth_scores(score, t_test["x"], t_test["y"], t_test["patient"], sigma=context["sigma"])
    return score, smooth, context


def reports(y, score, smooth, threshold) -> dict:
    from helpers.evaluation import binary_report

    return {"patch only": binary_report(y, score >= 0, score),
            "with context": binary_report(y, smooth >= threshold, smooth)}


def show(rows: dict) -> str:
    return pd.DataFrame(rows).T[COLUMNS].astype(float).round(3).to_string()


def main():
    from helpers.data import index_idc
    from helpers.features import extract_features_from_paths
    from helpers.models import run_baseline
    from helpers.splits import patient_cv

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", default="/tmp/idc-split")
    args = p.parse_args()
    root = idc_dir()
    print(f"data: {root}; load average {load_average()}")

    t = time.perf_counter()
    train_dir, test_dir = link_split(root, Path(args.work))
    r = run_baseline(train_dir, test_dir)
    shutil.rmtree(args.work, ignore_errors=True)
    print(f"\n1. published split: {r['n_train_patients']} train+val patients ({r['n_train_patches']:,} SVM training "
          f"patches) → {r['n_test_patients']} test patients ({r['n_test_patches']:,} patches, {r['n_test_positive']:,} "
          f"IDC); context sigma {r['context']['sigma']:g}, threshold {r['context']['threshold']:.3f}; "
          f"{time.perf_counter() - t:.0f} s")
    print(show({"patch only": r["patch_only"], "with context": r}))

    t = time.perf_counter()
    table = index_idc(root)
    X, _ = extract_features_from_paths(table["path"].tolist(), progress=False)
    ok = np.isfinite(X).all(axis=1)
    table, X = table[ok].reset_index(drop=True), X[ok]
    y, patients = table["label"].to_numpy(), table["patient"].astype(str).to_numpy()
    score, margin = np.empty(len(y)), np.empty(len(y))  # margin: smoothed score minus the fold's threshold
    for tr, te in patient_cv(5).split(X, y, patients):
        train, test = np.isin(np.arange(len(y)), tr), np.isin(np.arange(len(y)), te)
        score[te], smooth, c = scores_on(X, table, train, test)
        margin[te] = smooth - c["threshold"]
    rep = reports(y, score, margin, 0.0)
    print(f"\n2. patient-grouped 5-fold CV over all {len(np.unique(patients))} patients ({len(y):,} patches), "
          f"out-of-fold, pooled; {time.perf_counter() - t:.0f} s")
    print(show(rep))

    t = time.perf_counter()
    rows, pooled = {}, {"y": [], "score": [], "smooth": []}
    for slide in [s for s in COMPLETE if s in set(patients)]:
        test = patients == slide
        s_score, s_smooth, c = scores_on(X, table, ~test, test)
        rep = reports(y[test], s_score, s_smooth, c["threshold"])
        rows[f"{slide} patch only"] = rep["patch only"]
        rows[f"{slide} with context (sigma {c['sigma']:g})"] = rep["with context"]
        pooled["y"].append(y[test])
        pooled["score"].append(s_score)
        pooled["smooth"].append(s_smooth - c["threshold"])
    yy, ss, sm = (np.concatenate(v) for v in pooled.values())
    pooled_rep = reports(yy, ss, sm, 0.0)
    rows["POOLED patch only"] = pooled_rep["patch only"]
    rows["POOLED with context"] = pooled_rep["with context"]
    print(f"\n3. whole slides of unseen patients, leave one complete slide out ({len(yy):,} patches, "
          f"{yy.mean():.0%} IDC); {time.perf_counter() - t:.0f} s")
    print(show(rows))
    print("\ntargets on unseen whole slides: with context BAC >= 0.85 and F1 >= 0.72; patch only >= 0.842 / 0.677")


if __name__ == "__main__":
    main()
