"""helpers.evaluation: models on the same patient folds, the corrected paired test, confidence ranking,
grouped permutation importance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import evaluation
from helpers.splits import patient_cv


def _patient_data(n_patients=30, per_patient=20, seed=0):
    """Column 0 carries the label, column 1 is noise, columns 2-3 a per-patient offset."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_patients).astype(str), per_patient)
    y = rng.integers(0, 2, len(groups))
    X = rng.normal(0, 1, (len(y), 4))
    X[:, 0] += 2.0 * y
    X[:, 2:] += rng.normal(0, 3, (n_patients, 2))[np.repeat(np.arange(n_patients), per_patient)]
    return X, y, groups


def _scores(differences, baseline=0.7, n_splits=5):
    """A cv_scores-like table: model "b" = baseline + the given per-fold differences."""
    rows = []
    for k, d in enumerate(differences):
        for name, s in (("a", baseline), ("b", baseline + d)):
            rows.append({"model": name, "repeat": k // n_splits, "fold": k % n_splits, "metric": "balanced_accuracy",
                         "score": s})
    return pd.DataFrame(rows)


def test_cv_scores_uses_the_same_patient_folds_for_every_model():
    X, y, groups = _patient_data()
    models = {"dummy": DummyClassifier(strategy="most_frequent"),
              "logreg": make_pipeline(StandardScaler(), LogisticRegression())}
    scores = evaluation.cv_scores(models, X, y, groups, cv=patient_cv(5, n_repeats=2), scoring=("balanced_accuracy",))
    assert list(scores.columns) == ["model", "repeat", "fold", "metric", "score"]
    assert len(scores) == 2 * 10
    assert sorted(set(scores["repeat"])) == [0, 1] and sorted(set(scores["fold"])) == [0, 1, 2, 3, 4]
    means = scores.groupby("model")["score"].mean()
    assert means["dummy"] == pytest.approx(0.5)
    assert means["logreg"] > 0.75  # column 0 carries the label
    # the same folds: the paired comparison sees one difference per (repeat, fold)
    cmp = evaluation.compare_to_baseline(scores, "dummy")
    assert cmp.loc["logreg", "n_folds"] == 10 and cmp.loc["logreg", "verdict"] == "better than dummy"


def test_cv_scores_per_model_features_and_extra_training_rows():
    X, y, groups = _patient_data()
    noise = np.random.default_rng(1).normal(size=X.shape)
    lr = LogisticRegression()
    scores = evaluation.cv_scores({"signal": lr, "noise": lr}, {"signal": X, "noise": noise}, y, groups,
                                  cv=patient_cv(3), scoring=("roc_auc",))
    means = scores.groupby("model")["score"].mean()
    assert means["signal"] > 0.8 > 0.65 > means["noise"]
    # X_test: trained on the signal, tested on noise rows (e.g. a "new lab")
    shifted = evaluation.cv_scores({"signal": lr}, X, y, groups, cv=patient_cv(3), scoring=("roc_auc",),
                                   X_test={"signal": noise})
    assert shifted["score"].mean() < 0.65

    class Counter(DummyClassifier):  # remembers how many rows it was fitted on
        def fit(self, X, y, sample_weight=None):
            Counter.sizes.append(len(X))
            return super().fit(X, y)

    Counter.sizes = []
    cv = patient_cv(3)
    evaluation.cv_scores({"aug": Counter()}, X, y, groups, cv=cv, extra_train={"aug": X + 1})
    n_train = [len(tr) for tr, _ in cv.split(X, y, groups)]
    assert Counter.sizes == [2 * n for n in n_train]  # extra rows of the training patients only
    with pytest.raises(ValueError, match="no features"):
        evaluation.cv_scores({"a": lr, "b": lr}, {"a": X}, y, groups, cv=cv)


