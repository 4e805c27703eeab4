"""helpers.models: the reference pipeline, the threshold wrapper, the scale path and the baseline command."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from helpers import models as M


def _demo_arrays(demo_root, n=400):
    from helpers.data import index_idc, read_patches, subsample

    table = subsample(index_idc(demo_root), max_patches=n, seed=0)
    images, ok = read_patches(table["path"], progress=False)
    table = table[ok].reset_index(drop=True)
    return images, table["label"].to_numpy(), table["patient"].to_numpy()


def test_threshold_wrapper_is_consistent():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0.5).astype(int)
    base = M.ThresholdedClassifier(LogisticRegression(), threshold=0.0).fit(X, y)
    shifted = clone(base).set_params(threshold=-1.0).fit(X, y)
    for est in (base, shifted):
        d = est.decision_function(X)
        p = est.predict_proba(X)
        assert np.array_equal(est.predict(X), (d >= 0).astype(int))
        assert np.array_equal(p[:, 1] >= 0.5, d >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1)
    # a lower threshold predicts more positives, and moves the decision values by the threshold
    assert shifted.predict(X).sum() > base.predict(X).sum()
    np.testing.assert_allclose(shifted.decision_function(X), base.decision_function(X) + 1.0)
    with pytest.raises(ValueError):
        M.ThresholdedClassifier(LogisticRegression()).fit(X, np.arange(200) % 3)


def test_reference_pipeline_learns_demo_data(demo_root):
    images, y, groups = _demo_arrays(demo_root)
    model = M.make_reference_pipeline(random_state=0)
    assert [name for name, _ in model.steps] == ["features", "scale", "clf"]
    test = np.isin(groups, np.unique(groups)[-1:])  # one held-out patient
    model.fit(images[~test], y[~test])
    pred = model.predict(images[test])
    assert set(np.unique(pred)) <= {0, 1}
    d = model.decision_function(images[test])
    assert np.array_equal(pred, (d >= 0).astype(int))
    assert np.array_equal(model.predict_proba(images[test])[:, 1] >= 0.5, pred == 1)
    from sklearn.metrics import balanced_accuracy_score

    if len(np.unique(y[test])) == 2:
        assert balanced_accuracy_score(y[test], pred) > 0.6
    # flattened input works too (what a DataFrame-free sklearn workflow passes)
    assert np.array_equal(model.predict(images[test].reshape(test.sum(), -1)), pred)
    t = M.tune_threshold(model, images[~test], y[~test], groups[~test], cv=3)
    assert np.isfinite(t)


def test_scalable_pipeline_runs(demo_root):
    images, y, _ = _demo_arrays(demo_root, n=300)
    model = M.make_scalable_pipeline(n_components=50).fit(images, y)
    assert model.score(images, y) > 0.6
    assert np.array_equal(model.predict(images), (model.decision_function(images) >= 0).astype(int))


def _split_demo(demo_root, tmp_path):
    train, test = tmp_path / "train", tmp_path / "test"
    patients = sorted(p.name for p in demo_root.iterdir() if p.is_dir())
    for i, pid in enumerate(patients):
        dst = (test if i == len(patients) - 1 else train) / pid
        shutil.copytree(demo_root / pid, dst)
    return train, test


def test_baseline_cli_json(demo_root, tmp_path, capsys):
    train, test = _split_demo(demo_root, tmp_path)
    assert M.main(["--train", str(train), "--test", str(test), "--json", "--max-per-patient", "60"]) == 0
    out = capsys.readouterr().out.strip()
    result = json.loads(out)  # exactly one JSON object on stdout
    for key in ("balanced_accuracy", "f1", "roc_auc", "accuracy"):
        assert 0.0 <= result[key] <= 1.0
    assert result["n_train_patches"] <= 60 * 3
    assert result["n_test_patients"] == 1
    assert result["balanced_accuracy"] > 0.6


def test_baseline_cli_text_and_errors(demo_root, tmp_path, capsys):
    train, test = _split_demo(demo_root, tmp_path)
    assert M.main(["--train", str(train), "--test", str(test), "--max-per-patient", "40", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "balanced accuracy" in out and "F1" in out and "ROC AUC" in out
    # the same patients on both sides is refused
    assert M.main(["--train", str(train), "--test", str(train)]) == 2
    assert "both folders" in capsys.readouterr().err
