"""The reference method of the binary track (patch model of notebook 06 + slide context of notebook 08) and
``python -m helpers baseline``. Every setting is chosen on training patients only, never on test patients."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .data import DataError, index_idc
from .evaluation import binary_report
from .features import default_features, extract_features_from_paths
from .slides import choose_slide_context, smooth_scores
from .splits import patient_cv

__all__ = ["make_reference_pipeline", "fit_reference_method", "run_baseline", "main"]

METRICS = ("balanced_accuracy", "f1", "roc_auc", "accuracy", "precision", "recall", "tp", "fp", "fn", "tn")


def make_reference_pipeline(random_state=0, **params) -> Pipeline:
    """Images (uint8 (n, 50, 50, 3)) → default features → scaling → RBF SVM (``C=1``, ``gamma="scale"``, balanced).

    Steps ``features`` (:func:`helpers.features.default_features`), ``scale``, ``clf``; ``params`` go to
    ``Pipeline.set_params`` (e.g. ``clf__C=10``). ``pipe[0]`` is the feature step, ``pipe[1:]`` the rest."""
    svm = SVC(kernel="rbf", C=1.0, gamma="scale", class_weight="balanced", random_state=random_state)
    return Pipeline([("features", default_features()), ("scale", StandardScaler()), ("clf", svm)]).set_params(**params)


def fit_reference_method(X, labels, table, fit_rows=None, *, n_splits=5, random_state=0):
    """Fit the patch model and choose the slide context on the training patients only.

    ``X`` float (n, d), ``labels`` int (n,), ``table`` (columns patient, x, y): every patch of the training patients,
    all scored out of fold (``n_splits`` patient-grouped folds) so that the smoothing sees whole slides; the SVM is
    fitted on ``fit_rows`` (int or bool index, default all). Returns ``(head, context, cv_table)``: fitted scaler + SVM
    (``pipe[1:]`` of :func:`make_reference_pipeline`), chosen ``sigma``/``threshold``, the per-sigma table."""
    labels, patients, fit = np.asarray(labels), table["patient"].astype(str).to_numpy(), np.zeros(len(labels), bool)
    fit[np.arange(len(labels)) if fit_rows is None else fit_rows] = True
    head, oof = make_reference_pipeline(random_state)[1:], np.empty(len(labels))
    for tr, te in patient_cv(n_splits, random_state=random_state).split(X, labels, patients):
        oof[te] = clone(head).fit(X[tr[fit[tr]]], labels[tr[fit[tr]]]).decision_function(X[te])
    return (head.fit(X[fit], labels[fit]), *choose_slide_context(oof, labels, table["x"], table["y"], patients))


def run_baseline(train_dir, test_dir, *, max_per_patient=200, max_train=20_000, random_state=0, n_jobs=2,
                 progress=False) -> dict:
    """Train the reference method on the patients of one IDC folder, score it on the patients of another.

    The SVM sees at most ``max_per_patient`` patches per patient (``max_train`` in all, seeded), the slide context is
    chosen by patient-grouped 5-fold CV on the training patients. Returns a dict: :data:`METRICS` with context, the
    same under ``patch_only`` (threshold 0), ``context``, counts, seconds. Raises :class:`helpers.DataError`."""
    t0, train, test = time.perf_counter(), index_idc(train_dir, read_sizes=False), index_idc(test_dir, read_sizes=False)
    if overlap := sorted(set(train["patient"]) & set(test["patient"])):
        raise DataError(f"{len(overlap)} patient(s) are in both folders (e.g. {overlap[:5]}): test on other patients")
    if train["label"].nunique() < 2:
        raise DataError("the training folder has only one class: it needs IDC and non-IDC patches")
    (X_train, _), (X_test, _) = (extract_features_from_paths(t["path"].tolist(), n_jobs=n_jobs, progress=progress)
                                 for t in (train, test))
    ok_train, ok_test = np.isfinite(X_train).all(axis=1), np.isfinite(X_test).all(axis=1)
    train, test = train[ok_train].reset_index(drop=True), test[ok_test].reset_index(drop=True)
    fit_rows = train.sample(frac=1.0, random_state=random_state).groupby("patient").head(max_per_patient).index
    head, context, _ = fit_reference_method(X_train[ok_train], train["label"].to_numpy(), train,
                                            fit_rows[:max_train], random_state=random_state)
    y, score = test["label"].to_numpy(), head.decision_function(X_test[ok_test])
    smooth = smooth_scores(score, test["x"], test["y"], test["patient"], sigma=context["sigma"])
    result = {k: v for k, v in binary_report(y, smooth >= context["threshold"], smooth).items() if k in METRICS}
    result["patch_only"] = {k: v for k, v in binary_report(y, score >= 0, score).items() if k in METRICS}
    result["context"] = {"sigma": context["sigma"], "threshold": context["threshold"],
                         "cv_balanced_accuracy": context["balanced_accuracy"], "cv_f1": context["f1"]}
    return result | dict(
        n_train_patches=len(fit_rows[:max_train]), n_train_patients=int(train["patient"].nunique()),
        n_test_patches=len(y), n_test_patients=int(test["patient"].nunique()), n_test_positive=int(y.sum()),
        n_unreadable=int((~ok_train).sum() + (~ok_test).sum()), total_seconds=round(time.perf_counter() - t0, 1),
        model="default features + StandardScaler + RBF SVC (C=1, gamma=scale, balanced) + slide context",
        max_per_patient=max_per_patient, max_train=max_train, seed=random_state)


def main(argv=None) -> int:
    """``python -m helpers baseline --train DIR --test DIR [--json]``."""
    p = argparse.ArgumentParser(prog="python -m helpers baseline", description=run_baseline.__doc__.split("\n")[0])
    p.add_argument("--train", required=True, help="IDC folder of the training patients")
    p.add_argument("--test", required=True, help="IDC folder of the test patients")
    p.add_argument("--json", action="store_true", help="print one JSON object (and nothing else on stdout)")
    for flag, default, what in [("--max-per-patient", 200, "SVM training patches per patient"),
                                ("--max-train", 20_000, "SVM training patches at most"),
                                ("--seed", 0, "seed of the training subsample, the folds and the SVM"),
                                ("--n-jobs", 2, "feature extraction workers")]:
        p.add_argument(flag, type=int, default=default, help=f"{what} (default {default})")
    args = p.parse_args(argv)
    try:
        r = run_baseline(args.train, args.test, max_per_patient=args.max_per_patient, max_train=args.max_train,
                         random_state=args.seed, n_jobs=args.n_jobs, progress=not args.json and sys.stderr.isatty())
    except DataError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    table = "\n".join(f"  {k:18s}{r[k]:>14.3f}{r['patch_only'][k]:>12.3f}" for k in METRICS[:6])
    print(json.dumps(r) if args.json else
          f"Reference method: trained on {r['n_train_patches']:,} patches of {r['n_train_patients']} patients, tested "
          f"on {r['n_test_patches']:,} patches ({r['n_test_positive']:,} IDC) of {r['n_test_patients']} other patients;"
          f" slide context sigma {r['context']['sigma']:g}, threshold {r['context']['threshold']:.3f} (grouped CV on "
          f"the training patients); {r['total_seconds']} s\n{'':20s}{'with context':>14s}{'patch only':>12s}\n{table}")
    return 0

