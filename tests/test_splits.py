"""Patient-level splits: no patient on both sides, stratified, seeded; the published split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import splits
from helpers.data import index_idc


def test_published_split_sizes_and_disjoint():
    s = splits.published_split()
    assert {k: len(v) for k, v in s.items()} == {"train": 84, "val": 29, "test": 49}
    assert not set(s["train"]) & set(s["test"]) and not set(s["val"]) & set(s["test"])
    assert not set(s["train"]) & set(s["val"])
    assert "8863" not in set().union(*s.values()) and "9124" in s["train"]


def test_published_split_on_real_sample(real_idc):
    masks = splits.published_split_masks(index_idc(real_idc))
    table = index_idc(real_idc)
    assert table.patient[masks["train"]].nunique() == 70
    assert table.patient[masks["val"]].nunique() == 22
    assert table.patient[masks["test"]].nunique() == 46
    assert table.patient[masks["other"]].nunique() == 116


def test_train_test_split_by_patient(demo_root):
    table = index_idc(demo_root)
    tr, te = splits.train_test_split_by_patient(table, test_size=0.25, seed=0)
    assert (tr ^ te).all()
    assert not set(table.patient[tr]) & set(table.patient[te])
    assert te.any() and tr.any()
    tr2, _ = splits.train_test_split_by_patient(table, test_size=0.25, seed=0)
    assert (tr == tr2).all()


def test_split_is_stratified_by_patient_positivity():
    rows = []
    for p in range(40):
        frac = 0.0 if p < 20 else 0.5
        for i in range(10):
            rows.append({"patient": str(p), "label": int(i < 10 * frac)})
    table = pd.DataFrame(rows)
    for seed in range(5):
        _, te = splits.train_test_split_by_patient(table, test_size=0.25, seed=seed)
        test_patients = table[te].groupby("patient").label.mean()
        assert (test_patients == 0).sum() == 5 and (test_patients > 0).sum() == 5


def test_split_rejects_bad_input():
    table = pd.DataFrame({"patient": ["1", "1"], "label": [0, 1]})
    with pytest.raises(ValueError, match="at least 2 patients"):
        splits.train_test_split_by_patient(table)
    with pytest.raises(ValueError, match="test_size"):
        splits.train_test_split_by_patient(table, test_size=1.5)


def test_patient_cv_never_shares_a_patient(demo_root):
    table = index_idc(demo_root)
    cv = splits.patient_cv(n_splits=4, seed=0)
    for train, test in cv.split(np.zeros(len(table)), table.label, groups=table.patient):
        assert not set(table.patient.iloc[train]) & set(table.patient.iloc[test])
