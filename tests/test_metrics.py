"""helpers.evaluation.binary_report / report_table: known confusion matrices give known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.evaluation import binary_report, report_table


def _from_counts(tp, fp, fn, tn):
    """Labels and predictions with exactly these confusion-matrix counts."""
    y_true = np.r_[np.ones(tp + fn, int), np.zeros(fp + tn, int)]
    y_pred = np.r_[np.ones(tp, int), np.zeros(fn, int), np.ones(fp, int), np.zeros(tn, int)]
    return y_true, y_pred


def test_known_confusion_matrix_gives_known_metrics():
    y_true, y_pred = _from_counts(tp=6, fp=2, fn=4, tn=88)
    r = binary_report(y_true, y_pred)
    assert (r["tp"], r["fp"], r["fn"], r["tn"], r["n"], r["n_positive"]) == (6, 2, 4, 88, 100, 10)
    assert r["precision"] == pytest.approx(6 / 8)
    assert r["recall"] == pytest.approx(6 / 10)
    assert r["f1"] == pytest.approx(2 * 0.75 * 0.6 / (0.75 + 0.6))
    assert r["accuracy"] == pytest.approx(94 / 100)
    assert r["balanced_accuracy"] == pytest.approx((6 / 10 + 88 / 90) / 2)
    assert math.isnan(r["roc_auc"])  # no y_score given


def test_always_negative_has_high_accuracy_but_chance_balanced_accuracy():
    y_true, y_pred = _from_counts(tp=0, fp=0, fn=10, tn=90)
    r = binary_report(y_true, y_pred, y_score=np.zeros(100))
    assert r["accuracy"] == pytest.approx(0.9)
    assert r["balanced_accuracy"] == pytest.approx(0.5)
    assert r["precision"] == 0 and r["recall"] == 0 and r["f1"] == 0  # undefined precision reported as 0
    assert r["roc_auc"] == pytest.approx(0.5)  # constant scores rank nothing


def test_roc_auc_from_scores():
    y = np.array([0, 0, 1, 1])
    r = binary_report(y, np.array([0, 1, 1, 1]), y_score=np.array([0.1, 0.8, 0.4, 0.9]))
    assert r["roc_auc"] == pytest.approx(0.75)  # 3 of the 4 (positive, negative) pairs are ordered right
    perfect = binary_report(y, y, y_score=np.array([-2.0, -1.0, 1.0, 2.0]))  # decision values work too
    assert perfect["roc_auc"] == 1.0 and perfect["balanced_accuracy"] == 1.0 and perfect["f1"] == 1.0


def test_one_class_only_gives_nan_for_class_averaged_metrics():
    r = binary_report(np.zeros(5, int), np.array([0, 0, 1, 0, 0]), y_score=np.linspace(0, 1, 5))
    assert math.isnan(r["roc_auc"]) and math.isnan(r["balanced_accuracy"])
    assert r["accuracy"] == pytest.approx(0.8) and r["fp"] == 1 and r["n_positive"] == 0
    assert r["recall"] == 0 and r["f1"] == 0


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="same length"):
        binary_report([0, 1, 1], [0, 1])


def test_report_table_rows_columns_and_rounding():
    a = binary_report(*_from_counts(tp=1, fp=0, fn=2, tn=3))
    b = binary_report(*_from_counts(tp=3, fp=1, fn=0, tn=2))
    t = report_table({"a": a, "b": b})
    assert list(t.index) == ["a", "b"]
    assert list(t.columns) == ["balanced_accuracy", "f1", "roc_auc", "accuracy"]
    assert t.loc["a", "balanced_accuracy"] == round((1 / 3 + 1) / 2, 3)
    assert t.loc["b", "accuracy"] == round(5 / 6, 3)
    t2 = report_table({"a": a}, columns=("precision", "recall"))
    assert list(t2.columns) == ["precision", "recall"] and t2.loc["a", "recall"] == round(1 / 3, 3)
