"""helpers.data on real patches: resolution order, loading, caching, subsampling and every bad input's message."""

from __future__ import annotations

import json
import shutil
import socket
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers import data as D
from helpers.data import DataError, DataWarning

ROOT = Path(__file__).resolve().parent.parent


def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.png"))


def _no_env(monkeypatch):
    for var in ("HISTO_IDC_DIR", "HISTO_KATHER_DIR"):
        monkeypatch.delenv(var, raising=False)


# ------------------------------------------------------------------------------------------- loading


def test_load_idc_real_folder(idc_root):
    data = helpers.load_idc(idc_root, progress=False)
    n_files = len(_files(idc_root))
    assert len(data) == n_files and data.images.shape == (n_files, 50, 50, 3) and data.images.dtype == np.uint8
    assert list(data.table.columns) == ["path", "patient", "x", "y", "label", "width", "height", "padded"]
    assert (data.groups == data.table["patient"].to_numpy()).all() and data.class_names == ("non-IDC", "IDC")
    names = [Path(p).name for p in data.table["path"]]
    assert all(f"class{lab}" in n for n, lab in zip(names, data.labels))
    assert data.source == f"folder {idc_root}" and f"{n_files:,} patches from 8 patients" in data.summary()


def test_edge_patches_padded_or_dropped(idc_root):
    pad = helpers.load_idc(idc_root, progress=False)
    small = (pad.table["width"] < 50) | (pad.table["height"] < 50)
    assert small.sum() >= 4 and (pad.table["padded"] == small).all()
    row = int(np.flatnonzero(small)[0])
    h, w = pad.table.loc[row, ["height", "width"]]
    assert (pad.images[row, h:, :] == 255).all() and (pad.images[row, :, w:] == 255).all()
    assert f"{small.sum()} padded with white" in pad.summary()
    drop = helpers.load_idc(idc_root, on_small="drop", progress=False)
    assert len(drop) == len(pad) - small.sum() and drop.report["n_dropped_small"] == small.sum()
    with pytest.raises(ValueError, match="on_small"):
        helpers.load_idc(idc_root, on_small="crop")


def test_second_load_comes_from_the_cache(idc_copy, monkeypatch):
    first = helpers.load_idc(idc_copy, progress=False)
    import PIL.Image

    def no_decoding(*a, **k):
        raise AssertionError("decoded again although nothing changed")

    monkeypatch.setattr(PIL.Image, "open", no_decoding)
    again = helpers.load_idc(idc_copy, progress=False)
    assert np.array_equal(first.images, again.images)
    monkeypatch.undo()
    victim = _files(idc_copy)[0]  # a changed file is decoded again
    shutil.copyfile(_files(idc_copy)[-1], victim)
    changed = helpers.load_idc(idc_copy, progress=False)
    i = list(changed.table["path"]).index(str(victim))
    assert not np.array_equal(changed.images[i], first.images[i])


