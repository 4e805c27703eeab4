"""Tests of helpers.stain: measuring, normalising (Reinhard, Macenko) and augmenting (HED jitter) stain colour."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import rgb2hed

from helpers import stain

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


def test_reinhard_gives_each_patient_the_target_statistics():
    # reference: three patients of different colour; the target is the median of their pooled statistics
    ref = np.concatenate([_he_images(n=3, h_scale=s, seed=k) for k, s in enumerate([0.8, 1.0, 1.3])])
    ref_groups = np.repeat(["r1", "r2", "r3"], 3)
    norm = stain.ReinhardNormalizer(preserve_background=False).fit(ref, groups=ref_groups)
    mean, std = stain.lab_stats(ref, ref_groups)
    assert np.allclose(norm.target_mean_, np.median(mean, axis=0))
    assert np.allclose(norm.target_std_, np.median(std, axis=0))
    # two new patients, one pale and low-contrast, one dark; patches within a patient differ in content
    src = np.concatenate([_he_images(n=4, h_scale=0.5, e_scale=0.7, seed=10),
                          _he_images(n=4, h_scale=1.8, e_scale=1.2, seed=11)])
    src[1] = _he_images(n=1, h_scale=1.0, seed=12)[0]  # a darker patch inside the pale patient
    groups = np.repeat(["p1", "p2"], 4)
    out = norm.transform(src, groups=groups)
    assert out.shape == src.shape and out.dtype == np.uint8
    # measured the way the target was: each patient's pooled tissue statistics now equal the target's,
    # the spread (contrast) included -- it is not compressed
    out_mean, out_std = stain.lab_stats(out, groups, mask=stain.tissue_mask(src))
    assert np.allclose(out_mean, norm.target_mean_, atol=0.02)
    assert np.allclose(out_std, norm.target_std_, rtol=0.05, atol=0.005)
    before = stain.lab_stats(src, groups)[1]
    assert not np.allclose(before, norm.target_std_, rtol=0.05)  # the test is not trivially true


def test_reinhard_per_image_without_groups():
    src = _he_images(n=3, h_scale=1.8, e_scale=0.6, seed=1)
    norm = stain.ReinhardNormalizer(preserve_background=False).fit(_he_images(n=5, seed=2))
    out_mean, out_std = stain.lab_stats(norm.transform(src), mask=stain.tissue_mask(src))
    assert out_mean.shape == (3, 3)
    assert np.allclose(out_mean, norm.target_mean_, atol=0.02)
    assert np.allclose(out_std, norm.target_std_, rtol=0.05, atol=0.005)


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
    a = stain.hed_jitter(imgs, random_state=1)
    assert a.shape == imgs.shape and a.dtype == np.uint8
    assert np.array_equal(a, stain.hed_jitter(imgs, random_state=1))
    assert not np.array_equal(a, stain.hed_jitter(imgs, random_state=2))
    assert not np.array_equal(a, imgs)
    # no jitter: the image comes back (up to rounding)
    same = stain.hed_jitter(imgs, sigma=0.0, bias=0.0)
    assert np.abs(same.astype(int) - imgs).max() <= 1
    # white glass stays white; the stain amounts move by at most sigma (+ bias)
    white = np.full((2, 10, 10, 3), 255, np.uint8)
    assert np.array_equal(stain.hed_jitter(white, sigma=0.2, bias=0.1, random_state=0), white)
    h_before = stain.stain_means(imgs)[:, 0]
    h_after = stain.stain_means(stain.hed_jitter(imgs, sigma=0.1, bias=0.0, random_state=3))[:, 0]
    assert np.all(np.abs(h_after / h_before - 1) < 0.15)


def test_normalisers_on_real_patches(real_idc):
    from helpers import load_idc

    d = load_idc(real_idc, patients=["8863", "8864", "8917", "8950", "9023", "9124"], max_per_patient=60,
                 progress=False)
    pats = d.table["patient"].astype(str).to_numpy()

    def spread(images):  # between-patient std of the mean H and E amounts
        m = stain.stain_means(images)
        per = np.array([np.nanmean(m[pats == p], axis=0) for p in np.unique(pats)])
        return per[:, :2].std(axis=0).sum()

    rein = stain.ReinhardNormalizer().fit(d.images, groups=pats).transform(d.images, groups=pats)
    assert spread(rein) < 0.5 * spread(d.images)
    mac_norm = stain.MacenkoNormalizer().fit(d.images)
    mac = mac_norm.transform(d.images, groups=pats)
    assert not mac_norm.fallback_.any()
    for p in np.unique(pats):  # every patient now unmixes along the target stain vectors
        od = stain.optical_density(mac[pats == p].reshape(-1, 3))
        est = stain.macenko_stain_matrix(od[od.max(axis=1) > 0.15])
        assert _angle(est[:, 0], mac_norm.stains_[:, 0]) < 5 and _angle(est[:, 1], mac_norm.stains_[:, 1]) < 5
