"""helpers.features: batched features equal scikit-image's per-patch functions; transformer API; files, cache, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import color, feature, util
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression

from helpers import features as F

ANGLES = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)


def _synthetic(n=24, seed=0):
    """Random patches plus the hard cases: flat colours (ties everywhere), white padding, grey, saturated."""
    rng = np.random.default_rng(seed)
    imgs = rng.integers(0, 256, (n, 50, 50, 3), dtype=np.uint8)
    imgs[0] = 255
    imgs[1] = 0
    imgs[2] = (200, 120, 180)
    imgs[3, :, 25:] = 255  # half white, like a padded edge patch
    imgs[4] = rng.integers(0, 256, (50, 50, 1), dtype=np.uint8)  # grey: r == g == b
    imgs[5] = rng.integers(0, 4, (50, 50, 3), dtype=np.uint8) * 85  # few levels: many exact ties
    return imgs


# ---------------------------------------------------------------------------------- per-patch references


def ref_gray(p):
    # the grey image the texture families start from (tested against img_as_ubyte(rgb2gray) below)
    return F.to_gray(p)[0]


def ref_hsv_hist(p, bins=16):
    hsv = color.rgb2hsv(p)
    return np.concatenate([np.histogram(hsv[..., c], bins, range=(0, 1))[0] for c in range(3)]) / 2500


def ref_rgb_hist(p, bins=10):
    return np.concatenate([np.histogram(p[..., c], bins, range=(0, 256))[0] for c in range(3)]) / 2500


def ref_hed(p):
    hed = color.rgb2hed(p).reshape(-1, 3)
    return np.stack([hed.mean(0), hed.std(0)], axis=1).ravel()


def ref_lbp(p, radii=(1, 2), P=8):
    g = ref_gray(p)
    return np.concatenate(
        [
            np.bincount(feature.local_binary_pattern(g, P, R, "uniform").astype(int).ravel(), minlength=P + 2) / 2500
            for R in radii
        ]
    )


def ref_glcm(p, distances=(1, 2), levels=16, props=F.GLCM_PROPS):
    q = ref_gray(p) // (256 // levels)
    P = feature.graycomatrix(q, distances, ANGLES, levels, symmetric=True, normed=True)
    return np.concatenate([feature.graycoprops(P, prop).mean(axis=1) for prop in props])


def ref_hog(p, **kw):
    return feature.hog(ref_gray(p).astype(float), **kw)


CASES = [
    ("hsv16", F.ColorHistogram("hsv", 16), ref_hsv_hist),
    ("hsv10", F.ColorHistogram("hsv", 10), lambda p: ref_hsv_hist(p, 10)),
    ("rgb10", F.ColorHistogram("rgb", 10), ref_rgb_hist),
    ("hed", F.HEDStats(), ref_hed),
    ("lbp", F.LBPHistogram((1, 2, 3), 8), lambda p: ref_lbp(p, (1, 2, 3))),
    ("lbp16", F.LBPHistogram((1.5,), 16), lambda p: ref_lbp(p, (1.5,), 16)),
    ("glcm", F.GLCMFeatures(props=F.GLCM_PROPS), ref_glcm),
    ("glcm32", F.GLCMFeatures(distances=(1, 3), levels=32), lambda p: ref_glcm(p, (1, 3), 32, F.GLCMFeatures().props)),
    ("hog", F.HOGFeatures(), lambda p: ref_hog(p, pixels_per_cell=(25, 25), cells_per_block=(2, 2))),
    (
        "hog7",
        F.HOGFeatures(orientations=8, pixels_per_cell=(7, 7), cells_per_block=(3, 3), block_norm="L1"),
        lambda p: ref_hog(p, orientations=8, pixels_per_cell=(7, 7), cells_per_block=(3, 3), block_norm="L1"),
    ),
]


def _check_equal(images, transformer, ref):
    got = transformer.fit_transform(images)
    want = np.stack([ref(p) for p in images])
    assert got.dtype == np.float32
    assert got.shape == want.shape == (len(images), len(transformer.get_feature_names_out()))
    # float32 output: compare at float32 precision
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,transformer,ref", CASES, ids=[c[0] for c in CASES])
def test_equal_to_skimage_on_synthetic(name, transformer, ref):
    _check_equal(_synthetic(), transformer, ref)


@pytest.mark.parametrize("name,transformer,ref", CASES, ids=[c[0] for c in CASES])
def test_equal_to_skimage_on_real_patches(real_patches, name, transformer, ref):
    images, _ = real_patches
    _check_equal(images[:150], transformer, ref)


def test_hsv_histogram_small_and_large_batches_agree():
    # small batches compute the hue directly, large ones through the table of all colours
    imgs = _synthetic(12, seed=5)
    one_by_one = np.vstack([F.ColorHistogram().fit_transform(p[None]) for p in imgs])
    np.testing.assert_allclose(one_by_one, np.stack([ref_hsv_hist(p) for p in imgs]), rtol=2e-5, atol=2e-6)
    assert np.array_equal(one_by_one, F.ColorHistogram().fit_transform(imgs))


def test_conversions_equal_skimage(real_patches):
    images, _ = real_patches
    images = np.concatenate([images, _synthetic()])
    gray = F.to_gray(images)
    sk = np.stack([util.img_as_ubyte(color.rgb2gray(p)) for p in images])
    # equal except at exact half-integer luminances, where scikit-image's float rounding decides
    diff = gray.astype(int) - sk
    s = images.astype(np.int64) @ np.array([2125, 7154, 721])
    assert np.abs(diff).max() <= 1 and np.all(s[diff != 0] % 10000 == 5000)
    assert (diff != 0).mean() < 1e-3
    assert np.array_equal(F.rgb_to_hsv(images), np.stack([color.rgb2hsv(p) for p in images]))
    np.testing.assert_allclose(F.rgb_to_hed(images), np.stack([color.rgb2hed(p) for p in images]), atol=1e-12)
    g = F.to_gray(images[:40])
    for R in (1, 2):
        codes = F.lbp_uniform(g, 8, R)
        want = np.stack([feature.local_binary_pattern(p, 8, R, "uniform") for p in g])
        assert np.array_equal(codes, want)


def test_default_set_equals_its_families(real_patches):
    images, _ = real_patches
    images = images[:60]
    fs = F.default_features()
    X = fs.fit_transform(images)
    names = fs.get_feature_names_out()
    assert X.shape == (60, len(names)) and X.dtype == np.float32
    assert np.isfinite(X).all()
    ref = np.hstack(
        [
            np.stack([ref_hsv_hist(p) for p in images]),
            np.stack([ref_hed(p) for p in images]),
            np.stack([ref_lbp(p) for p in images]),
            np.stack([ref_glcm(p, props=F.GLCMFeatures().props) for p in images]),
        ]
    )
    np.testing.assert_allclose(X, ref, rtol=2e-5, atol=2e-6)


# ---------------------------------------------------------------------------------- transformer API


def test_input_forms_and_names():
    imgs = _synthetic(8)
    fs = F.default_features()
    a = fs.fit_transform(imgs)
    b = fs.fit_transform(imgs.reshape(8, -1))  # flattened, as a DataFrame / sklearn would pass it
    c = fs.fit_transform(imgs.astype(np.float64) / 255)  # float images in [0, 1]
    assert np.array_equal(a, b) and np.array_equal(a, c)
    names = fs.get_feature_names_out()
    assert len(set(names)) == len(names) == a.shape[1]
    fams = F.feature_families(names)
    assert set(fams) == {"color", "hed", "lbp", "glcm"}
    assert F.feature_family("hsv_h03") == "color" and F.feature_family("s2_lbp_r1_03") == "lbp"
    assert set(F.FAMILIES) == {"color", "hed", "lbp", "glcm", "hog"}
    for name, cls in F.FAMILIES.items():
        t = cls()
        out = t.fit_transform(imgs[:3])
        assert out.shape == (3, len(t.get_feature_names_out()))
        assert set(F.feature_families(t.get_feature_names_out())) == {name}
    with pytest.raises(ValueError):
        F.as_images(np.zeros((2, 7)))
    with pytest.raises(ValueError):
        F.feature_family("pixel_3")


def test_parallel_chunks_and_scales_match_serial():
    imgs = _synthetic(40, seed=1)
    serial = F.default_features().fit_transform(imgs)
    fs = F.FeatureSet(color=F.ColorHistogram(), hed=F.HEDStats(), lbp=F.LBPHistogram(), glcm=F.GLCMFeatures(),
                      n_jobs=2, chunk_size=16)
    assert np.array_equal(fs.fit_transform(imgs), serial)
    ms = F.default_features(scales=(1, 2))
    Xm = ms.fit_transform(imgs)
    names = ms.get_feature_names_out()
    assert Xm.shape == (40, len(names)) == (40, 2 * serial.shape[1])
    assert np.array_equal(Xm[:, : serial.shape[1]], serial)
    assert all(n.startswith("s2_") for n in names[serial.shape[1] :])


def test_tunable_in_grid_search():
    imgs = _synthetic(24, seed=2)
    y = np.tile([0, 1], 12)
    imgs[y == 1] //= 2  # darker class: learnable
    groups = np.repeat(np.arange(6), 4)
    pipe = make_pipeline(F.default_features(), LogisticRegression(max_iter=200))
    assert "featureset__lbp__radii" in pipe.get_params()
    search = GridSearchCV(pipe, {"featureset__lbp__radii": [(1,), (1, 3)], "featureset__color__bins": [8, 16]},
                          cv=GroupKFold(3), scoring="balanced_accuracy")
    search.fit(imgs, y, groups=groups)
    assert search.best_params_["featureset__lbp__radii"] in [(1,), (1, 3)]
    est = clone(pipe).set_params(featureset__lbp__radii=(1, 2, 3), featureset__hed=None)
    est.fit(imgs, y)
    names = est[0].get_feature_names_out()
    assert not any(n.startswith("hed") for n in names)
    assert sum(n.startswith("lbp_r3") for n in names) == 10


# ---------------------------------------------------------------------------------- files, cache, CLI


def test_from_paths_cache_and_cli(demo_root, tmp_path, capsys):
    from helpers.data import index_idc, read_patches

    table = index_idc(demo_root)
    paths = table["path"].tolist()[:300]
    images, ok = read_patches(paths, progress=False)
    assert ok.all()
    want = F.default_features().fit_transform(images)
    X, names = F.extract_features_from_paths(paths, chunk_size=64, n_jobs=2, cache_dir=tmp_path / "c", progress=False)
    assert np.array_equal(X, want)
    assert list(names) == list(F.default_features().get_feature_names_out())
    cached = list((tmp_path / "c").glob("features-*.npz"))
    assert len(cached) == 1
    X2, _ = F.extract_features_from_paths(paths, n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert np.array_equal(X2, X)
    # other parameters: another cache file
    F.extract_features_from_paths(paths[:10], features=F.default_features(scales=(1, 2)), cache_dir=tmp_path / "c",
                                  progress=False)
    assert len(list((tmp_path / "c").glob("features-*.npz"))) == 2
    Xa, na = F.extract_features(images[:5], progress=False)
    assert np.array_equal(Xa, want[:5]) and list(na) == list(names)

    out = tmp_path / "feat.npz"
    assert F.main(["--data", str(demo_root), "--out", str(out), "--no-cache", "--no-progress"]) == 0
    assert "patches/s" in capsys.readouterr().out
    with np.load(out) as z:
        assert z["X"].shape == (len(table), len(names))
        assert np.array_equal(z["labels"], table["label"].to_numpy())
        assert np.array_equal(z["patients"], table["patient"].to_numpy(str))
        assert np.array_equal(z["X"][:300], want)
        assert {"x", "y", "paths", "names"} <= set(z.files)


def test_unreadable_file_gives_nan_row(demo_copy, tmp_path):
    from helpers.data import index_idc

    paths = index_idc(demo_copy)["path"].tolist()[:20]
    with open(paths[3], "wb") as fh:
        fh.write(b"not a png")
    with pytest.warns(UserWarning, match="could not be decoded"):
        X, _ = F.extract_features_from_paths(paths, n_jobs=1, cache_dir=False, progress=False)
    assert np.isnan(X[3]).all() and np.isfinite(np.delete(X, 3, axis=0)).all()


def test_extract_features_cache(demo_root, monkeypatch):
    """The second call with the same patches and parameters is read from disk; other patches/params recompute."""
    from helpers.data import index_idc, read_patches

    images, _ = read_patches(index_idc(demo_root).path[:40], progress=False)
    X1, n1 = F.extract_features(images, progress=False)
    calls = []
    original = F.FeatureSet.transform

    def spy(self, X):
        calls.append(len(X))
        return original(self, X)

    monkeypatch.setattr(F.FeatureSet, "transform", spy)
    X2, n2 = F.extract_features(images, progress=False)
    assert calls == [] and np.array_equal(X1, X2) and list(n1) == list(n2)
    X3, _ = F.extract_features(images[:30], progress=False)
    assert calls == [30] and np.array_equal(X3, X1[:30])
    X4, n4 = F.extract_features(images, features=F.default_features(scales=(1, 2)), progress=False)
    assert calls == [30, 40] and X4.shape[1] > X1.shape[1]
    F.extract_features(images, progress=False, cache=False)
    assert calls[-1] == 40 and len(calls) == 3