def test_no_network_while_loading(idc_root, kather_root, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("network access while loading")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    _no_env(monkeypatch)
    assert len(helpers.load_idc(idc_root, progress=False)) > 0
    kather = helpers.load_kather(progress=False)
    assert len(kather) > 0 and kather.source.startswith("bundled sample: 24 tiles")


def test_patients_and_subset(idc_root):
    data = helpers.load_idc(idc_root, patients=["8864", 8950], progress=False)
    assert set(data.groups) == {"8864", "8950"}
    sub = data.subset(data.labels == 1)
    assert len(sub) == int(data.labels.sum()) and (sub.labels == 1).all() and len(sub.table) == len(sub)
    with pytest.raises(DataError, match="None of the patients .*'1'.* are in"):
        helpers.load_idc(idc_root, patients=["1"])


# ------------------------------------------------------------------------------------------- sampling


def test_sample_patches_keeps_patients_and_their_class_mix(real_idc):
    table = D.index_idc(real_idc)
    n_patients = table["patient"].nunique()
    sub = D.sample_patches(table, max_patches=3 * n_patients, random_state=0)
    assert len(sub) == 3 * n_patients and sub["patient"].nunique() == n_patients
    big = table.groupby("patient").size().idxmax()  # a large patient keeps its class mix (within rounding)
    full_rate, sub_rate = (t[t.patient == big]["label"].mean() for t in (table, sub))
    assert abs(full_rate - sub_rate) <= 1 / 3 + 1e-9
    again = D.sample_patches(table, max_patches=3 * n_patients, random_state=0)
    other = D.sample_patches(table, max_patches=3 * n_patients, random_state=1)
    assert sub["path"].tolist() == again["path"].tolist() != other["path"].tolist()
    capped = D.sample_patches(table, max_per_patient=2)
    assert capped.groupby("patient").size().max() == 2


def test_sample_patches_keeps_whole_patients_whole(real_idc):
    table = D.index_idc(real_idc, read_sizes=False)
    sizes = table.groupby("patient").size()
    big = list(sizes.nlargest(2).index)
    sub = D.sample_patches(table, max_patches=int(sizes[big].sum()) + 50, whole=big, random_state=0)
    assert len(sub) == sizes[big].sum() + 50
    assert (sub.groupby("patient").size()[big] == sizes[big]).all()  # every patch of the whole patients
    rows = table.reset_index().set_index("path").loc[sub["path"], "index"].to_numpy()
    assert (np.diff(rows) > 0).all()  # in table order
    only = D.sample_patches(table, max_patches=10, whole=big)  # no room left: the whole patients only
    assert set(only["patient"]) == set(big)


def test_bundled_sample_is_what_its_readme_says():
    manifest = json.loads((ROOT / "data" / "sample" / "idc" / "manifest.json").read_text())
    table = D.index_idc(ROOT / "data" / "sample" / "idc")
    assert len(table) == manifest["n_patches"] and table["patient"].nunique() == manifest["n_patients"]
    sizes = table.groupby("patient").size()
    assert sizes["8864"] == 1133 and sizes["8950"] == 610 and sizes["9124"] == 465  # complete slides
    assert ((table["width"] < 50) | (table["height"] < 50)).sum() > 0
    readme = (ROOT / "data" / "README.md").read_text()
    assert f"{manifest['n_patches']:,}" in readme and "CC0" in readme and "CC BY 4.0" in readme


# ------------------------------------------------------------------------------------------- where data is found


def test_resolution_order(idc_root, tmp_path, monkeypatch):
    _no_env(monkeypatch)
    base = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "sample", base / "sample")
    monkeypatch.setenv("HISTO_DATA_DIR", str(base))
    assert D.find_data("idc").kind == "sample"
    cache = tmp_path / "kh"  # the kagglehub cache as kagglehub lays it out
    owner, name = D.SOURCES["idc"]["kaggle"].split("/")
    shutil.copytree(idc_root, cache / "datasets" / owner / name / "versions" / "1")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(cache))
    assert D.find_data("idc").kind == "sample"  # incomplete download: ignored
    (cache / "datasets" / owner / name / "1.complete").write_text("")
    assert D.find_data("idc").kind == "kagglehub"
    shutil.copytree(base / "sample" / "idc", base / "idc_subset")
    assert D.find_data("idc") == (base / "idc_subset", "prepared", f"prepared data in {base / 'idc_subset'}")
    monkeypatch.setenv("HISTO_IDC_DIR", str(idc_root))
    assert D.find_data("idc").kind == "env"
    assert D.find_data("idc", tmp_path / "data" / "sample").kind == "path"


def test_handout_unzipped_one_level_too_deep_is_found(tmp_path, monkeypatch):
    _no_env(monkeypatch)
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path))
    shutil.copytree(ROOT / "data" / "sample" / "idc", tmp_path / "idc_subset" / "idc_subset")
    loc = D.find_data("idc")
    assert loc.kind == "prepared" and loc.root == tmp_path / "idc_subset" / "idc_subset"
    assert "not " + str(tmp_path / "idc_subset") in loc.description


def test_prepared_folder_without_manifest_says_what_it_found(tmp_path, monkeypatch):
    _no_env(monkeypatch)
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path))
    (tmp_path / "idc_subset" / "stuff").mkdir(parents=True)
    with pytest.warns(DataWarning, match=r"idc_subset holds no manifest.json .*found: stuff"):
        with pytest.raises(DataError, match="No IDC breast histopathology patches found. Looked at"):
            D.find_data("idc")


def test_bundled_sample_is_announced_in_one_line_not_a_warning(monkeypatch):
    _no_env(monkeypatch)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        data = helpers.load_idc(max_patches=300, progress=False)
    line = "bundled sample: 3,300 patches, 254 patients — for the full data run `python -m helpers prepare`"
    assert data.source == line and data.summary().splitlines()[0] == line
    assert sum(line in s for s in data.summary().splitlines()) == 1
    assert not [w for w in record if issubclass(w.category, DataWarning)]  # the sample is no problem


def test_no_data_at_all(tmp_path, monkeypatch):
    _no_env(monkeypatch)
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"(?s)Looked at: HISTO_IDC_DIR \(unset\).*HISTO_DATA_DIR.*pip install -e"):
        helpers.load_idc()


# ------------------------------------------------------------------------------------------- bad input


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match=r"nope: no such folder\. Check the spelling\. Ways to get"):
        helpers.load_idc(tmp_path / "nope")


