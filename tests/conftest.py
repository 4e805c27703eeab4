"""Shared fixtures, all on REAL patches: the bundled sample in data/sample, or the larger ../shared sample when
HISTO_IDC_DIR / HISTO_KATHER_DIR are set (as in CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_IDC = ROOT / "data" / "sample" / "idc"
SAMPLE_KATHER = ROOT / "data" / "sample" / "kather2016"
REAL_IDC = Path(os.environ.get("HISTO_IDC_DIR") or SAMPLE_IDC)
REAL_KATHER = Path(os.environ.get("HISTO_KATHER_DIR") or SAMPLE_KATHER)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Each test: the session's private cache, an empty kagglehub cache, no HISTO_DATA_DIR from outside."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("HISTO_CACHE_DIR", str(base / "histo-cache"))
    monkeypatch.delenv("HISTO_DATA_DIR", raising=False)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(base / "kagglehub-empty"))


@pytest.fixture(scope="session")
def idc_root(tmp_path_factory) -> Path:
    """A small real IDC folder in the Kaggle layout (8 patients, both classes, edge patches included).

    Of each complete slide of the bundled sample (8864, 8950, 9124) 4 edge patches and 20 other patches of each class; all the
    patches of five sparse patients, copied from data/sample/idc.
    """
    from helpers.data import index_idc

    table = index_idc(SAMPLE_IDC)
    table["edge"] = (table["width"] < 50) | (table["height"] < 50)
    parts = [pd.concat([g[g.edge].head(4), g[~g.edge & (g.label == 0)].head(20), g[~g.edge & (g.label == 1)].head(20)])
             for g in (table[table.patient == p] for p in ("8864", "8950", "9124"))]
    sparse = table.groupby("patient").filter(lambda g: 4 <= len(g) <= 10 and g["label"].nunique() == 2)
    parts += [sparse[sparse.patient == p] for p in sorted(sparse.patient.unique(), key=int)[:5]]
    root = tmp_path_factory.mktemp("idc_root")
    for part in parts:
        for row in part.itertuples():
            dst = root / row.patient / str(row.label) / Path(row.path).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(row.path, dst)
    return root


@pytest.fixture
def idc_copy(idc_root, tmp_path) -> Path:
    """A writable copy of :func:`idc_root` (for tests that damage it)."""
    return Path(shutil.copytree(idc_root, tmp_path / "idc"))


@pytest.fixture(scope="session")
def real_idc() -> Path:
    """The largest real IDC sample at hand: HISTO_IDC_DIR if set, else the bundled sample."""
    return REAL_IDC


@pytest.fixture(scope="session")
def kather_root() -> Path:
    """Real Kather 2016 tiles: HISTO_KATHER_DIR if set, else the bundled sample (24 tiles)."""
    return REAL_KATHER


@pytest.fixture(scope="session")
def real_patches(real_idc):
    """400 real patches (images uint8 (400, 50, 50, 3), table) chosen patient-stratified with seed 0."""
    from helpers.data import index_idc, read_patches, sample_patches

    table = sample_patches(index_idc(real_idc), max_patches=400, random_state=0)
    images, ok = read_patches(table["path"], progress=False)
    return images, table[ok].reset_index(drop=True)
