"""Behaviour of helpers.features on real patches: the transformers equal scikit-image's functions, the union and
its names, the cache, nuclear morphometry on a constructed image, the streamed CLI, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import color, feature, util
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from helpers import features as F


@pytest.fixture(scope="module")
def patches(real_patches):
    """40 real patches (both classes)."""
    images, table = real_patches
    return images[:40]


def gray(patch):
    return util.img_as_ubyte(color.rgb2gray(patch))


def test_color_histogram_counts_pillow_hsv(patches):
    out = F.ColorHistogram(bins=8).fit_transform(patches)
    assert out.shape == (len(patches), 24) and out.dtype == np.float32
    for patch, row in zip(patches[:5], out):
        hsv = np.asarray(Image.fromarray(patch).convert("HSV"))
        want = np.concatenate([np.histogram(hsv[..., c], 8, range=(0, 256))[0] / hsv[..., c].size for c in range(3)])
        np.testing.assert_allclose(row, want, atol=1e-6)
    np.testing.assert_allclose(out.reshape(len(patches), 3, 8).sum(axis=2), 1, atol=1e-5)


def test_hed_stats_equal_rgb2hed(patches):
    out = F.HEDStats().fit_transform(patches)
    for patch, row in zip(patches[:5], out):
        hed = color.rgb2hed(patch).reshape(-1, 3)
        np.testing.assert_allclose(row, np.stack([hed.mean(0), hed.std(0)], axis=1).ravel(), rtol=1e-5, atol=1e-7)


def test_lbp_histogram_equals_local_binary_pattern(patches):
    out = F.LBPHistogram(radii=(1, 2.5), n_points=8).fit_transform(patches)
    assert out.shape == (len(patches), 20)
    for patch, row in zip(patches[:5], out):
        want = [np.bincount(feature.local_binary_pattern(gray(patch), 8, r, "uniform").astype(int).ravel(),
                            minlength=10) / 2500 for r in (1, 2.5)]
        np.testing.assert_allclose(row, np.concatenate(want), atol=1e-6)


def test_glcm_features_equal_graycoprops(patches):
    props = ("contrast", "homogeneity", "energy", "correlation")
    t = F.GLCMFeatures(distances=(1, 3), levels=8, props=props)
    out = t.fit_transform(patches)
    assert list(t.get_feature_names_out()[:3]) == ["d1_contrast", "d3_contrast", "d1_homogeneity"]
    for patch, row in zip(patches[:5], out):
        glcm = feature.graycomatrix(gray(patch) // 32, (1, 3), F.ANGLES, 8, symmetric=True, normed=True)
        want = np.concatenate([feature.graycoprops(glcm, p).mean(axis=1) for p in props])
        np.testing.assert_allclose(row, want, rtol=1e-5, atol=1e-6)


def test_hog_features_equal_hog_and_follow_patch_size(patches):
    t = F.HOGFeatures(orientations=6, pixels_per_cell=(10, 10), cells_per_block=(2, 2)).fit(patches)
    out = t.transform(patches[:3])
    want = feature.hog(gray(patches[0]), 6, (10, 10), (2, 2))
    np.testing.assert_allclose(out[0], want, rtol=1e-5, atol=1e-6)
    assert len(t.get_feature_names_out()) == out.shape[1] == want.size
    with pytest.raises(ValueError, match="fit again"):
        t.transform(patches[:2, :40, :40])


def test_default_union_names_families_and_pipeline(patches):
    union = F.default_features()
    X = union.fit_transform(patches)
    names = union.get_feature_names_out()
    assert X.shape == (len(patches), 74) and len(names) == 74
    fams = F.feature_families(names)
    assert dict(zip(*np.unique(fams, return_counts=True))) == {"color": 48, "glcm": 10, "hed": 6, "lbp": 10}
    assert list(F.feature_families(union)) == list(fams)
    # each step of the union equals the family on its own
    np.testing.assert_array_equal(X[:, fams == "lbp"], F.LBPHistogram().fit_transform(patches))
    with_nuclear = F.default_features(nuclear=True).fit(patches)
    assert set(F.feature_families(with_nuclear)) == {"color", "hed", "lbp", "glcm", "nuclear"}
    with pytest.raises(ValueError, match="family"):
        F.feature_families(["pixel_3"])
    # the union is a first step of a pipeline, with tunable parameters
    y = np.arange(len(patches)) % 2
    pipe = make_pipeline(F.default_features(), LogisticRegression(max_iter=50)).fit(patches, y)
    assert pipe.predict(patches).shape == (len(patches),)
    pipe.set_params(featureunion__lbp__radii=(1, 2, 3))
    assert len(pipe[0].get_feature_names_out()) == 94


def test_bad_input_gives_clear_errors(patches):
    t = F.HEDStats()
    with pytest.raises(ValueError, match="uint8"):
        t.fit_transform(patches.astype(float) / 255)
    with pytest.raises(ValueError, match=r"patch\[None\]"):
        t.fit_transform(patches[0])
    with pytest.raises(ValueError, match="shape"):
        t.fit_transform(patches.reshape(len(patches), -1))
    with pytest.raises(ValueError, match="divide 256"):
        F.GLCMFeatures(levels=10).fit_transform(patches[:2])
    with pytest.raises(ValueError, match="threshold"):
        F.NuclearFeatures(threshold="mean").fit_transform(patches[:2])
    assert F.HEDStats().fit_transform(patches[:0]).shape == (0, 6)


def blobs_image():
    """A 50 x 50 pink patch with three dark purple squares of 4, 9 and 16 pixels and one single dark pixel."""
    img = np.full((50, 50, 3), (235, 200, 220), dtype=np.uint8)
    for r, c, s in [(5, 5, 2), (20, 30, 3), (35, 10, 4)]:
        img[r : r + s, c : c + s] = (60, 30, 110)
    img[45, 45] = (60, 30, 110)
    return img


def test_nuclear_features_count_and_measure_known_blobs():
    img = blobs_image()[None]
    t = F.NuclearFeatures(threshold=0.1, sigma=0, min_area=2)
    labels, hema = t.segment(img)
    assert labels.max() > 0 and len(np.unique(labels[0])) == 4  # background + 3 squares, the single pixel dropped
    row = dict(zip(t.get_feature_names_out(), t.fit_transform(img)[0]))
    assert row["count"] == 3
    assert row["area_fraction"] == pytest.approx(29 / 2500)
    assert row["area_mean"] == pytest.approx(29 / 3, rel=1e-6)
    assert row["area_std"] == pytest.approx(np.std([4, 9, 16]), rel=1e-6)
    assert row["solidity"] == pytest.approx(1.0)
    assert row["h_inside"] > 0.1 > row["h_outside"]
    # with min_area=1 the single dark pixel counts too; a threshold above the blobs finds nothing
    assert F.NuclearFeatures(threshold=0.1, sigma=0, min_area=1).fit_transform(img)[0, 0] == 4
    empty = F.NuclearFeatures(threshold=5.0, sigma=0).fit_transform(img)[0]
    assert np.all(empty[:7] == 0) and empty[7] > 0


def test_nuclear_threshold_changes_the_result(patches):
    low = F.NuclearFeatures(threshold=0.02).fit_transform(patches)
    high = F.NuclearFeatures(threshold=0.06).fit_transform(patches)
    otsu = F.NuclearFeatures(threshold="otsu").fit_transform(patches)
    assert low.shape == high.shape == otsu.shape == (len(patches), 8)
    assert (low[:, 1] >= high[:, 1]).all() and low[:, 1].sum() > high[:, 1].sum()  # area fraction
    assert not np.allclose(low, otsu)


class CountingHED(F.HEDStats):
    """HEDStats that counts its transform calls (tests run it in-process with n_jobs=1)."""

    calls = [0]

    def transform(self, X):
        CountingHED.calls[0] += 1
        return super().transform(X)


class CountingLBP(F.LBPHistogram):
    calls = [0]

    def transform(self, X):
        CountingLBP.calls[0] += 1
        return super().transform(X)


def test_extract_features_cache_hit_and_miss(patches):
    t = CountingHED()
    X1, names = F.extract_features(patches, t, n_jobs=1, progress=False)
    n_computed = CountingHED.calls[0]
    assert n_computed >= 1 and X1.shape == (len(patches), 6) and list(names) == list(t.get_feature_names_out())
    X2, _ = F.extract_features(patches, t, n_jobs=1, progress=False)  # same pixels, same parameters: a hit
    assert CountingHED.calls[0] == n_computed
    np.testing.assert_array_equal(X1, X2)
    F.extract_features(patches[:10], t, n_jobs=1, progress=False)  # other images: recomputed
    assert CountingHED.calls[0] > n_computed
    n_computed = CountingHED.calls[0]
    F.extract_features(patches, t, n_jobs=1, progress=False, cache=False)  # no cache: recomputed
    assert CountingHED.calls[0] > n_computed
    # other parameters: recomputed; the same parameters on a new object: a hit
    F.extract_features(patches, CountingLBP(radii=(1,)), n_jobs=1, progress=False)
    n_computed = CountingLBP.calls[0]
    X3, _ = F.extract_features(patches, CountingLBP(radii=(3,)), n_jobs=1, progress=False)
    assert CountingLBP.calls[0] > n_computed and X3.shape == (len(patches), 10)
    n_computed = CountingLBP.calls[0]
    F.extract_features(patches, CountingLBP(radii=(1,)), n_jobs=1, progress=False)
    assert CountingLBP.calls[0] == n_computed


def test_extract_features_cache_notices_edited_code(patches, tmp_path, monkeypatch):
    """Same class name, same parameters, different transform code: recomputed, not the stale cached result."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "edited_features.py"
    code = "from helpers.features import HEDStats\nclass Scaled(HEDStats):\n    def _features(self, X):\n" \
           "        return super()._features(X) * {}\n"
    module.write_text(code.format(1))
    import edited_features
    X1, _ = F.extract_features(patches, edited_features.Scaled(), n_jobs=1, progress=False)
    module.write_text(code.format(2) + "# edited\n")  # another size: the import system sees a new file
    importlib.reload(edited_features)
    X2, _ = F.extract_features(patches, edited_features.Scaled(), n_jobs=1, progress=False)
    np.testing.assert_allclose(X2, 2 * X1, rtol=1e-6)
    # nested in a pipeline: the step's code counts too
    nested = make_pipeline(edited_features.Scaled(), FunctionTransformer(feature_names_out="one-to-one"))
    X3, _ = F.extract_features(patches, nested, n_jobs=1, progress=False)
    module.write_text(code.format(3) + "# edited again\n")
    importlib.reload(edited_features)
    nested = make_pipeline(edited_features.Scaled(), FunctionTransformer(feature_names_out="one-to-one"))
    X4, _ = F.extract_features(patches, nested, n_jobs=1, progress=False)
    np.testing.assert_allclose(X3, X2, rtol=1e-6)
    np.testing.assert_allclose(X4, 3 * X1, rtol=1e-6)
    sys.modules.pop("edited_features")