def test_env_var_pointing_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("HISTO_IDC_DIR", str(tmp_path / "gone"))
    with pytest.raises(DataError, match=r"HISTO_IDC_DIR=.*gone: no such folder"):
        helpers.load_idc()


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="is an empty folder. Copy or unzip the data into it"):
        helpers.load_idc(tmp_path / "empty")


def test_wrong_layout_shows_the_expected_one(idc_root, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in _files(idc_root)[:3]:
        shutil.copy(f, flat / f.name)  # patches without their patient/class folders
    with pytest.raises(DataError, match=r"(?s)3 .png file\(s\) .* none in the IDC layout.*Expected layout"):
        helpers.load_idc(flat)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"(?s)found: notes.txt\).*<patient>/<0\|1>/"):
        helpers.load_idc(tmp_path / "other")


def test_zip_says_unzip_it_first(idc_root, tmp_path):
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in _files(idc_root)[:3]:
            z.write(f, f.relative_to(idc_root))
    with pytest.raises(DataError, match="is a .zip archive: unzip it first"):
        helpers.load_idc(archive)
    (tmp_path / "download").mkdir()
    shutil.move(archive, tmp_path / "download" / "archive.zip")
    with pytest.raises(DataError, match=r"archive\(s\) archive.zip: unzip it first"):
        helpers.load_idc(tmp_path / "download")


def test_one_patient_or_one_class_warns(idc_root, tmp_path):
    one = tmp_path / "one"
    shutil.copytree(idc_root / "8864", one / "8864")
    with pytest.warns(DataWarning, match=r"holds 1 patient\(s\) and \d class\(es\).*Did you give one patient's"):
        assert len(helpers.load_idc(one, progress=False)) == len(_files(one))
    with pytest.warns(DataWarning, match="holds 1 patient"):
        helpers.load_idc(one / "8864", progress=False)  # the patient folder itself: found, and warned


def test_label_mismatch_raise_or_skip(idc_copy):
    wrong = next((idc_copy / "8950" / "0").glob("*.png"))
    shutil.move(wrong, idc_copy / "8950" / "1" / wrong.name)
    with pytest.raises(DataError, match=r"(?s)1 patch\(es\) sit in a class folder.*on_mismatch='skip'"):
        helpers.load_idc(idc_copy)
    data = helpers.load_idc(idc_copy, on_mismatch="skip", progress=False)
    assert data.report["n_mismatch"] == 1 and wrong.name not in " ".join(data.table["path"])
    assert "label mismatches left out: 1" in data.summary()


def test_corrupt_png_is_skipped_and_counted(idc_copy):
    victim = _files(idc_copy)[5]
    victim.write_bytes(victim.read_bytes()[:40])  # a truncated download
    n = len(_files(idc_copy))
    with pytest.warns(DataWarning, match=rf"(?s)1 of {n} image file\(s\) could not be decoded.*{victim.name}"):
        data = helpers.load_idc(idc_copy, progress=False)
    assert len(data) == n - 1 and data.report["n_corrupt"] == 1 and str(victim) not in set(data.table["path"])


def test_duplicate_tree_counted_once(idc_copy):
    n = len(_files(idc_copy))
    shutil.copytree(idc_copy, idc_copy / D.DUPLICATE_TREE)
    data = helpers.load_idc(idc_copy, progress=False)
    assert len(data) == n and data.report["n_duplicates"] == n
    assert not any(D.DUPLICATE_TREE in p for p in data.table["path"])
    assert f"duplicate copies ignored: {n}" in data.summary()


def test_bad_policy_values(idc_root):
    with pytest.raises(ValueError, match="on_mismatch"):
        helpers.load_idc(idc_root, on_mismatch="ignore")


def test_warnings_point_at_the_caller(idc_root, tmp_path):
    one = tmp_path / "one"
    shutil.copytree(idc_root / "8950", one / "8950")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        helpers.load_idc(one, progress=False)
    assert record and all(Path(w.filename).name == "test_data.py" for w in record)


def test_read_patches_without_cache_and_cheap_index(idc_copy, monkeypatch):
    table = D.index_idc(idc_copy, read_sizes=False)
    assert "width" not in table.columns and len(table) == len(_files(idc_copy))
    monkeypatch.setenv("HISTO_CACHE_DIR", str(idc_copy.parent / "fresh-cache"))
    images, ok = D.read_patches(table["path"][:10], progress=False, cache=False)
    assert images.shape == (10, 50, 50, 3) and ok.all()
    assert not (idc_copy.parent / "fresh-cache" / "joblib").exists()  # nothing written
    cached, _ = D.read_patches(table["path"][:10], progress=False)
    assert np.array_equal(images, cached)
