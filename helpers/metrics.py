"""Honest evaluation of a binary patch classifier: more than accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["binary_report", "report_table"]


def binary_report(y_true, y_pred, y_score=None) -> dict:
    """Balanced accuracy, F1 of the positive class, ROC AUC, accuracy, precision, recall and counts.

    Parameters
    ----------
    y_true, y_pred : array-like of int (0/1), shape (n,)
    y_score : array-like of float, shape (n,), optional
        Probability or decision value of the positive class, for ROC AUC (``nan`` when absent or when only one
        class is present in ``y_true``).

    Returns
    -------
    dict with keys ``balanced_accuracy``, ``f1``, ``roc_auc``, ``accuracy``, ``precision``, ``recall``, ``n``,
    ``n_positive``, ``tp``, ``fp``, ``fn``, ``tn``.
    """
    from sklearn import metrics

    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
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
        "n": int(len(y_true)),
        "n_positive": int(y_true.sum()),
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "tn": int(tn),
    }


def report_table(reports: dict[str, dict], columns=("balanced_accuracy", "f1", "roc_auc", "accuracy")):
    """A DataFrame with one row per named report (e.g. one per model), rounded to 3 decimals."""
    return pd.DataFrame({name: {c: r[c] for c in columns} for name, r in reports.items()}).T.round(3)
