"""Tests of helpers.kather: layout, loader, bad inputs, download paths (mocked), demo tiles.

No test touches the network: kagglehub.dataset_download and pooch.retrieve are replaced by mocks.
Tests on the real sample run only when HISTO_KATHER_DIR is set.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import kather
from helpers._common import DataError, DemoDataWarning

REAL_DIR = os.environ.get("HISTO_KATHER_DIR")
N_DEMO = 4  # tiles per class in the test demo set


# ------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def demo_src(tmp_path_factory) -> Path:
    """A small demo set (4 tiles per class), made once; copy it before changing it."""
    root = tmp_path_factory.mktemp("kather_demo_src")
    return kather.make_demo_kather(root, n_per_class=N_DEMO)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("histo_cache")


class _Offline(Exception):
    pass


@pytest.fixture
def isolated(monkeypatch, tmp_path, shared_cache):
    """No real data anywhere, no network: every download attempt raises (and is recorded)."""
    for var in ("HISTO_KATHER_DIR", "HISTO_DEMO"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HISTO_CACHE_DIR", str(shared_cache))
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path / "repo_data"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    calls: dict[str, list] = {"kaggle": [], "pooch": []}

    def no_kaggle(handle, *a, **k):
        calls["kaggle"].append(handle)
        raise _Offline("kaggle: no network")

    def no_pooch(*a, **k):
        calls["pooch"].append(k)
        raise _Offline("zenodo: no network")

    import kagglehub
    import pooch

    monkeypatch.setattr(kagglehub, "dataset_download", no_kaggle)
    monkeypatch.setattr(pooch, "retrieve", no_pooch)
    return calls


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# ------------------------------------------------------------------------------------------------
# demo tiles


def test_demo_layout_and_determinism(demo_src, tmp_path):
    folders = sorted(p.name for p in demo_src.iterdir())
    assert folders == list(kather.CLASS_FOLDERS)
    for f in folders:
        files = sorted((demo_src / f).glob("*.tif"))
        assert len(files) == N_DEMO
        with Image.open(files[0]) as im:
            assert im.format == "TIFF" and im.mode == "RGB" and im.size == (150, 150)
    again = kather.make_demo_kather(tmp_path, n_per_class=N_DEMO)
    a = kather.read_tiles(sorted(map(str, demo_src.glob("*/*.tif"))), progress=False)[0]
    b = kather.read_tiles(sorted(map(str, again.glob("*/*.tif"))), progress=False)[0]
    np.testing.assert_array_equal(a, b)
    other = kather.make_demo_kather(tmp_path / "s1", n_per_class=1, seed=1)
    c = kather.read_tiles(sorted(map(str, other.glob("*/*.tif"))), progress=False)[0]
    assert not np.array_equal(a[::N_DEMO], c)


def test_demo_classes_are_distinct_textures(demo_src):
    """Simple colour/texture statistics separate the eight demo classes (leave-one-out 1-NN)."""
    table = kather.index_kather(demo_src)
    imgs, ok = kather.read_tiles(table["path"].tolist(), progress=False)
    assert ok.all()
    x = imgs.astype(float)
    grey = x.mean(-1)
    feats = np.column_stack([
        x.mean((1, 2)), x.std((1, 2)),
        np.abs(np.diff(grey, axis=1)).mean((1, 2)), np.abs(np.diff(grey, axis=2)).mean((1, 2)),
        (grey < 100).mean((1, 2)), (grey > 220).mean((1, 2)),
    ])
    feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-9)
    d = ((feats[:, None] - feats[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    pred = table["label"].to_numpy()[d.argmin(1)]
    acc = (pred == table["label"].to_numpy()).mean()
    assert acc >= 0.8, acc
    # the background is the brightest class, lymphocytes among the darkest
    means = np.array([grey[table.label == i].mean() for i in range(8)])
    assert means.argmax() == kather.CLASS_NAMES.index("EMPTY")
    assert means[kather.CLASS_NAMES.index("LYMPHO")] < means[kather.CLASS_NAMES.index("ADIPOSE")] - 80


# ------------------------------------------------------------------------------------------------
# layout and index


def test_index_table(demo_src):
    t = kather.index_kather(demo_src)
    assert len(t) == 8 * N_DEMO
    assert list(t.columns[:4]) == ["path", "folder", "class_name", "label"]
    assert t["label"].tolist() == sorted(t["label"].tolist())
    assert (t.groupby("label").size() == N_DEMO).all()
    assert set(t["class_name"]) == set(kather.CLASS_NAMES)
    assert t["slide"].str.startswith("DEMO-HE-").all()
    assert (t["row"] >= 1).all() and (t["col"] >= 1).all()


def test_parse_original_names():
    info = kather._parse_name("1A11_CRC-Prim-HE-07_022.tif_Row_601_Col_151.tif")
    assert info == {"slide": "CRC-Prim-HE-07", "image": "CRC-Prim-HE-07_022", "row": 601, "col": 151}
    info = kather._parse_name("1A3D_CRC-Prim-HE-02_copy.tif_Row_151_Col_301.tif")
    assert info["slide"] == "CRC-Prim-HE-02" and info["row"] == 151
    info = kather._parse_name("1BB8_CRC-Prim-HE-02.tif_Row_901_Col_301.tif")
    assert info["slide"] == "CRC-Prim-HE-02" and info["col"] == 301
    assert kather._parse_name("whatever.tif") == {"slide": "whatever", "image": "whatever", "row": -1, "col": -1}


def test_nested_kaggle_layout_is_found(demo_src, tmp_path):
    # kagglehub version folder: the tiles nested twice, next to other folders and the hmnist CSVs
    top = tmp_path / "versions" / "2"
    nested = top / kather.TILES_DIRNAME / kather.TILES_DIRNAME
    _copy(demo_src, nested)
    (top / "Kather_texture_2016_larger_images_10" / "Kather_texture_2016_larger_images_10").mkdir(parents=True)
    (top / "hmnist_28_28_RGB.csv").write_text("pixel0000,label\n")
    assert kather.locate_tile_root(top) == nested
    assert len(kather.index_kather(top)) == 8 * N_DEMO


def test_locate_returns_none_without_layout(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert kather.locate_tile_root(tmp_path) is None
    assert kather.locate_tile_root(tmp_path / "missing") is None


# ------------------------------------------------------------------------------------------------
# bad inputs


def test_unknown_class_folder(demo_src, tmp_path):
    root = _copy(demo_src, tmp_path / "t")
    (root / "09_MUSCLE").mkdir()
    shutil.copy(next((root / "01_TUMOR").glob("*.tif")), root / "09_MUSCLE" / "x.tif")
    with pytest.raises(DataError, match="09_MUSCLE"):
        kather.index_kather(root)
    with pytest.raises(DataError, match="Unknown class folder"):
        kather.load_kather(root, progress=False)


def test_unrelated_folders_are_ignored(demo_src, tmp_path):
    root = _copy(demo_src, tmp_path / "t")
    (root / ".ipynb_checkpoints").mkdir()
    (root / "notes").mkdir()
    (root / "01_TUMOR" / "Thumbs.db").write_bytes(b"\0")
    assert len(kather.index_kather(root)) == 8 * N_DEMO


def test_empty_class_folder(demo_src, tmp_path):
    root = _copy(demo_src, tmp_path / "t")
    for f in (root / "05_DEBRIS").iterdir():
        f.unlink()
    with pytest.raises(DataError, match="empty class DEBRIS"):
        kather.index_kather(root)


def test_missing_class_folder(demo_src, tmp_path):
    root = _copy(demo_src, tmp_path / "t")
    shutil.rmtree(root / "08_EMPTY")
    with pytest.raises(DataError, match="08_EMPTY"):
        kather.index_kather(root)


def test_corrupt_tiff_is_skipped_with_warning(demo_src, tmp_path, isolated):
    root = _copy(demo_src, tmp_path / "t")
    bad = sorted((root / "03_COMPLEX").glob("*.tif"))[0]
    bad.write_bytes(b"II*\0 this is not a TIFF")
    with pytest.warns(UserWarning, match=r"Skipped 1 unreadable tile.*" + bad.name[:8]):
        d = kather.load_kather(root, progress=False)
    assert len(d) == 8 * N_DEMO - 1
    assert d.counts()["COMPLEX"] == N_DEMO - 1
    assert bad.name not in {Path(p).name for p in d.table["path"]}
    assert len(d.table) == len(d.images) == len(d.labels) == len(d.tile_ids)


def test_class_with_only_corrupt_tiles_is_an_error(demo_src, tmp_path, isolated):
    root = _copy(demo_src, tmp_path / "t")
    for f in (root / "06_MUCOSA").glob("*.tif"):
        f.write_bytes(b"garbage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="MUCOSA"):
            kather.load_kather(root, progress=False)


def test_explicit_path_errors(tmp_path, isolated):
    with pytest.raises(DataError, match="does not exist"):
        kather.load_kather(tmp_path / "nope", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="No Kather class folders"):
        kather.find_kather(tmp_path / "empty")
    z = tmp_path / "Kather_texture_2016_image_tiles_5000.zip"
    z.write_bytes(b"PK")
    with pytest.raises(DataError, match="unzip it first"):
        kather.load_kather(z, progress=False)
    assert isolated == {"kaggle": [], "pooch": []}  # an explicit path never triggers a download


def test_bad_env_dir_is_an_error_not_a_fallback(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("HISTO_KATHER_DIR", str(tmp_path / "nope"))
    with pytest.raises(DataError, match="HISTO_KATHER_DIR"):
        kather.find_kather()
    st = kather.kather_status_info()
    assert not st["found"] and "HISTO_KATHER_DIR" in st["problem"]


# ------------------------------------------------------------------------------------------------
# missing data, downloads (mocked)


def test_offline_falls_back_to_demo_with_banner(isolated):
    with pytest.warns(DemoDataWarning) as rec:
        d = kather.load_kather(progress=False)
    assert d.is_demo and "demo" in d.source
    text = str(rec[0].message)
    for needle in ("NOT real patients", "not a medical result", "HISTO_KATHER_DIR", "Zenodo",
                   "kmader/colorectal-histology-mnist", "python -m helpers kather download", "no network"):
        assert needle in text, needle
    assert d.banner == text
    assert isolated["kaggle"] == [kather.KAGGLE_HANDLE]  # tried once, pinned
    assert len(isolated["pooch"]) == 1
    assert len(d) == 8 * kather.DEMO_PER_CLASS and d.images.shape[1:] == (150, 150, 3)
    assert np.array_equal(d.counts().to_numpy(), np.full(8, kather.DEMO_PER_CLASS))


def test_offline_without_demo_raises_with_ways_to_get_data(isolated):
    with pytest.raises(DataError) as e:
        kather.find_kather(allow_demo=False)
    msg = str(e.value)
    assert "offline" in msg and "HISTO_KATHER_DIR" in msg and str(kather.ZENODO_RECORD) in msg
    with pytest.raises(DataError, match="HISTO_KATHER_DIR"):
        kather.find_kather(allow_download=False, allow_demo=False)


def test_no_download_when_not_allowed(isolated):
    with pytest.warns(DemoDataWarning, match="allow_download=False"):
        loc = kather.find_kather(allow_download=False)
    assert loc.is_demo
    assert isolated == {"kaggle": [], "pooch": []}


def test_kagglehub_download_pinned(demo_src, tmp_path, monkeypatch, isolated):
    import kagglehub

    seen = []

    def fake_download(handle, *a, **k):
        seen.append(handle)
        top = tmp_path / "kh" / "versions" / "2"
        if not top.exists():
            _copy(demo_src, top / kather.TILES_DIRNAME / kather.TILES_DIRNAME)
            (top / "hmnist_64_64_L.csv").write_text("x\n")
        return str(top)

    monkeypatch.setattr(kagglehub, "dataset_download", fake_download)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DemoDataWarning)
        d = kather.load_kather(progress=False)
    assert seen == ["kmader/colorectal-histology-mnist/versions/2"]
    assert not d.is_demo and "Kaggle" in d.source
    assert len(d) == 8 * N_DEMO
    assert isolated["pooch"] == []  # Zenodo not needed


def test_zenodo_download_with_checksum(demo_src, tmp_path, monkeypatch, isolated):
    import pooch

    monkeypatch.setenv("HISTO_CACHE_DIR", str(tmp_path / "cache"))  # the extracted copy stays here

    seen = []

    def fake_retrieve(url, known_hash=None, fname=None, path=None, processor=None, progressbar=False):
        seen.append(dict(url=url, known_hash=known_hash, fname=fname, processor=processor,
                         progressbar=progressbar))
        extract = Path(path) / processor.extract_dir
        if not extract.exists():
            _copy(demo_src, extract / kather.TILES_DIRNAME)
        return sorted(str(p) for p in extract.rglob("*.tif"))

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    loc = kather.find_kather()
    assert len(isolated["kaggle"]) == 1  # Kaggle first, it failed
    (call,) = seen
    assert call["known_hash"] == "md5:0ddbebfc56344752028fda72602aaade"
    assert "53169" in call["url"] and call["url"].split("?")[0].endswith("Kather_texture_2016_image_tiles_5000.zip")
    assert call["fname"] == "Kather_texture_2016_image_tiles_5000.zip"
    assert isinstance(call["processor"], pooch.Unzip) and call["progressbar"] is True
    assert not loc.is_demo and "Zenodo" in loc.source
    assert loc.root.name == kather.TILES_DIRNAME
    # once extracted, it is found in the cache without any download
    isolated["kaggle"].clear()
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: pytest.fail("downloaded again"))
    again = kather.find_kather()
    assert again.root == loc.root and "cached" in again.source and isolated["kaggle"] == []
    assert kather.kather_status_info()["found"]


def test_kagglehub_cache_lookup_uses_pinned_handle(monkeypatch, demo_src, tmp_path, isolated):
    from kagglehub import cache

    seen = []
    top = _copy(demo_src, tmp_path / "cached" / kather.TILES_DIRNAME)

    def fake_load(*args, **k):
        seen.append(args[-1])  # (self, handle) for the Cache method, (handle,) for the function
        return str(top.parent)

    if hasattr(cache, "Cache"):
        monkeypatch.setattr(cache.Cache, "load_from_cache", fake_load)
    else:
        monkeypatch.setattr(cache, "load_from_cache", fake_load)
    loc = kather.find_kather()
    assert seen[0].owner == "kmader" and seen[0].dataset == "colorectal-histology-mnist"
    assert seen[0].version == 2
    assert loc.root == top and "kagglehub cache" in loc.source
    assert isolated["kaggle"] == []


def test_prepared_copy_in_data_folder(demo_src, tmp_path, monkeypatch, isolated):
    data = tmp_path / "repo_data"
    _copy(demo_src, data / "kather2016" / kather.TILES_DIRNAME)
    loc = kather.find_kather()
    assert "prepared" in loc.source and not loc.is_demo
    st = kather.kather_status_info()
    assert st["found"] and st["n_tiles"] == 8 * N_DEMO and st["source"].startswith("prepared")


def test_demo_forced_by_env(demo_src, monkeypatch, isolated):
    monkeypatch.setenv("HISTO_KATHER_DIR", str(demo_src))
    monkeypatch.setenv("HISTO_DEMO", "1")
    with pytest.warns(DemoDataWarning, match="HISTO_DEMO"):
        loc = kather.find_kather()
    assert loc.is_demo
    # an explicit path still wins over HISTO_DEMO
    assert not kather.find_kather(demo_src).is_demo
    assert isolated == {"kaggle": [], "pooch": []}


# ------------------------------------------------------------------------------------------------
# loading options and sub-patches


def test_load_options(demo_src, isolated):
    d = kather.load_kather(demo_src, tile_size=64, max_per_class=2, seed=3, progress=False)
    assert d.images.shape == (16, 64, 64, 3) and d.images.dtype == np.uint8
    assert d.labels.dtype == np.int64 and np.bincount(d.labels).tolist() == [2] * 8
    assert d.class_names == kather.CLASS_NAMES and len(d.class_names) == 8
    assert len(np.unique(d.tile_ids)) == 16
    same = kather.load_kather(demo_src, tile_size=64, max_per_class=2, seed=3, progress=False)
    assert same.table["path"].tolist() == d.table["path"].tolist()
    other = kather.load_kather(demo_src, tile_size=64, max_per_class=2, seed=4, progress=False)
    assert other.table["path"].tolist() != d.table["path"].tolist()
    full = kather.load_kather(demo_src, progress=False)
    i = full.table["path"].tolist().index(d.table["path"][0])
    small = np.asarray(Image.fromarray(full.images[i]).resize((64, 64), Image.Resampling.LANCZOS))
    assert np.abs(small.astype(int) - d.images[0]).mean() < 2


def test_cut_patches():
    imgs = np.arange(2 * 6 * 6 * 3, dtype=np.uint8).reshape(2, 6, 6, 3)
    p, src, idx = kather.cut_patches(imgs, 3)
    assert p.shape == (8, 3, 3, 3)
    assert src.tolist() == [0, 0, 0, 0, 1, 1, 1, 1] and idx.tolist() == [0, 1, 2, 3] * 2
    np.testing.assert_array_equal(p[1], imgs[0, 0:3, 3:6])
    np.testing.assert_array_equal(p[6], imgs[1, 3:6, 0:3])
    p2, src2, _ = kather.cut_patches(imgs, 4, stride=2)
    assert p2.shape == (8, 4, 4, 3) and src2.tolist() == [0] * 4 + [1] * 4
    with pytest.raises(ValueError):
        kather.cut_patches(imgs, 7)


def test_to_patches_keeps_groups(demo_src, isolated):
    d = kather.load_kather(demo_src, patch_size=50, progress=False)
    assert d.images.shape == (8 * N_DEMO * 9, 50, 50, 3)
    assert np.bincount(d.tile_ids).tolist() == [9] * (8 * N_DEMO)
    # every patch of a tile carries that tile's label, slide and path
    t = d.table
    assert (t.groupby("tile_id")[["label", "slide", "path"]].nunique() == 1).all().all()
    assert t["patch"].tolist()[:9] == list(range(9))
    from sklearn.model_selection import GroupKFold

    for tr, te in GroupKFold(n_splits=3).split(d.images, d.labels, d.tile_ids):
        assert not set(d.tile_ids[tr]) & set(d.tile_ids[te])
    sub = d.subset(d.labels == 3)
    assert len(sub) == N_DEMO * 9 and (sub.labels == 3).all() and len(sub.table) == len(sub)


def test_decoded_cache_for_large_sets(demo_src, tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("HISTO_CACHE_DIR", str(tmp_path / "cache"))
    big = tmp_path / "big" / kather.TILES_DIRNAME
    for folder in kather.CLASS_FOLDERS:
        (big / folder).mkdir(parents=True)
        src = sorted((demo_src / folder).glob("*.tif"))
        for i in range(64):  # 512 tiles > the 500-tile cache threshold
            os.link(src[i % len(src)], big / folder / f"{i:03d}_X-1_0.tif_Row_1_Col_1.tif")
    a = kather.load_kather(big, tile_size=32, progress=False)
    files = list((tmp_path / "cache" / "kather2016" / "decoded").glob("*.npz"))
    assert len(files) == 1
    b = kather.load_kather(big, tile_size=32, progress=False)
    np.testing.assert_array_equal(a.images, b.images)


# ------------------------------------------------------------------------------------------------
# status and command line


def test_status_and_cli(demo_src, tmp_path, monkeypatch, isolated, capsys):
    found, detail = kather.kather_status()  # the form `python -m helpers check` uses
    assert found is False and "HISTO_KATHER_DIR" in detail
    st = kather.kather_status_info()
    assert st["found"] is False and "HISTO_KATHER_DIR" in st["how_to_get"]
    assert kather.main(["status"]) == 1
    assert "not found" in capsys.readouterr().out
    monkeypatch.setenv("HISTO_KATHER_DIR", str(demo_src))
    st = kather.kather_status_info()
    assert st["found"] and st["n_tiles"] == 8 * N_DEMO and st["per_class"]["EMPTY"] == N_DEMO
    assert kather.main(["status"]) == 0
    found, detail = kather.kather_status()
    assert found and f"{8 * N_DEMO} tiles" in detail and str(demo_src) in detail
    assert f"found, {8 * N_DEMO} tiles" in capsys.readouterr().out
    assert kather.main(["demo", str(tmp_path / "cli"), "--per-class", "1"]) == 0
    assert len(kather.index_kather(tmp_path / "cli")) == 8
    assert kather.main(["download"]) == 1
    assert "Ways to get the data" in capsys.readouterr().out
    assert isolated["kaggle"] == [kather.KAGGLE_HANDLE]


# ------------------------------------------------------------------------------------------------
# the real sample


@pytest.mark.skipif(not REAL_DIR, reason="HISTO_KATHER_DIR not set")
def test_real_sample(monkeypatch):
    monkeypatch.delenv("HISTO_DEMO", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DemoDataWarning)
        d = kather.load_kather(progress=False)
    assert not d.is_demo and "HISTO_KATHER_DIR" in d.source
    n = len(d)
    assert n >= 24 and n % 8 == 0
    assert d.images.shape == (n, 150, 150, 3) and d.images.dtype == np.uint8
    assert np.bincount(d.labels, minlength=8).min() >= 3
    assert d.table["slide"].str.match(r"CRC-Prim-HE-\d\d$").all()
    assert (d.table["row"] >= 1).all()
    # background tiles are bright, lymphocyte tiles dark
    grey = d.images.mean((1, 2, 3))
    assert grey[d.labels == 7].mean() > 200 > grey[d.labels == 3].mean()
    st = kather.kather_status_info()
    assert st["found"] and st["source"] == "$HISTO_KATHER_DIR" and st["n_tiles"] == n
    p = d.to_patches(50)
    assert len(p) == 9 * n and p.images.shape[1:] == (50, 50, 3)


# ------------------------------------------------------------------------------------------------
# analysis helpers of notebook 07


def test_tile_predictions_average_patches():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7],   # tile 5: mean (0.47, 0.53) -> 1
                      [0.6, 0.4], [0.6, 0.4], [0.0, 1.0]])  # tile 2: mean (0.40, 0.60) -> 1
    tiles, pred = kather.tile_predictions(proba, np.array([5, 5, 5, 2, 2, 2]))
    assert tiles.tolist() == [2, 5] and pred.tolist() == [1, 1]
    tiles, pred = kather.tile_predictions(proba[:2], np.array([7, 7]))
    assert pred.tolist() == [0]  # (0.55, 0.45)


def test_top_confusions():
    names = ("A", "B", "C")
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 1, 1, 0, 2])
    t = kather.top_confusions(y_true, y_pred, names, k=2)
    assert t[["true", "predicted", "n"]].values.tolist() == [["A", "B", 2], ["C", "A", 1]]
    assert t["share_of_true"].tolist() == [0.5, 0.5]
    assert kather.top_confusions(y_true, y_true, names).empty


def test_figures_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    tile = rng.integers(0, 255, (150, 150, 3), dtype=np.uint8)
    fig = kather.plot_tile_patches(tile, 50, title="t")
    assert len(fig.axes) == 1 + 9
    fig2 = kather.plot_validation_curve([1, 10, 100], rng.random((3, 2)), rng.random((3, 2)),
                                        xlabel="C", chosen=10)
    assert "chosen: 10" in [t.get_text() for t in fig2.axes[0].get_legend().get_texts()]
    imgs = rng.integers(0, 255, (6, 50, 50, 3), dtype=np.uint8)
    y_true, y_pred = np.array([0, 0, 1, 1, 2, 2]), np.array([1, 1, 1, 1, 2, 0])
    pairs = kather.top_confusions(y_true, y_pred, ("A", "B", "C"))
    fig3 = kather.plot_confusion_examples(imgs, y_true, y_pred, pairs, reference_images=imgs,
                                          reference_labels=y_true, class_names=("A", "B", "C"), n=2)
    assert len(fig3.axes) == len(pairs) * 4
    plt.close("all")
