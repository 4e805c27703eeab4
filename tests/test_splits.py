"""Patient-level splits: no patient on both sides, stratified, seeded; the published split; development / test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import splits


def _table(n_patients=40, per_patient=10, seed=0):
    """Half the patients without IDC, half with 50 % IDC patches; some of them published test patients."""
    rows = []
    ids = list(splits.PUBLISHED_SPLIT["test"][:8]) + [str(100_000 + p) for p in range(n_patients - 8)]
    for p, pid in enumerate(ids):
        for i in range(per_patient):
            rows.append({"patient": pid, "label": int(p % 2 == 1 and i < per_patient // 2)})
    return pd.DataFrame(rows).sample(frac=1, random_state=seed).reset_index(drop=True)


def test_published_split_sizes_and_disjoint():
    s = splits.published_split()
    assert {k: len(v) for k, v in s.items()} == {"train": 84, "val": 29, "test": 49}
    assert not set(s["train"]) & set(s["test"]) and not set(s["val"]) & set(s["test"])
    assert not set(s["train"]) & set(s["val"])
    assert "8863" not in set().union(*s.values()) and "9124" in s["train"] and "9125" in s["test"]


def test_published_split_on_real_sample(real_idc):
    from helpers.data import index_idc

    table = index_idc(real_idc)
    masks = splits.published_split_masks(table)
    assert table.patient[masks["train"]].nunique() == 70
    assert table.patient[masks["val"]].nunique() == 22
    assert table.patient[masks["test"]].nunique() == 46
    assert table.patient[masks["other"]].nunique() == 116


def test_development_test_split_puts_the_published_test_patients_aside():
    table = _table()
    dev, test = splits.development_test_split(table)
    assert (dev ^ test).all()
    assert set(table.patient[test]) == set(splits.PUBLISHED_SPLIT["test"][:8])
    assert not set(table.patient[dev]) & set(splits.PUBLISHED_SPLIT["test"])
    # no published test patient present: a seeded split by patient instead
    others = table[dev].reset_index(drop=True)
    d1, t1 = splits.development_test_split(others, fallback_test_size=0.25, random_state=3)
    d2, t2 = splits.development_test_split(others, fallback_test_size=0.25, random_state=3)
    assert (t1 == t2).all() and t1.any() and d1.any()
    assert not set(others.patient[d1]) & set(others.patient[t1])
    assert others.patient[t1].nunique() == 8  # a quarter of 32 patients


def test_train_test_split_by_patient_is_grouped_and_seeded():
    table = _table()
    tr, te = splits.train_test_split_by_patient(table, test_size=0.25, random_state=0)
    assert (tr ^ te).all() and te.any() and tr.any()
    assert not set(table.patient[tr]) & set(table.patient[te])
    tr2, _ = splits.train_test_split_by_patient(table, test_size=0.25, random_state=0)
    tr3, _ = splits.train_test_split_by_patient(table, test_size=0.25, random_state=1)
    assert (tr == tr2).all() and not (tr == tr3).all()


def test_split_is_stratified_by_patient_positivity():
    table = _table()
    for seed in range(5):
        _, te = splits.train_test_split_by_patient(table, test_size=0.25, random_state=seed)
        test_patients = table[te].groupby("patient").label.mean()
        assert (test_patients == 0).sum() == 5 and (test_patients > 0).sum() == 5


def test_split_rejects_bad_input():
    table = pd.DataFrame({"patient": ["1", "1"], "label": [0, 1]})
    with pytest.raises(ValueError, match="at least 2 patients"):
        splits.train_test_split_by_patient(table)
    with pytest.raises(ValueError, match="test_size"):
        splits.train_test_split_by_patient(_table(), test_size=1.5)


def test_patient_table():
    t = splits.patient_table(_table(n_patients=10, per_patient=4))
    assert len(t) == 10 and (t["n_patches"] == 4).all()
    assert sorted(t["n_idc"].unique()) == [0, 2] and set(t["idc_fraction"]) == {0.0, 0.5}


@pytest.mark.parametrize("n_repeats", [1, 3])
def test_patient_cv_never_shares_a_patient_and_repeats_differ(n_repeats):
    table = _table()
    cv = splits.patient_cv(n_splits=4, n_repeats=n_repeats, random_state=0)
    folds = list(cv.split(np.zeros(len(table)), table.label, groups=table.patient))
    assert len(folds) == cv.get_n_splits() == 4 * n_repeats
    for train, test in folds:
        assert not set(table.patient.iloc[train]) & set(table.patient.iloc[test])
    for r in range(n_repeats):  # each repeat tests every patient exactly once
        tested = np.concatenate([test for _, test in folds[4 * r: 4 * (r + 1)]])
        assert np.array_equal(np.sort(tested), np.arange(len(table)))
    if n_repeats > 1:
        assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds[:4], folds[4:8]))
