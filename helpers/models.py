"""The reference model of the binary track (notebook 06) and the ``python -m helpers baseline`` command.

:func:`make_reference_pipeline` returns a :class:`~sklearn.pipeline.Pipeline` that starts from images::

    FeatureSet (HSV histograms, H&E statistics, LBP r=1,2, GLCM)  →  StandardScaler  →  ThresholdedClassifier(SVC)

The SVM has an RBF kernel, ``C=1``, ``gamma="scale"`` and balanced class weights (IDC patches are the minority).
:class:`ThresholdedClassifier` moves the decision threshold (e.g. one tuned on validation patients with
:func:`tune_threshold`) *inside* the estimator, so ``predict``, ``decision_function`` and ``predict_proba`` agree.

For large training sets the RBF SVM's cost grows with the square of the number of patches; the scale path is
:func:`make_scalable_pipeline` (``Nystroem`` kernel approximation + a linear SVM trained with ``SGDClassifier``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

__all__ = [
    "ThresholdedClassifier",
    "make_reference_pipeline",
    "make_scalable_pipeline",
    "tune_threshold",
    "main",
]


class ThresholdedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A binary classifier with its decision threshold inside.

    Parameters
    ----------
    estimator : classifier with ``decision_function`` (or ``predict_proba``)
    threshold : float
        Patches whose score (``decision_function``, else ``predict_proba[:, 1]``) is ``>= threshold`` are
        predicted positive. ``0.0`` is the SVM's own threshold.

    ``decision_function`` returns ``score - threshold`` (positive ⇔ predicted positive) and ``predict_proba``
    returns ``sigmoid(decision_function)`` (≥ 0.5 ⇔ predicted positive): a monotone score in [0, 1] for ROC curves,
    not a calibrated probability.
    """

    def __init__(self, estimator=None, threshold=0.0):
        self.estimator = estimator
        self.threshold = threshold

    def fit(self, X, y, **fit_params):
        est = self.estimator if self.estimator is not None else SVC()
        self.estimator_ = clone(est).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        if len(self.classes_) != 2:
            raise ValueError(f"ThresholdedClassifier is binary; got classes {self.classes_}")
        return self

    def raw_score(self, X) -> np.ndarray:
        """The wrapped estimator's score of the positive class (before the threshold)."""
        if hasattr(self.estimator_, "decision_function"):
            return np.asarray(self.estimator_.decision_function(X), dtype=float)
        return np.asarray(self.estimator_.predict_proba(X)[:, 1], dtype=float)

    def decision_function(self, X) -> np.ndarray:
        return self.raw_score(X) - float(self.threshold)

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.decision_function(X) >= 0).astype(int)]

    def predict_proba(self, X) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-np.clip(self.decision_function(X), -50, 50)))
        return np.column_stack([1 - p, p])


def make_reference_pipeline(random_state=0, *, n_jobs=1, threshold=0.0, C=1.0) -> Pipeline:
    """The reference model (notebook 06): images → default features → scaling → RBF SVM with a threshold.

    Parameters
    ----------
    random_state : int
        Seed of the SVM (only used for its internal shuffling).
    n_jobs : int
        joblib workers of the feature extraction.
    threshold : float
        Decision threshold on the SVM's decision value (see :func:`tune_threshold`).
    C : float
        SVM regularisation.

    Returns
    -------
    Pipeline with steps ``features`` (:class:`helpers.features.FeatureSet`), ``scale``
    (:class:`~sklearn.preprocessing.StandardScaler`) and ``clf`` (:class:`ThresholdedClassifier` around
    :class:`~sklearn.svm.SVC`). Input: uint8 patches ``(n, 50, 50, 3)`` (or flattened).
    """
    from .features import default_features

    svm = SVC(kernel="rbf", C=C, gamma="scale", class_weight="balanced", random_state=random_state)
    return Pipeline(
        [
            ("features", default_features(n_jobs=n_jobs)),
            ("scale", StandardScaler()),
            ("clf", ThresholdedClassifier(svm, threshold=threshold)),
        ]
    )


