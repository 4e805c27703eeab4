"""Downloads (only in `prepare --download`): kagglehub and pooch mocked, a pre-filled kagglehub cache, and a dead
proxy that accepts connections and never answers (no Kaggle or Zenodo here)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from helpers import data as D
from helpers import prepare as P
from helpers.data import DataError


def _no_env(monkeypatch):
    for var in ("HISTO_IDC_DIR", "HISTO_KATHER_DIR"):
        monkeypatch.delenv(var, raising=False)


def test_download_idc_uses_the_pinned_version(idc_root, tmp_path, monkeypatch):
    import kagglehub

    _no_env(monkeypatch)
    calls = []
    monkeypatch.setattr(kagglehub, "dataset_download", lambda handle, *a, **k: calls.append(handle) or str(idc_root))
    said = []
    m = P.prepare_idc(out=tmp_path / "sub", download=True, max_patches=50, progress=False, log=said.append)
    assert calls == ["paultimothymooney/breast-histopathology-images/versions/1"]
    assert m["n_patches"] == 50 and m["source"] == str(idc_root)
    assert "Downloading IDC" in said[0] and "about 3.1 GB" in said[0] and "giving up after 30 s" in said[0]


def test_download_kather_from_zenodo_with_md5(kather_root, tmp_path, monkeypatch):
    import pooch

    _no_env(monkeypatch)
    seen = {}

    def fake_retrieve(url, known_hash, fname, path, processor, downloader):
        seen.update(url=url, known_hash=known_hash, timeout=downloader.kwargs.get("timeout"))
        shutil.copytree(kather_root, Path(path) / "kather2016" / "Kather_texture_2016_image_tiles_5000")
        return []

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    m = P.prepare_kather(out=tmp_path / "k", download=True, timeout=7, progress=False)
    assert seen == {"url": D.SOURCES["kather"]["zenodo_url"], "known_hash": D.SOURCES["kather"]["zenodo_md5"],
                    "timeout": 7}
    assert m["n_patches"] == len(list(Path(kather_root).rglob("*.tif")))


def test_download_failure_names_the_three_ways(monkeypatch):
    import kagglehub

    def fail(*a, **k):
        raise ConnectionError("Failed to resolve 'www.kaggle.com'")

    monkeypatch.setattr(kagglehub, "dataset_download", fail)
    with pytest.raises(DataError, match=r"(?s)download of the IDC .* failed \(ConnectionError: Failed to resolve.*"
                                        r"\(1\) set HISTO_IDC_DIR.*\(2\) unzip the instructor's handout.*\(3\)"):
        P.download("idc")


def test_prefilled_kagglehub_cache_is_used_without_network(idc_root, tmp_path, monkeypatch):
    """A cache laid out as kagglehub writes it: found by load_idc and prepare, and kagglehub agrees on the path."""
    import kagglehub
    from kagglehub import cache as kh_cache
    from kagglehub.handle import parse_dataset_handle

    _no_env(monkeypatch)
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path / "nodata"))
    cache = tmp_path / "kh"
    base = cache / "datasets" / "paultimothymooney" / "breast-histopathology-images"
    shutil.copytree(idc_root, base / "versions" / "1")
    (base / "1.complete").write_text("")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(cache))
    monkeypatch.setattr(kagglehub, "dataset_download", lambda *a, **k: pytest.fail("network used"))
    loc = D.find_data("idc")
    assert loc.kind == "kagglehub" and loc.root == base / "versions" / "1"
    load_from_cache = kh_cache.Cache().load_from_cache if hasattr(kh_cache, "Cache") else kh_cache.load_from_cache
    handle = parse_dataset_handle("paultimothymooney/breast-histopathology-images/versions/1")
    assert Path(load_from_cache(handle)) == loc.root  # kagglehub itself finds the same folder
    assert P.prepare_idc(out=tmp_path / "sub", max_patches=30, progress=False)["n_patches"] == 30


@pytest.fixture
def dead_proxy(monkeypatch):
    """A local proxy that accepts connections and never answers; HTTP(S)_PROXY point at it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # keep it open, say nothing
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(var, url)
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    yield held
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize("name", ["idc", "kather"])
def test_dead_proxy_cannot_hang_a_download(name, dead_proxy, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTO_CACHE_DIR", str(tmp_path / "cache"))
    result = {}

    def run():
        start = time.monotonic()
        try:
            P.download(name, timeout=1, progress=False)
        except DataError as exc:
            result["error"] = str(exc)
        result["seconds"] = time.monotonic() - start

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(120)  # bounded: a hang fails the test instead of blocking the suite
    assert not worker.is_alive(), "the download is still waiting on a proxy that never answers"
    assert dead_proxy, "the download did not even go through the proxy"
    assert "error" in result and "python -m helpers prepare --download" in result["error"]
