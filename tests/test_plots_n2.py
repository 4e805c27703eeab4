"""The evaluation figures appended to helpers.plots (notebooks 04-06): they draw what they say, and check inputs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from helpers import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _two_blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    X = rng.normal(0, 1, (n, 2)) + 2.0 * y[:, None]
    return X, y


def test_plot_decision_regions_draws_boundary_and_points():
    X, y = _two_blobs()
    fig = plots.plot_decision_regions(SVC().fit(X, y), X, y, feature_names=("a", "b"), title="t", max_points=50)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "b" and ax.get_title() == "t"
    scatter = [c for c in ax.collections if c.get_offsets().shape == (50, 2)]
    assert scatter, "the 50 samples are drawn"
    # probability-only estimators work too (boundary at 0.5)
    from sklearn.ensemble import RandomForestClassifier

    fig2 = plots.plot_decision_regions(RandomForestClassifier(10, random_state=0).fit(X, y), X, y)
    assert "P(IDC)" in [a.get_ylabel() for a in fig2.axes]
    with pytest.raises(ValueError):
        plots.plot_decision_regions(SVC().fit(X, y), np.c_[X, X], y)


def test_plot_score_distributions_counts_each_class():
    y = np.array([0] * 30 + [1] * 10)
    s = np.r_[np.linspace(-2, 0.5, 30), np.linspace(-0.5, 2, 10)]
    fig = plots.plot_score_distributions(y, s, threshold=0.0, bins=10)
    ax = fig.axes[0]
    assert len(ax.patches) == 2  # one filled step histogram per class
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["true non-IDC (30)", "true IDC (10)", "threshold 0"]
    assert ax.lines[0].get_xdata()[0] == 0.0
    with pytest.raises(ValueError):
        plots.plot_score_distributions(y[:5], s)


def test_plot_roc_pr_labels_auc():
    from sklearn.metrics import roc_auc_score

    X, y = _two_blobs(seed=1)
    s = LogisticRegression().fit(X, y).decision_function(X)
    fig = plots.plot_roc_pr(y, {"lr": s, "noise": np.random.default_rng(0).random(len(y))},
                            operating_points={"lr": 0.0})
    ax_roc, ax_pr = fig.axes[:2]
    labels = [t.get_text() for t in ax_roc.get_legend().get_texts()]
    assert f"lr (AUC {roc_auc_score(y, s):.3f})" in labels
    assert any(t.startswith("noise (AUC") for t in labels)
    assert ax_pr.get_xlabel().startswith("recall")
    with pytest.raises(ValueError):
        plots.plot_roc_pr(np.zeros(10, int), {"x": np.zeros(10)})
    with pytest.raises(ValueError):
        plots.plot_roc_pr(y, {"bad": s[:-1]})


def test_plot_metric_bars_one_bar_per_cell():
    table = pd.DataFrame({"balanced_accuracy": [0.8, 0.7, 0.6], "f1": [0.7, 0.6, np.nan]}, index=["a", "b", "c"])
    fig = plots.plot_metric_bars(table, title="x")
    ax = fig.axes[0]
    assert sum(len(c) for c in ax.containers) == 6
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert "0.80" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError):
        plots.plot_metric_bars(table, metrics=["roc_auc"])


def test_plot_cv_schemes_one_panel_per_metric_with_means():
    scores = pd.DataFrame({
        "scheme": ["g"] * 4 + ["r"] * 4,
        "fold": [0, 1, 0, 1] * 2,
        "metric": ["f1", "f1", "roc_auc", "roc_auc"] * 2,
        "score": [0.6, 0.7, 0.8, 0.9, 0.8, 0.9, 0.95, 0.97],
    })
    fig = plots.plot_cv_schemes(scores)
    assert len(fig.axes) == 2
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "0.650" in texts and "0.850" in texts
    with pytest.raises(ValueError):
        plots.plot_cv_schemes(scores.drop(columns="fold"))


def test_plot_grid_heatmap_frames_the_best_cell():
    table = pd.DataFrame([[0.5, 0.6, 0.7], [0.8, 0.9, 0.4]], index=pd.Index([0.01, 0.1], name="gamma"),
                         columns=pd.Index([1, 10, 100], name="C"))
    fig = plots.plot_grid_heatmap(table)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "C" and ax.get_ylabel() == "gamma"
    assert len(ax.texts) == 6
    frame = [p for p in ax.patches if not p.get_fill()][0]
    assert frame.get_xy() == (0.5, 0.5)  # column 1 (C=10), row 1 (gamma=0.1)
    with pytest.raises(ValueError):
        plots.plot_grid_heatmap(pd.DataFrame())
