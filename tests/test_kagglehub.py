"""The kagglehub path, with the network mocked or a pre-filled kagglehub cache (Kaggle is unreachable here)."""

from __future__ import annotations

import shutil

import pytest

from helpers import data as D
from helpers._common import DataError


def test_download_uses_pinned_version(monkeypatch, demo_root):
    import kagglehub

    calls = []

    def fake_download(handle, *args, **kwargs):
        calls.append(handle)
        return str(demo_root)

    monkeypatch.delenv("HISTO_IDC_DIR", raising=False)
    monkeypatch.setattr(kagglehub, "dataset_download", fake_download)
    src = D.find_idc()
    assert calls == [f"{D.KAGGLE_IDC_HANDLE}/versions/{D.KAGGLE_IDC_VERSION}"]
    assert src.kind == "kagglehub download" and src.root == demo_root and not src.is_demo


def test_download_failure_message(monkeypatch):
    import kagglehub

    def fail(handle, *a, **k):
        raise RuntimeError("Failed to resolve 'www.kaggle.com'")

    monkeypatch.setattr(kagglehub, "dataset_download", fail)
    with pytest.raises(DataError, match="Could not download the IDC data set from Kaggle") as err:
        D.download_idc()
    assert "HISTO_IDC_DIR" in str(err.value) and "prepare" in str(err.value)


def test_prefilled_kagglehub_cache_is_found_offline(monkeypatch, tmp_path, demo_root):
    """A cache laid out as kagglehub writes it is used with no network call at all."""
    import kagglehub

    cache = tmp_path / "kh"
    owner, name = D.KAGGLE_IDC_HANDLE.split("/")
    base = cache / "datasets" / owner / name
    shutil.copytree(demo_root, base / "versions" / str(D.KAGGLE_IDC_VERSION))
    (base / f"{D.KAGGLE_IDC_VERSION}.complete").write_text("")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(cache))
    monkeypatch.delenv("HISTO_IDC_DIR", raising=False)

    def no_network(*a, **k):
        raise AssertionError("the network must not be used when the pinned version is cached")

    monkeypatch.setattr(kagglehub, "dataset_download", no_network)
    src = D.find_idc()
    assert src.kind == "kagglehub cache"
    assert src.root == base / "versions" / str(D.KAGGLE_IDC_VERSION)
    assert len(D.index_idc(src.root)) == len(D.index_idc(demo_root))
