"""helpers.evaluation: error pickers, CV scheme comparison (the patient-leakage gap), grid tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from helpers import evaluation
from helpers.splits import patient_cv


def _patient_data(n_patients=24, per_patient=20, d=5, seed=0):
    """Features dominated by a per-patient offset, label by patient: random patch splits leak."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_patients).astype(str), per_patient)
    patient_label = rng.permutation(np.arange(n_patients) % 2)
    y = patient_label[np.repeat(np.arange(n_patients), per_patient)]
    offsets = rng.normal(0, 3, (n_patients, d))
    X = offsets[np.repeat(np.arange(n_patients), per_patient)] + rng.normal(0, 0.3, (len(y), d))
    X[:, 0] += 0.5 * y  # a weak real signal
    return X, y, groups


def test_most_confident_errors_picks_the_right_cells_in_order():
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    s = np.array([2.0, -1.0, 0.5, -3.0, 1.0, -0.2, 1.5, 0.0])
    np.testing.assert_array_equal(evaluation.most_confident_errors(y, s, kind="fp", n=5), [0, 6, 2])
    np.testing.assert_array_equal(evaluation.most_confident_errors(y, s, kind="fn", n=5), [3, 5])
    np.testing.assert_array_equal(evaluation.most_confident_errors(y, s, kind="fn", n=1), [3])
    np.testing.assert_array_equal(evaluation.most_confident_errors(y, s, kind="tp"), [4, 7])  # 0.0 >= 0: positive
    np.testing.assert_array_equal(evaluation.most_confident_errors(y, s, kind="tn"), [1])
    # probabilities with threshold 0.5
    p = np.array([0.9, 0.2, 0.6, 0.1])
    np.testing.assert_array_equal(evaluation.most_confident_errors([0, 0, 0, 1], p, kind="fp", threshold=0.5), [0, 2])
    with pytest.raises(ValueError):
        evaluation.most_confident_errors(y, s, kind="wrong")
    with pytest.raises(ValueError):
        evaluation.most_confident_errors(y, s[:-1])


def test_cv_compare_shows_the_leakage_gap():
    X, y, groups = _patient_data()
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1))
    schemes = {"grouped": patient_cv(4, seed=0), "random": StratifiedKFold(4, shuffle=True, random_state=0)}
    scores = evaluation.cv_compare(knn, X, y, groups, schemes, scoring=("balanced_accuracy", "f1"))
    assert list(scores.columns) == ["scheme", "fold", "metric", "score"]
    assert len(scores) == 2 * 4 * 2
    assert set(scores["scheme"]) == {"grouped", "random"}
    gap = evaluation.cv_gap(scores, "random", "grouped")
    assert set(gap.index) == {"balanced_accuracy", "f1"}
    # labels are per patient and features identify the patient: the random split looks near-perfect
    means = scores.groupby(["scheme", "metric"])["score"].mean()
    assert means["random", "balanced_accuracy"] > 0.95
    assert gap["balanced_accuracy"] > 0.2
    with pytest.raises(ValueError):
        evaluation.cv_gap(scores, "random", "nope")


def test_same_patient_neighbour_rate():
    X, y, groups = _patient_data()
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(X))
    tr, te = perm[:300], perm[300:]
    assert evaluation.same_patient_neighbour_rate(X[tr], groups[tr], X[te], groups[te]) > 0.9
    # grouped split: no test patient in training, rate 0 by construction
    test_patients = np.isin(groups, np.unique(groups)[:6])
    assert evaluation.same_patient_neighbour_rate(X[~test_patients], groups[~test_patients],
                                                  X[test_patients], groups[test_patients]) == 0.0
    with pytest.raises(ValueError):
        evaluation.same_patient_neighbour_rate(X[:0], groups[:0], X, groups)


def test_grid_table_from_grid_search():
    X, y, groups = _patient_data(seed=2)
    pipe = make_pipeline(StandardScaler(), SVC())
    grid = {"svc__C": [0.1, 1.0, 10.0], "svc__gamma": [0.01, 0.1]}
    search = GridSearchCV(pipe, grid, cv=GroupKFold(3), scoring=["balanced_accuracy", "roc_auc"],
                          refit="balanced_accuracy").fit(X, y, groups=groups)
    t = evaluation.grid_table(search.cv_results_, "svc__gamma", "svc__C", "mean_test_roc_auc")
    assert t.shape == (2, 3)
    assert list(t.index) == [0.01, 0.1] and list(t.columns) == [0.1, 1.0, 10.0]
    assert t.index.name == "svc__gamma" and t.columns.name == "svc__C"
    res = pd.DataFrame(search.cv_results_)
    row = res[(res["param_svc__C"] == 10.0) & (res["param_svc__gamma"] == 0.1)]
    assert t.loc[0.1, 10.0] == pytest.approx(float(row["mean_test_roc_auc"].iloc[0]))
    # a third parameter is maximised over
    search3 = GridSearchCV(pipe, {**grid, "svc__class_weight": [None, "balanced"]}, cv=GroupKFold(3)).fit(
        X, y, groups=groups)
    t3 = evaluation.grid_table(search3.cv_results_, "svc__gamma", "svc__C")
    r3 = pd.DataFrame(search3.cv_results_)
    sel = (r3["param_svc__C"] == 1.0) & (r3["param_svc__gamma"] == 0.01)
    assert t3.loc[0.01, 1.0] == pytest.approx(r3.loc[sel, "mean_test_score"].max())
    with pytest.raises(ValueError):
        evaluation.grid_table(search.cv_results_, "svc__degree", "svc__C", "mean_test_roc_auc")