def make_scalable_pipeline(random_state=0, *, n_jobs=1, n_components=1000, alpha=1e-4) -> Pipeline:
    """The scale path for large training sets: features → scaling → Nystroem RBF approximation → linear SVM (SGD).

    Training cost grows linearly with the number of patches (the RBF SVC's grows quadratically), so all of the
    277,524 patches can be used.
    """
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import SGDClassifier

    from .features import default_features

    return Pipeline(
        [
            ("features", default_features(n_jobs=n_jobs)),
            ("scale", StandardScaler()),
            ("rbf", Nystroem(kernel="rbf", gamma=None, n_components=n_components, random_state=random_state)),
            (
                "clf",
                ThresholdedClassifier(
                    SGDClassifier(loss="hinge", alpha=alpha, class_weight="balanced", max_iter=50, tol=1e-4,
                                  random_state=random_state),
                ),
            ),
        ]
    )


def tune_threshold(estimator, X, y, groups, *, cv=5, scoring="balanced_accuracy") -> float:
    """Threshold on ``estimator``'s decision value that maximises ``scoring`` on held-out patients.

    Out-of-fold decision values come from a patient-grouped cross-validation (:class:`~sklearn.model_selection.
    GroupKFold`) of a clone of ``estimator`` with threshold 0; the best of 201 candidate thresholds (quantiles of
    those values) is returned. Set it with ``estimator.set_params(clf__threshold=t)`` and refit.
    """
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GroupKFold, cross_val_predict

    est = clone(estimator)
    if "clf__threshold" in est.get_params():
        est.set_params(clf__threshold=0.0)
    scores = cross_val_predict(est, X, y, groups=groups, cv=GroupKFold(cv), method="decision_function")
    metric = get_scorer(scoring)._score_func
    candidates = np.unique(np.quantile(scores, np.linspace(0.005, 0.995, 201)))
    values = [metric(y, (scores >= t).astype(int)) for t in candidates]
    return float(candidates[int(np.argmax(values))])


