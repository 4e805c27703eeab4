"""Shared fixtures: an isolated cache, a small demo data set, the real sample when HISTO_IDC_DIR is set."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

REAL_IDC = os.environ.get("HISTO_IDC_DIR")
REAL_KATHER = os.environ.get("HISTO_KATHER_DIR")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Each test gets the session's private cache, and no HISTO_DEMO / HISTO_DATA_DIR leaking from outside."""
    cache = tmp_path_factory.getbasetemp() / "histo-cache"
    monkeypatch.setenv("HISTO_CACHE_DIR", str(cache))
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path_factory.getbasetemp() / "no-data-dir"))
    monkeypatch.delenv("HISTO_DEMO", raising=False)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path_factory.getbasetemp() / "kagglehub-empty"))


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """A small synthetic IDC data set (4 patients) in the Kaggle layout."""
    from helpers.demo import make_demo_idc

    root = tmp_path_factory.mktemp("demo_idc")
    make_demo_idc(root, n_patients=4, seed=0)
    return root


@pytest.fixture
def demo_copy(demo_root, tmp_path) -> Path:
    """A writable copy of the demo data set (for tests that damage it)."""
    dst = tmp_path / "idc"
    shutil.copytree(demo_root, dst)
    return dst


@pytest.fixture(scope="session")
def real_idc() -> Path:
    if not REAL_IDC or not Path(REAL_IDC).is_dir():
        pytest.skip("HISTO_IDC_DIR is not set: real-data test skipped")
    return Path(REAL_IDC)


@pytest.fixture(scope="session")
def real_patches(real_idc):
    """Up to 400 real patches (images, table) from the real sample, chosen with a seed."""
    from helpers.data import index_idc, read_patches, subsample

    table = subsample(index_idc(real_idc), max_patches=400, seed=0)
    images, ok = read_patches(table["path"], progress=False)
    return images, table[ok].reset_index(drop=True)


def write_png(path: Path, array: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path
