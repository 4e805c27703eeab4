"""Evaluation of patch classifiers: metrics (:func:`binary_report`, :func:`report_table`), models cross-validated on
the same patient folds (:func:`cv_scores`) and compared fold by fold (:func:`compare_to_baseline`), error pickers
(:func:`confidence_ranking`) and :func:`grouped_permutation_importance`. Arrays in, numbers / arrays / DataFrames out:
nothing prints or draws (figures are scikit-learn Displays and pandas plots in the notebooks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["binary_report", "report_table", "cv_scores", "compare_to_baseline", "confidence_ranking",
           "grouped_permutation_importance"]


def binary_report(y_true, y_pred, y_score=None) -> dict:
    """Balanced accuracy, F1 of the positive class, ROC AUC, accuracy, precision, recall and counts.

    Parameters
    ----------
    y_true, y_pred : int array (n,) of 0/1, true and predicted labels (1: the positive class, IDC)
    y_score : float array (n,), optional, probability or decision value of class 1 (for ROC AUC)

    Returns
    -------
    dict
        ``balanced_accuracy``, ``f1``, ``roc_auc``, ``accuracy``, ``precision``, ``recall`` (floats) and ``n``,
        ``n_positive``, ``tp``, ``fp``, ``fn``, ``tn`` (ints). ``roc_auc`` is ``nan`` without ``y_score``;
        ``roc_auc`` and ``balanced_accuracy`` are ``nan`` when ``y_true`` holds one class only (they average over
        both classes). Precision, recall and F1 are 0 when undefined (no predicted / no true positives).
    """
    from sklearn import metrics

    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length; got {y_true.shape} and {y_pred.shape}")
    tn, fp, fn, tp = metrics.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    both = len(np.unique(y_true)) == 2
    auc = float("nan")
    if y_score is not None and both:
        auc = float(metrics.roc_auc_score(y_true, np.asarray(y_score, dtype=float)))
    return {
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y_true, y_pred)) if both else float("nan"),
        "f1": float(metrics.f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": auc,
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "precision": float(metrics.precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(metrics.recall_score(y_true, y_pred, zero_division=0)),
        "n": len(y_true), "n_positive": int(y_true.sum()), "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
    }


def report_table(reports: dict[str, dict], columns=("balanced_accuracy", "f1", "roc_auc", "accuracy")) -> pd.DataFrame:
    """Several :func:`binary_report` dicts side by side: one row per name, the chosen ``columns``, rounded to 3."""
    return pd.DataFrame({name: {c: r[c] for c in columns} for name, r in reports.items()}).T.round(3)


def cv_scores(models: dict, X, y, groups, *, cv, scoring=("balanced_accuracy", "f1", "roc_auc"), extra_train=None,
              X_test=None, n_jobs: int = 1, progress: bool = False) -> pd.DataFrame:
    """Cross-validate several models on the same patient-grouped folds, one score per model, fold and metric.

    Parameters
    ----------
    models : dict name → scikit-learn estimator (cloned for every fold)
    X : float array (n, d), or dict name → float array (n, d_name), one per model (e.g. after a colour treatment)
    y : int array (n,); groups : array (n,), patient ids: the folds come from ``cv.split(X, y, groups)``, once
    cv : scikit-learn splitter
        E.g. ``helpers.splits.patient_cv(5, n_repeats=3)``; fold ``i`` belongs to repeat ``i // n_splits``.
    scoring : sequence of scikit-learn scorer names (``nan`` for class-averaged ones on a one-class test fold)
    extra_train : dict name → float array (n, d_name), optional
        Additional training rows aligned with ``y`` (e.g. features of jittered copies of every patch): in each fold
        the extra rows of the *training* patients are added to the fit; the test side never sees them.
    X_test : dict name → float array (n, d_name), optional
        Features for the *test* side of that model's folds (e.g. the same patches re-stained), aligned with ``y``.
    n_jobs : int, folds fitted in parallel (joblib); progress : bool, a progress bar over models × folds

    Returns
    -------
    DataFrame, long form: columns ``model``, ``repeat``, ``fold``, ``metric``, ``score``
    """
    from joblib import Parallel, delayed
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    y, groups = np.asarray(y), np.asarray(groups)
    missing = [m for m in models if isinstance(X, dict) and m not in X]
    if missing:
        raise ValueError(f"X is a dict but has no features for model(s) {missing}; give one array per model name")
    folds = list(cv.split(np.zeros((len(y), 1)), y, groups))
    per_repeat = len(folds) // getattr(cv, "n_repeats", 1)

    def run(name, k, train, test):
        Xm = np.asarray(X[name] if isinstance(X, dict) else X)
        X_fit, y_fit = Xm[train], y[train]
        if extra_train is not None and name in extra_train:
            X_fit = np.concatenate([X_fit, np.asarray(extra_train[name])[train]])
            y_fit = np.concatenate([y_fit, y[train]])
        model = clone(models[name]).fit(X_fit, y_fit)
        X_te = np.asarray(X_test[name])[test] if X_test is not None and name in X_test else Xm[test]
        rows = []
        for metric in scoring:
            score = float("nan")
            if len(np.unique(y[test])) == 2 or metric in ("accuracy", "f1", "precision", "recall"):
                score = float(get_scorer(metric)(model, X_te, y[test]))
            rows.append({"model": name, "repeat": k // per_repeat, "fold": k % per_repeat, "metric": metric,
                         "score": score})
        return rows

    jobs = [(name, k, tr, te) for name in models for k, (tr, te) in enumerate(folds)]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="cross-validation")
    results = Parallel(n_jobs=n_jobs)(delayed(run)(*job) for job in jobs)
    return pd.DataFrame([r for rows in results for r in rows], columns=["model", "repeat", "fold", "metric", "score"])


def compare_to_baseline(scores: pd.DataFrame, baseline: str, *, metric: str = "balanced_accuracy", alpha: float = 0.05,
                        test_train_ratio: float | None = None) -> pd.DataFrame:
    """Paired comparison of every model with a baseline, fold by fold, with the Nadeau–Bengio corrected t-test.

    The differences ``d_j`` (model minus baseline) are taken on the same folds, so they are paired. Folds of
    cross-validation share most of their training patients, so the ``d_j`` are correlated and the plain t-test is
    over-confident. Nadeau & Bengio (2003) correct its variance: with ``J`` differences of mean ``d̄`` and variance
    ``s²``, ``t = d̄ / sqrt((1/J + n_test/n_train) · s²)`` with ``J − 1`` degrees of freedom (Bouckaert & Frank 2004
    for repeated cross-validation). It is a heuristic correction, still the standard one; with few patients and
    few folds its answer is often "no clear difference" — that is the honest answer, not a failure.

    Parameters
    ----------
    scores : DataFrame, the output of :func:`cv_scores` (columns ``model``, ``repeat``, ``fold``, ``metric``, ``score``)
    baseline : str, the model every other model is compared with; metric : str, which metric of ``scores``
    alpha : float, level of the test (``1 − alpha``: confidence level of the interval)
    test_train_ratio : float, optional
        ``n_test / n_train`` of one fold; by default ``1 / (n_splits − 1)`` (k-fold), ``n_splits`` read from ``scores``.

    Returns
    -------
    DataFrame, one row per other model (index ``model``): ``mean_difference``, ``ci_low``, ``ci_high`` (the
    ``1 − alpha`` interval of the mean difference), ``p_value`` (two-sided), ``n_folds``, ``verdict`` ("better than
    <baseline>" / "worse than <baseline>" when ``p_value < alpha``, otherwise "no clear difference")

    References
    ----------
    Nadeau C, Bengio Y. Inference for the generalization error. Machine Learning 52, 239–281 (2003).
    Bouckaert RR, Frank E. Evaluating the replicability of significance tests for comparing learning algorithms.
    PAKDD 2004, LNCS 3056, 3–12.
    """
    from scipy import stats

    part = scores[scores["metric"] == metric]
    if baseline not in set(part["model"]):
        raise ValueError(f"no model named {baseline!r} with metric {metric!r}; have {sorted(set(part['model']))}")
    wide = part.pivot_table(index=["repeat", "fold"], columns="model", values="score")
    if test_train_ratio is None:
        n_splits = int(part["fold"].max()) + 1
        if n_splits < 2:
            raise ValueError("scores hold a single fold per repeat: give test_train_ratio")
        test_train_ratio = 1 / (n_splits - 1)
    rows = []
    for name in [m for m in dict.fromkeys(part["model"]) if m != baseline]:
        d = (wide[name] - wide[baseline]).dropna().to_numpy()
        J = len(d)
        mean = float(d.mean()) if J else float("nan")
        se = float(np.sqrt((1 / J + test_train_ratio) * d.var(ddof=1))) if J > 1 else float("nan")
        p, half = float("nan"), float("nan")  # fewer than 2 folds: no test
        if se == 0:  # identical differences in every fold
            p, half = (1.0 if mean == 0 else 0.0), 0.0
        elif J > 1:
            p, half = float(2 * stats.t.sf(abs(mean) / se, J - 1)), float(stats.t.ppf(1 - alpha / 2, J - 1) * se)
        verdict = f"{'better' if mean > 0 else 'worse'} than {baseline}" if p < alpha else "no clear difference"
        rows.append({"model": name, "mean_difference": mean, "ci_low": mean - half, "ci_high": mean + half,
                     "p_value": p, "n_folds": J, "verdict": verdict})
    return pd.DataFrame(rows, columns=["model", "mean_difference", "ci_low", "ci_high", "p_value", "n_folds",
                                       "verdict"]).set_index("model")


def confidence_ranking(y_true, y_score, n: int = 8, *, threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Indices of the most confident correct and wrong predictions, and of the least confident ones.

    Parameters
    ----------
    y_true : int array (n_samples,) of 0/1
    y_score : float array (n_samples,), probability (``threshold=0.5``) or decision value (``threshold=0``) of
        class 1; a sample is predicted positive when ``y_score >= threshold``
    n : int, at most this many indices per entry; threshold : float

    Returns
    -------
    dict str → int array (k,), k <= n: ``"true positive"``, ``"true negative"``, ``"false positive"``,
    ``"false negative"`` (that cell's samples, furthest from the threshold first: the surest) and ``"uncertain"``
    (the samples closest to the threshold, any cell)
    """
    y_true = np.asarray(y_true).astype(int)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_score must be 1-D of the same length; got {y_true.shape}, {y_score.shape}")
    n = max(0, int(n))
    pred = (y_score >= threshold).astype(int)
    margin = np.abs(y_score - threshold)
    out = {}
    for name, (t, p) in {"true positive": (1, 1), "true negative": (0, 0), "false positive": (0, 1),
                         "false negative": (1, 0)}.items():
        idx = np.flatnonzero((y_true == t) & (pred == p))
        out[name] = idx[np.argsort(-margin[idx], kind="stable")][:n]
    out["uncertain"] = np.argsort(margin, kind="stable")[:n]
    return out


def grouped_permutation_importance(estimator, X, y, families: dict, *, scoring="balanced_accuracy",
                                   n_repeats: int = 5, random_state=0) -> pd.DataFrame:
    """Permutation importance of whole feature families, on held-out data.

    For each family, the rows of all its columns are shuffled *together* (one permutation per repeat: the family's
    internal correlations stay, its link to ``y`` is broken) and the drop of the fitted ``estimator``'s score is
    recorded. Per-feature importance under-rates correlated features (each one's neighbours carry the same
    information); permuting the family at once does not.

    Parameters
    ----------
    estimator : fitted scikit-learn estimator taking ``X``
    X : float array (n, d) or DataFrame, held-out features (patients the model never saw); y : int array (n,)
    families : dict str → sequence of int, the column indices of each family, e.g. ``{"lbp": [12, 13, ...]}``
    scoring : str (scikit-learn scorer name) or callable ``scorer(estimator, X, y) -> float``
    n_repeats : int, shuffles per family; random_state : int or numpy Generator

    Returns
    -------
    DataFrame, index ``family``; columns ``n_features``, ``importance`` (mean score drop), ``std`` (over repeats),
    ``baseline`` (score without shuffling); sorted by importance, largest first
    """
    from sklearn.metrics import get_scorer

    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    is_df = isinstance(X, pd.DataFrame)
    Xv = X.to_numpy() if is_df else np.asarray(X)
    y = np.asarray(y)
    d = Xv.shape[1]
    for name, cols in families.items():
        if len(cols) == 0 or min(cols) < 0 or max(cols) >= d:
            raise ValueError(f"family {name!r} has column indices outside 0..{d - 1} (or none): {list(cols)[:5]}…")

    def score(a):
        return float(scorer(estimator, pd.DataFrame(a, columns=X.columns, index=X.index) if is_df else a, y))

    base = score(Xv)
    rng = np.random.default_rng(random_state)
    rows = []
    for name, cols in families.items():
        cols = np.asarray(cols, dtype=int)
        drops = []
        for _ in range(n_repeats):
            Xp = Xv.copy()
            Xp[:, cols] = Xv[rng.permutation(len(Xv))][:, cols]
            drops.append(base - score(Xp))
        rows.append((name, len(cols), float(np.mean(drops)), float(np.std(drops)), base))
    out = pd.DataFrame(rows, columns=["family", "n_features", "importance", "std", "baseline"])
    return out.set_index("family").sort_values("importance", ascending=False)