# --------------------------------------------------------------------------------------------------------------
# python -m helpers baseline
# --------------------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    """``python -m helpers baseline --train DIR --test DIR [--json]``."""
    p = argparse.ArgumentParser(
        prog="python -m helpers baseline",
        description="Train the reference pipeline (default features + scaling + RBF SVM, notebook 06) on the "
        "patients of one IDC folder and report on the patients of another: balanced accuracy, F1 (IDC class), "
        "ROC AUC, accuracy, counts, time. Training patches are capped per patient (seeded) so time and memory "
        "stay bounded on the full data set; every test patch is scored.",
    )
    p.add_argument("--train", required=True, help="IDC folder of the training patients")
    p.add_argument("--test", required=True, help="IDC folder of the test patients")
    p.add_argument("--json", action="store_true", help="print one JSON object (and nothing else on stdout)")
    p.add_argument("--max-per-patient", type=int, default=200,
                   help="training patches per patient at most, class mix kept (default 200)")
    p.add_argument("--max-train", type=int, default=20_000, help="training patches at most (default 20000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the training subsample and the SVM")
    p.add_argument("--n-jobs", type=int, default=2, help="feature extraction workers (default 2)")
    p.add_argument("--no-cache", action="store_true", help="do not use the feature cache")
    args = p.parse_args(argv)

    from ._common import DataError
    from .data import index_idc, subsample
    from .features import extract_features_from_paths
    from .metrics import binary_report

    t0 = time.perf_counter()
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    try:
        train = index_idc(args.train, read_sizes=False)
        test = index_idc(args.test, read_sizes=False)
    except DataError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    if len(train) == 0 or len(test) == 0:
        print("✗ no patches found in " + (args.train if len(train) == 0 else args.test), file=sys.stderr)
        return 2
    overlap = sorted(set(train["patient"]) & set(test["patient"]))
    if overlap:
        print(f"✗ {len(overlap)} patient(s) are in both folders (e.g. {overlap[:5]}): the test must be on other "
              "patients.", file=sys.stderr)
        return 2
    if train["label"].nunique() < 2:
        print("✗ the training folder has only one class", file=sys.stderr)
        return 2
    n_train_all = len(train)
    train = subsample(train, max_per_patient=args.max_per_patient, max_patches=args.max_train, seed=args.seed)
    cache = False if args.no_cache else None
    progress = not args.json and sys.stderr.isatty()
    log(f"Training on {len(train):,} of {n_train_all:,} patches from {train['patient'].nunique()} patients "
        f"(at most {args.max_per_patient} per patient, {args.max_train:,} in all, seed {args.seed}).")

    model = make_reference_pipeline(random_state=args.seed)
    features, head = model[0], model[1:]
    t1 = time.perf_counter()
    X_train, _ = extract_features_from_paths(train["path"].tolist(), features=features, n_jobs=args.n_jobs,
                                             cache_dir=cache, progress=progress)
    ok = np.isfinite(X_train).all(axis=1)
    head.fit(X_train[ok], train["label"].to_numpy()[ok])
    t2 = time.perf_counter()
    log(f"Scoring {len(test):,} patches from {test['patient'].nunique()} patients.")
    X_test, _ = extract_features_from_paths(test["path"].tolist(), features=features, n_jobs=args.n_jobs,
                                            cache_dir=cache, progress=progress)
    ok_test = np.isfinite(X_test).all(axis=1)
    y_test = test["label"].to_numpy()[ok_test]
    score = head.decision_function(X_test[ok_test])
    pred = (score >= 0).astype(int)
    t3 = time.perf_counter()

    rep = binary_report(y_test, pred, score)
    result = {
        "balanced_accuracy": rep["balanced_accuracy"],
        "f1": rep["f1"],
        "roc_auc": rep["roc_auc"],
        "accuracy": rep["accuracy"],
        "precision": rep["precision"],
        "recall": rep["recall"],
        "n_train_patches": int(ok.sum()),
        "n_train_patients": int(train["patient"].nunique()),
        "n_test_patches": int(ok_test.sum()),
        "n_test_patients": int(test["patient"].nunique()),
        "n_test_positive": rep["n_positive"],
        "tp": rep["tp"],
        "fp": rep["fp"],
        "fn": rep["fn"],
        "tn": rep["tn"],
        "n_unreadable": int((~ok).sum() + (~ok_test).sum()),
        "train_seconds": round(t2 - t1, 1),
        "test_seconds": round(t3 - t2, 1),
        "total_seconds": round(t3 - t0, 1),
        "model": "default features + StandardScaler + RBF SVC (C=1, gamma=scale, balanced), threshold 0",
        "max_per_patient": args.max_per_patient,
        "max_train": args.max_train,
        "seed": args.seed,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"Reference pipeline — trained on {result['n_train_patches']:,} patches of {result['n_train_patients']} "
        f"patients, tested on {result['n_test_patches']:,} patches ({result['n_test_positive']:,} IDC) of "
        f"{result['n_test_patients']} other patients\n"
        f"  balanced accuracy {result['balanced_accuracy']:.3f}\n"
        f"  F1 (IDC)          {result['f1']:.3f}\n"
        f"  ROC AUC           {result['roc_auc']:.3f}\n"
        f"  accuracy          {result['accuracy']:.3f}\n"
        f"  precision/recall  {result['precision']:.3f} / {result['recall']:.3f}\n"
        f"  confusion         TP {result['tp']:,}  FP {result['fp']:,}  FN {result['fn']:,}  TN {result['tn']:,}\n"
        f"  time              train {result['train_seconds']} s, test {result['test_seconds']} s, "
        f"total {result['total_seconds']} s"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
