"""Accuracy of the reference pipeline (``python -m helpers baseline``) on patients it was not trained on.

1. The published split: patients of the shared sample in the train + validation lists → training folder, those in
   the test list → test folder (two folders of symbolic links), then ``python -m helpers baseline --json``.
2. A patient-grouped 5-fold cross-validation over every patient of the shared sample (out-of-fold predictions of
   the same pipeline, same per-patient training cap): a second estimate on more (and harder) held-out patients.

Goal: balanced accuracy >= 0.85 and F1 >= 0.72 on unseen patients. Anchors (Cruz-Roa et al. 2014, full data):
handcrafted features + random forest F1 0.68 / BAC 0.79; their CNN F1 0.72 / BAC 0.84.

Usage: ``HISTO_IDC_DIR=/path/to/idc python benchmarks/bench_accuracy.py [--work /tmp/idc-split]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from _common import idc_dir


def link_split(root: Path, work: Path) -> tuple[Path, Path]:
    from helpers.splits import published_split

    split = published_split()
    folders = {"train": split["train"] + split["val"], "test": split["test"]}
    shutil.rmtree(work, ignore_errors=True)
    for name, ids in folders.items():
        (work / name).mkdir(parents=True)
        for pid in ids:
            if (root / pid).is_dir():
                os.symlink(root / pid, work / name / pid)
    return work / "train", work / "test"


def main():
    from sklearn.model_selection import GroupKFold

    from helpers.data import index_idc, subsample
    from helpers.features import extract_features_from_paths
    from helpers.metrics import binary_report
    from helpers.models import main as baseline, make_reference_pipeline

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", default="/tmp/idc-split")
    p.add_argument("--max-per-patient", type=int, default=200)
    args = p.parse_args()
    root = idc_dir()

    train, test = link_split(root, Path(args.work))
    buf = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        rc = baseline(["--train", str(train), "--test", str(test), "--json", "--max-per-patient",
                       str(args.max_per_patient)])
    assert rc == 0
    r = json.loads(buf.getvalue())
    print(f"1. published split ({r['n_train_patients']} train+val patients, {r['n_train_patches']:,} training "
          f"patches → {r['n_test_patients']} test patients, {r['n_test_patches']:,} patches, "
          f"{r['n_test_positive']:,} IDC), {time.perf_counter() - t:.0f} s:")
    print(f"   balanced accuracy {r['balanced_accuracy']:.3f}  F1 {r['f1']:.3f}  ROC AUC {r['roc_auc']:.3f}  "
          f"accuracy {r['accuracy']:.3f}")

    table = index_idc(root, read_sizes=False)
    X, _ = extract_features_from_paths(table["path"].tolist(), progress=False)
    y = table["label"].to_numpy()
    groups = table["patient"].to_numpy()
    score = np.empty(len(y))
    for tr, te in GroupKFold(5).split(X, y, groups):
        sub = subsample(table.iloc[tr], max_per_patient=args.max_per_patient, seed=0)
        rows = np.flatnonzero(table["path"].isin(set(sub["path"])).to_numpy())  # paths are unique
        head = make_reference_pipeline()[1:]
        head.fit(X[rows], y[rows])
        score[te] = head.decision_function(X[te])
    cv = binary_report(y, (score >= 0).astype(int), score)
    print(f"2. patient-grouped 5-fold CV over all {len(np.unique(groups))} patients ({len(y):,} patches):")
    print(f"   balanced accuracy {cv['balanced_accuracy']:.3f}  F1 {cv['f1']:.3f}  ROC AUC {cv['roc_auc']:.3f}  "
          f"accuracy {cv['accuracy']:.3f}")
    print("goal: balanced accuracy >= 0.85, F1 >= 0.72")
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
