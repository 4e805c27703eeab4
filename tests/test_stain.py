"""Tests of helpers.stain: measuring, normalising and augmenting stain colour."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from skimage.color import rgb2hed  # noqa: E402

from helpers import stain  # noqa: E402

H_VEC = np.array([0.65, 0.70, 0.29])
E_VEC = np.array([0.07, 0.99, 0.11])


def _unit(v):
    return np.asarray(v, float) / np.linalg.norm(v)


def _he_images(n=4, size=40, h_vec=H_VEC, e_vec=E_VEC, h_scale=1.0, e_scale=1.0, seed=0, white_frac=0.25):
    """Synthetic H&E patches mixed from two known stain vectors (optical density), with white glass."""
    rng = np.random.default_rng(seed)
    stains = np.stack([_unit(h_vec), _unit(e_vec)], axis=1)
    h = rng.gamma(2.0, 0.25, (n, size, size)) * h_scale
    e = rng.gamma(3.0, 0.2, (n, size, size)) * e_scale
    glass = rng.random((n, size, size)) < white_frac
    h[glass] = 0
    e[glass] = 0
    od = np.stack([h, e], axis=-1) @ stains.T
    return stain.od_to_rgb(od)


def _angle(a, b):
    return np.degrees(np.arccos(np.clip(_unit(a) @ _unit(b), -1, 1)))


# ---------------------------------------------------------------- measuring


def test_optical_density_round_trip_and_lookup_table():
    rgb = np.arange(256, dtype=np.uint8).repeat(3).reshape(-1, 1, 1, 3)
    od = stain.optical_density(rgb)
    assert od[255].max() == 0 and od[0].min() == pytest.approx(np.log(255))
    assert np.allclose(od, stain.optical_density(rgb.astype(float)))
    assert np.array_equal(stain.od_to_rgb(od)[1:], rgb[1:])


def test_tissue_mask_excludes_glass():
    imgs = _he_images(n=2)
    imgs[1] = 255
    m = stain.tissue_mask(imgs)
    assert m.shape == imgs.shape[:3]
    assert 0.6 < m[0].mean() < 0.8 and not m[1].any()


def test_stain_means_match_skimage_and_flag_empty_images():
    imgs = _he_images(n=3)
    imgs[2] = 250
    means = stain.stain_means(imgs)
    assert means.shape == (3, 3) and np.isnan(means[2]).all()
    mask = stain.tissue_mask(imgs[:1])[0]
    ref = rgb2hed(imgs[0])[mask].mean(axis=0)
    assert np.allclose(means[0], ref)
    # more haematoxylin gives a larger H mean
    darker = stain.stain_means(_he_images(n=1, h_scale=2.0))
    assert darker[0, 0] > means[0, 0]


def test_rejects_non_batches():
    with pytest.raises(ValueError, match="batch"):
        stain.tissue_mask(np.zeros((50, 50, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        stain.stain_means(np.zeros((1, 5, 5, 3)))


# ---------------------------------------------------------------- Reinhard


def test_lalphabeta_round_trip():
    rgb = np.random.default_rng(0).integers(1, 256, (3, 20, 20, 3)).astype(np.uint8)
    back = stain.lalphabeta_to_rgb(stain.rgb_to_lalphabeta(rgb))
    assert np.abs(back.astype(int) - rgb).max() <= 1


def test_reinhard_matches_target_statistics():
    src = _he_images(n=3, h_scale=1.8, e_scale=0.6, seed=1)
    tgt = _he_images(n=5, seed=2)
    norm = stain.ReinhardNormalizer(preserve_background=False).fit(tgt)
    out = norm.transform(src)
    assert out.shape == src.shape and out.dtype == np.uint8
    lab = stain.rgb_to_lalphabeta(out)
    mask = stain.tissue_mask(src)  # the pixels whose statistics were matched
    for i in range(len(out)):
        px = lab[i][mask[i]]
        assert np.allclose(px.mean(axis=0), norm.target_mean_, atol=0.02)
        assert np.allclose(px.std(axis=0), norm.target_std_, rtol=0.25, atol=0.01)
    # the normalised source is closer in colour to the target than the raw source
    d_raw = np.abs(stain.stain_means(src).mean(0) - stain.stain_means(tgt).mean(0)).sum()
    d_norm = np.abs(stain.stain_means(out).mean(0) - stain.stain_means(tgt).mean(0)).sum()
    assert d_norm < d_raw / 2


def test_reinhard_keeps_background_and_needs_fit():
    src = _he_images(n=2, seed=3)
    src[:, :5] = 255
    with pytest.raises(RuntimeError, match="fit"):
        stain.ReinhardNormalizer().transform(src)
    out = stain.ReinhardNormalizer().fit(_he_images(n=3, h_scale=1.5)).transform(src)
    assert (out[:, :5] == 255).all()
    assert not np.array_equal(out, src)


# ---------------------------------------------------------------- Macenko


def test_macenko_recovers_known_stain_vectors():
    h_vec, e_vec = [0.55, 0.75, 0.37], [0.10, 0.95, 0.30]
    imgs = _he_images(n=1, size=80, h_vec=h_vec, e_vec=e_vec)
    od = stain.optical_density(imgs.reshape(-1, 3))
    od = od[od.max(axis=1) > 0.15]
    est = stain.macenko_stain_matrix(od)
    assert est.shape == (3, 2)
    assert np.allclose(np.linalg.norm(est, axis=0), 1)
    assert _angle(est[:, 0], h_vec) < 8 and _angle(est[:, 1], e_vec) < 8


def test_macenko_degenerate_inputs_return_none():
    assert stain.macenko_stain_matrix(np.zeros((10, 3))) is None  # too few pixels
    one_stain = np.outer(np.linspace(0.2, 1.0, 500), _unit(H_VEC))
    one_stain += np.random.default_rng(0).normal(0, 1e-4, one_stain.shape)
    assert stain.macenko_stain_matrix(one_stain) is None  # the two vectors coincide
    with pytest.raises(ValueError):
        stain.macenko_stain_matrix(np.zeros((200, 2)))


def test_macenko_maps_other_stains_to_target_and_falls_back_on_white():
    tgt = _he_images(n=4, size=60, seed=5)
    src = _he_images(n=3, size=60, h_vec=[0.45, 0.80, 0.40], e_vec=[0.15, 0.90, 0.40], h_scale=1.5, seed=6)
    src[2] = 245  # a white, degenerate patch
    norm = stain.MacenkoNormalizer().fit(tgt)
    assert _angle(norm.stains_[:, 0], H_VEC) < 8 and _angle(norm.stains_[:, 1], E_VEC) < 8
    out = norm.transform(src)
    assert out.shape == src.shape and out.dtype == np.uint8
    assert list(norm.fallback_) == [False, False, True]
    assert np.array_equal(out[2], src[2])
    # normalised tissue now unmixes along the target vectors
    od = stain.optical_density(out[:2].reshape(-1, 3))
    od = od[od.max(axis=1) > 0.15]
    est = stain.macenko_stain_matrix(od)
    assert _angle(est[:, 0], norm.stains_[:, 0]) < 5 and _angle(est[:, 1], norm.stains_[:, 1]) < 5
    # and is closer in colour to the target than before
    d_raw = np.abs(stain.stain_means(src[:2]).mean(0) - stain.stain_means(tgt).mean(0)).sum()
    d_norm = np.abs(stain.stain_means(out[:2]).mean(0) - stain.stain_means(tgt).mean(0)).sum()
    assert d_norm < d_raw / 2


def test_macenko_fit_fails_clearly_on_blank_training_images():
    with pytest.raises(ValueError, match="too little stained tissue"):
        stain.MacenkoNormalizer().fit(np.full((3, 20, 20, 3), 250, np.uint8))
    with pytest.raises(RuntimeError, match="fit"):
        stain.MacenkoNormalizer().transform(_he_images(n=1))


def test_per_group_normalisation_keeps_differences_within_a_group():
    # two patients; within each, a pale patch and a dark patch (same stains, different amounts)
    pale = _he_images(n=2, size=40, h_scale=0.5, e_scale=0.5, seed=11)
    dark = _he_images(n=2, size=40, h_scale=1.5, e_scale=1.5, seed=12)
    imgs = np.stack([pale[0], dark[0], pale[1], dark[1]])
    groups = np.array(["a", "a", "b", "b"])
    target = _he_images(n=4, seed=13)
    for norm in (stain.ReinhardNormalizer().fit(target), stain.MacenkoNormalizer().fit(target)):
        per_image = stain.stain_means(norm.transform(imgs))[:, 0]
        per_group = stain.stain_means(norm.transform(imgs, groups=groups))[:, 0]
        raw = stain.stain_means(imgs)[:, 0]
        # per image, the pale and dark patch end up alike; per group, the dark one stays darker
        assert abs(per_image[1] - per_image[0]) < 0.5 * (raw[1] - raw[0]), type(norm).__name__
        assert per_group[1] - per_group[0] > 0.5 * (raw[1] - raw[0]), type(norm).__name__
    with pytest.raises(ValueError, match="groups"):
        stain.ReinhardNormalizer().fit(target).transform(imgs, groups=groups[:2])


def test_macenko_per_group_fallback_flags_the_whole_group():
    imgs = _he_images(n=4, size=30, seed=14)
    imgs[2:] = 250
    norm = stain.MacenkoNormalizer().fit(_he_images(n=3, seed=15))
    out = norm.transform(imgs, groups=["a", "a", "b", "b"])
    assert list(norm.fallback_) == [False, False, True, True]
    assert np.array_equal(out[2:], imgs[2:])


# ---------------------------------------------------------------- augmentation


def test_hed_shift_changes_the_chosen_stain():
    imgs = _he_images(n=3, seed=16)
    before = stain.stain_means(imgs)
    after = stain.stain_means(stain.hed_shift(imgs, scale=(1.3, 0.75, 1.0)))
    assert np.all(after[:, 0] > 1.15 * before[:, 0]) and np.all(after[:, 1] < 0.9 * before[:, 1])
    assert np.abs(stain.hed_shift(imgs).astype(int) - imgs).max() <= 1  # identity
    per_image = stain.hed_shift(imgs, scale=[[1, 1, 1], [1.5, 1, 1], [1, 1, 1]])
    assert np.abs(per_image[0].astype(int) - imgs[0]).max() <= 1 and not np.array_equal(per_image[1], imgs[1])


def test_hed_jitter_is_seeded_and_bounded():
    imgs = _he_images(n=6, seed=7)
    a = stain.hed_jitter(imgs, seed=1)
    assert a.shape == imgs.shape and a.dtype == np.uint8
    assert np.array_equal(a, stain.hed_jitter(imgs, seed=1))
    assert not np.array_equal(a, stain.hed_jitter(imgs, seed=2))
    assert not np.array_equal(a, imgs)
    # no jitter: the image comes back (up to rounding)
    same = stain.hed_jitter(imgs, sigma=0.0, bias=0.0)
    assert np.abs(same.astype(int) - imgs).max() <= 1
    # white glass stays white; the stain amounts move by at most sigma (+ bias)
    white = np.full((2, 10, 10, 3), 255, np.uint8)
    assert np.array_equal(stain.hed_jitter(white, sigma=0.2, bias=0.1, seed=0), white)
    h_before = stain.stain_means(imgs)[:, 0]
    h_after = stain.stain_means(stain.hed_jitter(imgs, sigma=0.1, bias=0.0, seed=3))[:, 0]
    assert np.all(np.abs(h_after / h_before - 1) < 0.15)


def test_augment_training_set_keeps_rows_aligned():
    imgs = _he_images(n=5, seed=8)
    y = np.array([0, 1, 0, 1, 1])
    g = np.array(["a", "a", "b", "b", "c"])
    X2, y2, g2 = stain.augment_training_set(imgs, y, g, n_copies=2, seed=0)
    assert len(X2) == len(y2) == len(g2) == 15
    assert np.array_equal(X2[:5], imgs) and np.array_equal(y2[5:10], y) and np.array_equal(g2[10:], g)
    assert not np.array_equal(X2[5:10], X2[10:])
    with pytest.raises(ValueError):
        stain.augment_training_set(imgs, y[:3])


def test_random_hed_jitter_touches_training_data_only():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    seen = {}

    def record(X):
        seen.setdefault("calls", []).append(X.copy())
        return X.reshape(len(X), -1)[:, :30].astype(float)

    imgs = _he_images(n=8, size=10, seed=9)
    y = np.arange(8) % 2
    pipe = make_pipeline(stain.RandomHEDJitter(sigma=0.2, bias=0.05, seed=0), FunctionTransformer(record),
                         DecisionTreeClassifier(random_state=0))
    pipe.fit(imgs, y)
    assert not np.array_equal(seen["calls"][0], imgs)  # fitting saw jittered images
    pipe.predict(imgs)
    assert np.array_equal(seen["calls"][1], imgs)  # prediction saw the originals


# ---------------------------------------------------------------- evaluation and figures


def test_evaluate_treatments_table():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    n = 240
    groups = np.repeat(np.arange(12), 20)
    y = rng.integers(0, 2, n)
    X_good = y[:, None] + 0.5 * rng.standard_normal((n, 3))
    X_bad = rng.standard_normal((n, 3))
    per_fold, summary = stain.evaluate_treatments(
        lambda: LogisticRegression(),
        {"good": {"train": X_good, "test": X_good},
         "bad": {"train": X_bad, "test": X_bad},
         "good+extra": {"train": X_good, "test": X_good, "extra": X_good + 0.1}},
        y, groups, n_splits=4, progress=False)
    assert list(summary.index) == ["good", "bad", "good+extra"]
    assert len(per_fold) == 12 and set(per_fold.columns) >= {"balanced_accuracy", "f1", "roc_auc"}
    assert summary.loc["good", ("balanced_accuracy", "mean")] > 0.75
    assert summary.loc["bad", ("balanced_accuracy", "mean")] < 0.65


def test_compare_to_baseline_verdicts():
    import pandas as pd

    rows = []
    for k in range(5):
        rows += [("none", k, 0.70, 0.5, 0.8), ("good", k, 0.75 + 0.001 * k, 0.5, 0.8),
                 ("bad", k, 0.60, 0.5, 0.8), ("tiny", k, 0.70 + (0.004 if k % 2 else -0.003), 0.5, 0.8)]
    per_fold = pd.DataFrame(rows, columns=["treatment", "fold", "balanced_accuracy", "f1", "roc_auc"])
    v = stain.compare_to_baseline(per_fold, "none")
    assert list(v.index) == ["good", "bad", "tiny"]
    assert list(v.verdict) == ["helped", "hurt", "no clear effect"]
    assert v.loc["good", "folds_better"] == 5 and v.loc["bad", "mean_difference"] == pytest.approx(-0.10)


def test_patient_stain_table_and_spread_plot():
    means = np.array([[0.1, 0.2, 0.0], [0.3, 0.4, 0.0], [0.5, 0.6, 0.1], [np.nan, np.nan, np.nan]])
    t = stain.patient_stain_table(means, ["p1", "p1", "p2", "p2"], labels=[0, 1, 1, 1])
    assert list(t.index) == ["p1", "p2"]
    assert t.loc["p1", "H"] == pytest.approx(0.2) and t.loc["p2", "E"] == pytest.approx(0.6)
    assert t.loc["p2", "n_patches"] == 2 and t.loc["p1", "idc_fraction"] == pytest.approx(0.5)
    ax = stain.plot_stain_spread({"raw": t, "other": t * 1.1})
    assert len(ax.collections) == 2 and "std H" in ax.get_legend().get_texts()[0].get_text()
    plt.close("all")


def test_plot_patient_grid():
    imgs = _he_images(n=12, size=20, seed=10)
    patients = np.repeat(["10", "9", "11"], 4)
    labels = np.tile([1, 1, 1, 0], 3)
    fig, axes = stain.plot_patient_grid(imgs, patients, labels=labels, label=1, n_per_patient=3)
    assert axes.shape == (3, 3)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["9", "10", "11"]
    with pytest.raises(ValueError):
        stain.plot_patient_grid(imgs, patients, labels=labels, label=1, n_per_patient=4)
    # an explicit order, spread evenly over it; the same arguments pick the same patches
    many = np.repeat([str(i) for i in range(10)], 3)
    imgs30 = _he_images(n=30, size=8, seed=11)
    fig, axes = stain.plot_patient_grid(imgs30, many, label=None, n_per_patient=2, order=[str(i) for i in range(10)],
                                        max_patients=4, spread=True)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["0", "3", "6", "9"]
    again = stain.plot_patient_grid(imgs30, many, label=None, n_per_patient=2, order=[str(i) for i in range(10)],
                                    max_patients=4, spread=True)[1]
    assert all(np.array_equal(a.images[0].get_array(), b.images[0].get_array())
               for a, b in zip(axes.ravel(), again.ravel()))
    plt.close("all")


REAL = os.environ.get("HISTO_IDC_DIR")


@pytest.mark.skipif(not REAL, reason="HISTO_IDC_DIR not set (real IDC data)")
def test_normalisers_on_real_patches_reduce_between_patient_spread():
    from helpers.data import load_idc

    d = load_idc(REAL, patients=["8863", "8864", "8917", "8950", "9023", "9124"], max_per_patient=60,
                 progress=False)
    pats = d.table.patient.to_numpy()

    def spread(images):
        m = stain.stain_means(images)
        per = np.array([np.nanmean(m[pats == p], axis=0) for p in np.unique(pats)])
        return per[:, :2].std(axis=0).sum()

    raw = spread(d.images)
    rein = stain.ReinhardNormalizer().fit(d.images).transform(d.images)
    mac_norm = stain.MacenkoNormalizer().fit(d.images)
    mac = mac_norm.transform(d.images)
    assert spread(rein) < raw and spread(mac) < raw
    assert mac_norm.fallback_.mean() < 0.05