def test_nadeau_bengio_corrected_test_matches_the_formula():
    d = np.array([0.02, 0.05, -0.01, 0.04, 0.03, 0.06, 0.00, 0.02, 0.05, 0.01])
    out = evaluation.compare_to_baseline(_scores(d), "a")
    J, ratio = len(d), 1 / 4  # 5 folds: n_test / n_train = 1/4
    se = np.sqrt((1 / J + ratio) * d.var(ddof=1))
    from scipy import stats

    t = d.mean() / se
    row = out.loc["b"]
    assert row["mean_difference"] == pytest.approx(d.mean())
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(t, J - 1))
    half = stats.t.ppf(0.975, J - 1) * se
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    # the correction makes the test more cautious than the naive paired t-test
    naive_p = stats.ttest_1samp(d, 0).pvalue
    assert row["p_value"] > naive_p
    assert naive_p < 0.05 and row["verdict"] == "no clear difference"


def test_compare_to_baseline_verdicts():
    big = np.array([0.10, 0.12, 0.11, 0.09, 0.10, 0.11, 0.12, 0.10, 0.09, 0.11])
    assert evaluation.compare_to_baseline(_scores(big), "a").loc["b", "verdict"] == "better than a"
    assert evaluation.compare_to_baseline(_scores(-big), "a").loc["b", "verdict"] == "worse than a"
    out = evaluation.compare_to_baseline(_scores(big), "b")  # the other way round
    assert out.loc["a", "verdict"] == "worse than b" and out.loc["a", "mean_difference"] < 0
    same = evaluation.compare_to_baseline(_scores(np.zeros(10)), "a").loc["b"]
    assert same["verdict"] == "no clear difference" and same["p_value"] == 1.0
    with pytest.raises(ValueError, match="no model named"):
        evaluation.compare_to_baseline(_scores(big), "c")


def test_confidence_ranking_picks_the_right_cells_in_order():
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    s = np.array([2.0, -1.0, 0.5, -3.0, 1.0, -0.2, 1.5, 0.0])
    r = evaluation.confidence_ranking(y, s, n=5, threshold=0.0)
    np.testing.assert_array_equal(r["false positive"], [0, 6, 2])
    np.testing.assert_array_equal(r["false negative"], [3, 5])
    np.testing.assert_array_equal(r["true positive"], [4, 7])  # 0.0 >= threshold: predicted positive
    np.testing.assert_array_equal(r["true negative"], [1])
    np.testing.assert_array_equal(r["uncertain"][:2], [7, 5])  # |0.0|, |-0.2|
    one = evaluation.confidence_ranking(y, s, n=1, threshold=0.0)
    np.testing.assert_array_equal(one["false negative"], [3])
    p = np.array([0.9, 0.2, 0.6, 0.1])  # probabilities: default threshold 0.5
    np.testing.assert_array_equal(evaluation.confidence_ranking([0, 0, 0, 1], p)["false positive"], [0, 2])
    with pytest.raises(ValueError, match="same length"):
        evaluation.confidence_ranking(y, s[:-1])


def test_grouped_permutation_importance_finds_the_informative_family():
    X, y, groups = _patient_data(seed=3)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    families = {"signal": [0], "noise": [1], "patient": [2, 3]}
    imp = evaluation.grouped_permutation_importance(model, X, y, families, n_repeats=3, random_state=0)
    assert list(imp.index)[0] == "signal"
    assert imp.loc["signal", "importance"] > 0.2
    assert abs(imp.loc["noise", "importance"]) < 0.05
    assert imp.loc["patient", "n_features"] == 2
    assert imp["baseline"].nunique() == 1 and imp["baseline"].iloc[0] > 0.75
    again = evaluation.grouped_permutation_importance(model, X, y, families, n_repeats=3, random_state=0)
    pd.testing.assert_frame_equal(imp, again)  # seeded
    df = pd.DataFrame(X, columns=list("abcd"))  # DataFrames keep their column names for the estimator
    imp_df = evaluation.grouped_permutation_importance(model.fit(df, y), df, y, families, n_repeats=3)
    assert list(imp_df.index)[0] == "signal"
    with pytest.raises(ValueError, match="outside"):
        evaluation.grouped_permutation_importance(model, X, y, {"bad": [7]})
