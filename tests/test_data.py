"""helpers.data: indexing, decoding, subsampling, sources, cache and every bad input."""

from __future__ import annotations

import shutil
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import helpers
from helpers import data as D
from helpers._common import DataError, DemoDataWarning

from conftest import write_png


def test_parse_patch_name():
    assert D.parse_patch_name("8863_idx5_x1001_y1051_class0.png") == {
        "patient": "8863", "x": 1001, "y": 1051, "label": 0}
    assert D.parse_patch_name("8863_idx5_x1_y51_class1.png")["label"] == 1
    assert D.parse_patch_name("8863_x1_y51_class1.png") is None
    assert D.parse_patch_name("8863_idx5_x1_y51_class2.png") is None
    assert D.parse_patch_name(".DS_Store") is None


def test_index_demo(demo_root):
    table = D.index_idc(demo_root)
    assert list(table.columns) == D.TABLE_COLUMNS
    assert len(table) > 300
    assert table["patient"].nunique() == 4
    assert set(table["label"].unique()) == {0, 1}
    # folder label, name label and patient folder agree with the parsed columns
    for row in table.sample(50, random_state=0).itertuples():
        parts = row.path.split("/")
        assert parts[-2] == str(row.label) and parts[-3] == row.patient
        assert f"_class{row.label}.png" in parts[-1]
    assert table.attrs["n_duplicates"] == 0
    # sorted by patient, y, x
    key = table.assign(p=table.patient.astype(int))[["p", "y", "x"]].to_numpy()
    assert (np.diff(key[:, 0]) >= 0).all()


def test_read_patches_shapes_and_edge_policy(demo_root):
    table = D.index_idc(demo_root)
    small = (table.width < 50) | (table.height < 50)
    assert small.any(), "the demo data must contain slide-edge patches"
    images, ok = D.read_patches(table.path, progress=False)
    assert images.dtype == np.uint8 and images.shape == (len(table), 50, 50, 3) and ok.all()
    # a padded edge patch: tissue at the top-left, white where the slide ended
    i = int(np.flatnonzero(small.to_numpy())[0])
    w, h = table.width[i], table.height[i]
    if h < 50:
        assert (images[i, h:, :, :] == 255).all()
    if w < 50:
        assert (images[i, :, w:, :] == 255).all()
    dropped, ok2 = D.read_patches(table.path, on_small="drop", progress=False)
    assert len(dropped) == (~small).sum() and (ok2 == ~small.to_numpy()).all()


def test_real_sample_index_and_edges(real_idc):
    table = D.index_idc(real_idc)
    assert len(table) == 13410 and table["patient"].nunique() == 254
    assert int(table.label.sum()) == 3975
    small = (table.width < 50) | (table.height < 50)
    assert small.sum() == 150
    sizes = set(zip(table.width[small], table.height[small]))
    assert {(50, 42), (50, 1), (2, 26)} <= sizes


def test_real_sample_load_reports_padding(real_idc):
    data = helpers.load_idc(real_idc, patients=["8863", "8864"], progress=False)
    assert data.images.shape == (len(data.table), 50, 50, 3)
    assert data.report["n_small"] == data.table.padded.sum() > 0
    assert "padded with white" in data.summary()
    assert not data.is_demo


def test_subsample_is_patient_stratified_and_seeded(demo_root):
    table = D.index_idc(demo_root)
    a = D.subsample(table, max_patches=200, seed=1)
    b = D.subsample(table, max_patches=200, seed=1)
    c = D.subsample(table, max_patches=200, seed=2)
    assert len(a) == 200
    assert a.path.tolist() == b.path.tolist() and a.path.tolist() != c.path.tolist()
    assert set(a.patient) == set(table.patient)
    # class mix kept within a few percent
    assert abs(a.label.mean() - table.label.mean()) < 0.05
    capped = D.subsample(table, max_per_patient=30, seed=0)
    assert capped.groupby("patient").size().max() <= 31
    bal = D.subsample(table, balance=True, seed=0)
    counts = bal.label.value_counts()
    assert abs(counts[0] - counts[1]) <= table.patient.nunique() * 2


def test_load_idc_cache_is_fast_and_identical(demo_root):
    t0 = time.perf_counter()
    first = helpers.load_idc(demo_root, max_patches=300, progress=False)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = helpers.load_idc(demo_root, max_patches=300, progress=False)
    t_second = time.perf_counter() - t0
    assert np.array_equal(first.images, second.images)
    pd.testing.assert_frame_equal(first.table, second.table)
    assert t_second < 1.0, f"cached load took {t_second:.2f} s (first {t_first:.2f} s)"


