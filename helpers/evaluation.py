"""Evaluation helpers for the binary track (notebooks 04–06): error pickers, cross-validation comparisons, grids.

Metric values themselves come from :mod:`helpers.metrics`; the figures from :mod:`helpers.plots`. Everything here
takes numpy arrays and returns arrays or DataFrames (nothing prints).

=========================================  =============================================================
:func:`most_confident_errors`              indices of the false positives / negatives the model was surest of
:func:`cv_compare`                         per-fold scores of one model under several CV schemes (long table)
:func:`cv_gap`                             the mean difference between two schemes, per metric
:func:`same_patient_neighbour_rate`        how often a test patch's nearest training patch is its own patient's
:func:`grid_table`                         a 2-parameter slice of ``GridSearchCV.cv_results_`` as a DataFrame
=========================================  =============================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "most_confident_errors",
    "cv_compare",
    "cv_gap",
    "same_patient_neighbour_rate",
    "grid_table",
]

_KINDS = ("fp", "fn", "tp", "tn")


def most_confident_errors(y_true, y_score, *, kind: str = "fp", n: int = 8, threshold: float = 0.0) -> np.ndarray:
    """Indices of the ``n`` patches of one confusion-matrix cell, the most confidently classified first.

    Parameters
    ----------
    y_true : int array (n_samples,) of 0/1
    y_score : float array (n_samples,)
        Decision value or probability of class 1; a patch is predicted positive when ``y_score >= threshold``.
    kind : {"fp", "fn", "tp", "tn"}
        False positives (true 0, predicted 1), false negatives, true positives or true negatives.
    n : int
        At most this many indices (fewer when the cell holds fewer patches).
    threshold : float
        0 for an SVM decision function, 0.5 for a probability.

    Returns
    -------
    int array (k,), k <= n
        Sorted by distance from the threshold, largest first (the "surest" mistakes for ``fp`` / ``fn``).
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, not {kind!r}")
    y_true = np.asarray(y_true).astype(int)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_score must be 1-D of the same length; got {y_true.shape}, {y_score.shape}")
    pred = (y_score >= threshold).astype(int)
    want_true, want_pred = {"fp": (0, 1), "fn": (1, 0), "tp": (1, 1), "tn": (0, 0)}[kind]
    idx = np.flatnonzero((y_true == want_true) & (pred == want_pred))
    margin = np.abs(y_score[idx] - threshold)
    order = np.argsort(-margin, kind="stable")
    return idx[order[: max(0, int(n))]]


def cv_compare(
    estimator,
    X,
    y,
    groups,
    cvs: dict,
    *,
    scoring=("balanced_accuracy", "f1", "roc_auc"),
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Cross-validate one estimator under several CV schemes on the same data.

    Parameters
    ----------
    estimator : scikit-learn estimator (cloned for every fold)
    X : array (n, d); y : int array (n,); groups : array (n,) of patient ids
    cvs : dict name → CV splitter
        E.g. ``{"grouped by patient": patient_cv(5), "random patches": StratifiedKFold(5, shuffle=True)}``.
        ``groups`` is passed to every splitter (splitters that do not use it ignore it).
    scoring : sequence of scikit-learn scorer names
    n_jobs : int
        Folds fitted in parallel.

    Returns
    -------
    DataFrame
        Long form, one row per (scheme, fold, metric): columns ``scheme``, ``fold``, ``metric``, ``score``.
    """
    import warnings

    from sklearn.model_selection import cross_validate

    rows = []
    for name, cv in cvs.items():
        with warnings.catch_warnings():  # "The groups parameter is ignored by StratifiedKFold": that is the point
            warnings.filterwarnings("ignore", message="The groups parameter is ignored")
            res = cross_validate(estimator, X, y, groups=groups, cv=cv, scoring=list(scoring), n_jobs=n_jobs)
        for metric in scoring:
            for fold, score in enumerate(res[f"test_{metric}"]):
                rows.append({"scheme": name, "fold": fold, "metric": metric, "score": float(score)})
    return pd.DataFrame(rows, columns=["scheme", "fold", "metric", "score"])


def cv_gap(scores: pd.DataFrame, optimistic: str, honest: str) -> pd.Series:
    """Mean score of scheme ``optimistic`` minus mean score of scheme ``honest``, per metric.

    ``scores`` is the output of :func:`cv_compare`. A positive gap is how much the optimistic scheme overstates
    the model's performance.
    """
    means = scores.groupby(["metric", "scheme"])["score"].mean().unstack("scheme")
    for s in (optimistic, honest):
        if s not in means.columns:
            raise ValueError(f"no scheme named {s!r}; have {list(means.columns)}")
    return (means[optimistic] - means[honest]).rename("gap")


def same_patient_neighbour_rate(X_train, groups_train, X_test, groups_test) -> float:
    """Fraction of test samples whose nearest training sample (Euclidean) comes from the same patient.

    Parameters
    ----------
    X_train : float array (n_train, d); groups_train : array (n_train,)
    X_test : float array (n_test, d); groups_test : array (n_test,)
        Features on a common scale (standardise them first with a scaler fitted on the training side).

    Returns
    -------
    float in [0, 1]
        0 by construction when no patient is on both sides (a patient-grouped split). Under a random patch split
        this is how often the closest example the model has seen is a sibling patch of the same patient.
    """
    from sklearn.neighbors import NearestNeighbors

    X_train = np.asarray(X_train, dtype=float)
    X_test = np.asarray(X_test, dtype=float)
    groups_train = np.asarray(groups_train)
    groups_test = np.asarray(groups_test)
    if len(X_train) == 0 or len(X_test) == 0:
        raise ValueError("both sides need at least one sample")
    nn = NearestNeighbors(n_neighbors=1).fit(X_train)
    idx = nn.kneighbors(X_test, return_distance=False)[:, 0]
    return float(np.mean(groups_train[idx] == groups_test))


def grid_table(cv_results, row: str, col: str, score: str = "mean_test_score") -> pd.DataFrame:
    """A grid-search result as a table: one row per value of parameter ``row``, one column per value of ``col``.

    Parameters
    ----------
    cv_results : dict
        ``GridSearchCV.cv_results_`` (or the same as a DataFrame).
    row, col : str
        Parameter names as in the grid, e.g. ``"svc__gamma"`` and ``"svc__C"``.
    score : str
        A column of ``cv_results``, e.g. ``"mean_test_score"`` or ``"mean_test_roc_auc"`` for multi-metric searches.

    Returns
    -------
    DataFrame
        Values of ``score``; when the grid has more parameters than these two, the best value over the others.
    """
    res = pd.DataFrame(cv_results)
    keys = {"row": f"param_{row}", "col": f"param_{col}"}
    for k in list(keys.values()) + [score]:
        if k not in res.columns:
            raise ValueError(f"{k!r} is not in cv_results (have e.g. {sorted(res.columns)[:8]})")
    table = res.pivot_table(index=keys["row"], columns=keys["col"], values=score, aggfunc="max")
    table.index.name, table.columns.name = row, col
    return table.sort_index().sort_index(axis=1)
