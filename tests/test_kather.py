"""helpers.load_kather on the real tiles (bundled sample or HISTO_KATHER_DIR): layout, groups, bad input."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers.data import KATHER_CLASSES, DataError, DataWarning, index_kather


def test_load_real_tiles(kather_root):
    data = helpers.load_kather(kather_root, progress=False)
    n = len(list(Path(kather_root).rglob("*.tif")))
    assert len(data) == n and data.images.shape == (n, 150, 150, 3) and data.images.dtype == np.uint8
    assert data.class_names == KATHER_CLASSES and set(data.labels) == set(range(8))
    assert list(data.table.columns) == ["path", "label", "class_name", "image", "row", "col"]
    for path, label, group in zip(data.table["path"], data.labels, data.groups):
        name = Path(path).name  # e.g. 1A11_CRC-Prim-HE-07_022.tif_Row_601_Col_151.tif
        assert Path(path).parent.name.endswith(KATHER_CLASSES[label])
        assert group.endswith(".tif") and f"_{group}_Row_" in f"_{name}" and "Row" not in group
    assert (data.images.reshape(n, -1).std(axis=1) > 0).all()  # real tiles, not blank


def test_groups_are_source_images_not_tiles(kather_root):
    table = index_kather(kather_root)
    image = "CRC-Prim-HE-06_005.tif"  # three EMPTY tiles of the sample are cut from this one image
    same = table[table["image"] == image]
    assert len(same) >= 3 and same["label"].nunique() == 1 and same["path"].nunique() == len(same)
    assert table["image"].nunique() < len(table)


def test_max_per_class(kather_root):
    data = helpers.load_kather(kather_root, max_per_class=2, random_state=0, progress=False)
    assert np.bincount(data.labels).tolist() == [2] * 8
    again = helpers.load_kather(kather_root, max_per_class=2, random_state=0, progress=False)
    assert data.table["path"].tolist() == again.table["path"].tolist()


def test_nested_copy_is_found(kather_root, tmp_path):
    nested = tmp_path / "Kather_texture_2016_image_tiles_5000" / "Kather_texture_2016_image_tiles_5000"
    shutil.copytree(kather_root, nested)
    assert len(helpers.load_kather(tmp_path, progress=False)) == len(index_kather(kather_root))


def test_missing_class_and_unknown_class(kather_root, tmp_path):
    copy = Path(shutil.copytree(kather_root, tmp_path / "k"))
    shutil.rmtree(copy / "08_EMPTY")
    with pytest.raises(DataError, match=r"No tiles for class\(es\) EMPTY .*Expected layout"):
        helpers.load_kather(copy)
    (copy / "09_MUSCLE").mkdir()
    with pytest.raises(DataError, match="Unknown class folder '09_MUSCLE'"):
        helpers.load_kather(copy)


def test_wrong_layout_and_zip(kather_root, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in sorted(Path(kather_root).rglob("*.tif"))[:2]:
        shutil.copy(f, flat / f.name)
    with pytest.raises(DataError, match=r"(?s)No Kather class folders under .*found: .*\.tif.*01_TUMOR/\*\.tif"):
        helpers.load_kather(flat)
    archive = tmp_path / "Kather_texture_2016_image_tiles_5000.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(next(Path(kather_root).rglob("*.tif")), "01_TUMOR/a.tif")
    with pytest.raises(DataError, match="unzip it first"):
        helpers.load_kather(archive)


def test_env_var_pointing_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("HISTO_KATHER_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"HISTO_KATHER_DIR=.*nowhere: no such folder.*python -m helpers prepare"):
        helpers.load_kather()


def test_corrupt_tile_is_skipped(kather_root, tmp_path):
    copy = Path(shutil.copytree(kather_root, tmp_path / "k"))
    victim = sorted(copy.rglob("*.tif"))[0]
    victim.write_bytes(b"II*\x00 not really a tiff")
    with pytest.warns(DataWarning, match=r"1 of \d+ image file\(s\) could not be decoded"):
        data = helpers.load_kather(copy, progress=False)
    assert data.report["n_corrupt"] == 1 and str(victim) not in set(data.table["path"])