def test_extract_features_parallel_equals_direct_and_leaves_caller_untouched(patches):
    union = F.default_features()
    before = clone(union).get_params()
    X, names = F.extract_features(patches, union, n_jobs=2, cache=False, progress=False)
    np.testing.assert_array_equal(X, clone(union).fit_transform(patches))
    assert list(names) == list(clone(union).fit(patches[:1]).get_feature_names_out())
    assert union.get_params().keys() == before.keys()
    assert not hasattr(union, "transformer_list_") and not hasattr(union.transformer_list[0][1], "n_features_in_")


def test_cli_streams_folder_to_npz(idc_root, tmp_path, capsys):
    from helpers.data import index_idc, read_patches

    out = tmp_path / "f.npz"
    assert F.main(["--data", str(idc_root), "--out", str(out), "--chunk-size", "50", "--n-jobs", "2",
                   "--no-progress"]) == 0
    z = np.load(out)
    table = index_idc(idc_root)
    assert z["X"].shape == (len(table), 74) and list(z["patients"]) == list(table["patient"])
    images, _ = read_patches(table["path"], progress=False)
    np.testing.assert_allclose(z["X"], F.default_features().fit_transform(images), rtol=1e-6)
    assert "patches" in capsys.readouterr().out
    assert F.main(["--data", str(tmp_path / "missing"), "--out", str(out)]) == 2


def test_unreadable_file_gives_a_nan_row_and_a_warning(idc_copy):
    from helpers.data import index_idc

    paths = index_idc(idc_copy)["path"].tolist()[:20]
    with open(paths[3], "wb") as f:
        f.write(b"not a png")
    with pytest.warns(UserWarning, match="could not be decoded"):
        X, _ = F.extract_features_from_paths(paths, n_jobs=1, chunk_size=8, progress=False)
    assert np.isnan(X[3]).all() and not np.isnan(np.delete(X, 3, axis=0)).any()