# ---- bad inputs: one clear message each, nothing lost ------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        D.index_idc(tmp_path / "nope")
    with pytest.raises(DataError, match="HISTO_IDC_DIR"):
        D.find_idc(tmp_path / "nope")


def test_env_var_pointing_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("HISTO_IDC_DIR", str(tmp_path / "missing"))
    with pytest.raises(DataError, match="HISTO_IDC_DIR=.*is not a folder"):
        D.find_idc()


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="is empty"):
        D.index_idc(tmp_path)


def test_wrong_layout_shows_expected_one(tmp_path):
    write_png(tmp_path / "flat" / "8863_idx5_x1_y1_class0.png", np.zeros((50, 50, 3), np.uint8))
    write_png(tmp_path / "flat" / "image_001.png", np.zeros((50, 50, 3), np.uint8))
    with pytest.raises(DataError, match=r"Expected layout") as err:
        D.index_idc(tmp_path)
    assert "<patient>/<0|1>/" in str(err.value)


def test_label_mismatch(demo_copy):
    table = D.index_idc(demo_copy)
    row = table[table.label == 0].iloc[0]
    wrong = demo_copy / row.patient / "1" / row.path.split("/")[-1]
    shutil.move(row.path, wrong)
    with pytest.raises(DataError, match="disagrees with the class in their name"):
        D.index_idc(demo_copy)
    skipped = D.index_idc(demo_copy, on_mismatch="skip")
    assert len(skipped) == len(table) - 1 and skipped.attrs["n_mismatch"] == 1
    assert wrong.exists(), "nothing is deleted"


def test_corrupt_png_is_skipped_counted_and_reported(demo_copy):
    table = D.index_idc(demo_copy)
    victim = table.path[5]
    with open(victim, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.warns(UserWarning, match="could not be decoded"):
        data = helpers.load_idc(demo_copy, progress=False)
    assert data.report["n_corrupt"] == 1
    assert len(data) == len(table) - 1
    assert victim not in set(data.table.path)
    assert "corrupt files skipped: 1" in data.summary()


def test_duplicate_tree_counted_once(demo_copy):
    before = D.index_idc(demo_copy)
    dup = demo_copy / D.DUPLICATE_TREE
    dup.mkdir()
    for patient in before.patient.unique()[:2]:
        shutil.copytree(demo_copy / patient, dup / patient)
    after = D.index_idc(demo_copy)
    assert len(after) == len(before)
    assert after.attrs["n_duplicates"] == (before.patient.isin(before.patient.unique()[:2])).sum()
    assert not any(D.DUPLICATE_TREE in p for p in after.path)


def test_no_data_no_network_names_the_three_ways(monkeypatch):
    monkeypatch.delenv("HISTO_IDC_DIR", raising=False)

    def offline(handle, *a, **k):
        raise ConnectionError("network is unreachable")

    import kagglehub

    monkeypatch.setattr(kagglehub, "dataset_download", offline)
    with pytest.raises(DataError) as err:
        D.find_idc(allow_demo=False)
    msg = str(err.value)
    assert "(1)" in msg and "(2)" in msg and "(3)" in msg and "HISTO_IDC_DIR" in msg
    assert "network is unreachable" in msg


def test_no_data_falls_back_to_demo_with_banner(monkeypatch):
    monkeypatch.delenv("HISTO_IDC_DIR", raising=False)
    import kagglehub

    monkeypatch.setattr(kagglehub, "dataset_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.warns(DemoDataWarning, match="NOT real patients"):
        data = helpers.load_idc(max_patches=200, progress=False)
    assert data.is_demo and data.source.kind == "demo"
    assert "offline" in data.source.note
    assert "DEMO" in data.summary()


def test_histo_demo_forces_demo(monkeypatch, real_idc):
    monkeypatch.setenv("HISTO_DEMO", "1")
    with pytest.warns(DemoDataWarning):
        data = helpers.load_idc(max_patches=100, progress=False)
    assert data.is_demo


def test_bad_on_small_value(demo_root):
    with pytest.raises(ValueError, match="on_small"):
        helpers.load_idc(demo_root, on_small="crop")


def test_unknown_patients(demo_root):
    with pytest.raises(DataError, match="None of the requested patients"):
        helpers.load_idc(demo_root, patients=["1234"])


def test_real_sample_first_load_and_cache(real_idc):
    """Loading the whole real sample, then again from the cache (timings are printed by benchmarks)."""
    first = helpers.load_idc(real_idc, progress=False)
    second = helpers.load_idc(real_idc, progress=False)
    assert first.images.shape == (13410, 50, 50, 3)
    assert np.array_equal(first.images[::97], second.images[::97])
