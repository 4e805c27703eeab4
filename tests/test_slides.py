"""Tests of helpers.slides: mosaics, heatmaps, summaries, explanations, figures."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import slides  # noqa: E402

P = 50


def _solid(colors):
    """Patches (n, 50, 50, 3) of one colour each."""
    return np.stack([np.full((P, P, 3), c, np.uint8) for c in colors])


def _grid_table():
    """A 2 x 3 patch grid at x/y 1, 51, 101 (the IDC convention), the last column 20 px wide,
    the bottom row 42 px high; one hole at (row 1, col 1)."""
    xs, ys, ws, hs, labels = [], [], [], [], []
    for r in range(2):
        for c in range(3):
            if (r, c) == (1, 1):
                continue
            xs.append(1 + 50 * c)
            ys.append(1 + 50 * r)
            ws.append(20 if c == 2 else 50)
            hs.append(42 if r == 1 else 50)
            labels.append(int(c == 0))
    n = len(xs)
    return pd.DataFrame({"patient": ["7"] * n, "x": xs, "y": ys, "label": labels, "width": ws, "height": hs})


def _padded(table, colors):
    """Patches padded like helpers.data does: real pixels top-left, white elsewhere; but the padding here is
    painted black so that a test can see if it leaks into the mosaic."""
    imgs = _solid(colors)
    for i, (w, h) in enumerate(zip(table.width, table.height)):
        imgs[i, h:, :] = 0
        imgs[i, :, w:] = 0
    return imgs


def test_mosaic_places_patches_and_edges_at_their_real_size():
    t = _grid_table()
    colors = [(10 * (i + 1), 100, 200 - 10 * i) for i in range(len(t))]
    imgs = _padded(t, colors)
    m = slides.mosaic(imgs, t.x, t.y, widths=t.width, heights=t.height)
    # width: 2 full columns + 20 px, height: 1 full row + 42 px
    assert m.shape == (92, 120, 3) and m.dtype == np.uint8
    for i, (x, y, w, h) in enumerate(zip(t.x - 1, t.y - 1, t.width, t.height)):
        block = m[y:y + h, x:x + w]
        assert (block == np.array(colors[i], np.uint8)).all(), i
    # the hole (row 1, col 1) is background, and no black padding leaked anywhere
    assert (m[50:92, 50:100] == 255).all()
    assert not (m == 0).all(axis=-1).any()


def test_mosaic_without_sizes_places_full_patches():
    imgs = _solid([(1, 2, 3), (4, 5, 6)])
    m = slides.mosaic(imgs, [101, 151], [51, 51])
    assert m.shape == (50, 100, 3)
    assert (m[:, :50] == (1, 2, 3)).all() and (m[:, 50:] == (4, 5, 6)).all()


def test_mosaic_downscale_averages_only_real_pixels():
    t = _grid_table()
    imgs = _padded(t, [(100, 100, 100)] * len(t))
    imgs[0, :25, :25] = 0  # top-left quarter of the first patch dark
    m = slides.mosaic(imgs, t.x, t.y, widths=t.width, heights=t.height, downscale=25)
    # 25 px blocks: width ceil(120/25)=5, height ceil(92/25)=4
    assert m.shape == (4, 5, 3)
    assert (m[0, 0] == 0).all() and (m[0, 1] == 100).all()
    # the 20 px wide edge column is one partly covered block, averaged over its real (grey) pixels only
    assert (m[0, 4] == 100).all()
    # the 42 px high bottom row: block rows 2 and 3 (rows 50-74 and 75-91); the hole stays white
    assert (m[3, 0] == 100).all() and (m[2:4, 2:4] == 255).all()


def test_mosaic_block_mean_value():
    img = np.zeros((1, P, P, 3), np.uint8)
    img[0, :, :5] = 200  # 5 of the 10 columns of each 10 x 10 block in the first block column
    m = slides.mosaic(img, [1], [1], downscale=10)
    assert m.shape == (5, 5, 3)
    assert (m[:, 0] == 100).all() and (m[:, 1:] == 0).all()


@pytest.mark.parametrize("bad", [0, 3, 7, 51])
def test_mosaic_rejects_downscale_that_does_not_divide_the_patch(bad):
    with pytest.raises(ValueError, match="downscale"):
        slides.mosaic(_solid([(0, 0, 0)]), [1], [1], downscale=bad)


def test_mosaic_rejects_bad_shapes():
    with pytest.raises(ValueError):
        slides.mosaic(np.zeros((2, 50, 40, 3), np.uint8), [1, 51], [1, 1])
    with pytest.raises(ValueError):
        slides.mosaic(_solid([(0, 0, 0)]), [1, 2], [1])
    with pytest.raises(ValueError):
        slides.mosaic(_solid([(0, 0, 0)]), [1], [1], widths=[60])


def test_value_map_shares_the_mosaic_geometry():
    t = _grid_table()
    vals = np.linspace(0.1, 0.9, len(t))
    for d in (1, 5, 25):
        v = slides.value_map(vals, t.x, t.y, widths=t.width, heights=t.height, downscale=d)
        m = slides.mosaic(_solid([(0, 0, 0)] * len(t)), t.x, t.y, widths=t.width, heights=t.height, downscale=d)
        assert v.shape == m.shape[:2]
        # covered pixels are exactly the non-background ones
        assert np.array_equal(~np.isnan(v), (m != 255).any(axis=-1)), d
    v = slides.value_map(vals, t.x, t.y, widths=t.width, heights=t.height)
    assert v[0, 0] == pytest.approx(vals[0]) and v[60, 10] == pytest.approx(vals[3])
    assert np.isnan(v[60, 60])


def test_slide_extent_is_in_slide_pixels():
    t = _grid_table()
    ext = slides.slide_extent(t.x, t.y, widths=t.width, heights=t.height, downscale=5)
    assert ext == (1, 121, 96, 1)  # 92 px high -> 19 output pixels of 5 px
    assert slides.slide_extent(t.x, t.y, widths=t.width, heights=t.height) == (1, 121, 93, 1)


def test_build_slide_selects_one_patient():
    t = _grid_table()
    other = t.assign(patient="8", x=t.x + 1000)
    table = pd.concat([t, other], ignore_index=True)
    imgs = _padded(table, [(50, 50, 50)] * len(table))
    proba = np.arange(len(table)) / len(table)
    s = slides.build_slide(table, imgs, 7, proba=proba, downscale=2)
    assert s.patient == "7" and s.tissue.shape == (46, 60, 3)
    assert s.truth.shape == s.proba.shape == (46, 60)
    assert np.nanmax(s.proba) < proba[len(t)]  # only the first patient's values
    assert set(np.unique(s.truth[~np.isnan(s.truth)])) == {0.0, 1.0}
    with pytest.raises(ValueError, match="no patches"):
        slides.build_slide(table, imgs, "9")


def test_slide_summary_weights_by_real_area():
    t = _grid_table()
    proba = np.array([0.9, 0.1, 0.6, 0.2, 0.8])
    s = slides.slide_summary(t, proba, threshold=0.5)
    area = (t.width * t.height).to_numpy()
    row = s.loc["7"]
    assert row["n_patches"] == 5 and row["tissue_px"] == area.sum()
    assert row["true_idc_fraction"] == pytest.approx(area[t.label == 1].sum() / area.sum())
    assert row["pred_idc_fraction"] == pytest.approx(area[proba >= 0.5].sum() / area.sum())
    assert row["expected_idc_fraction"] == pytest.approx((area * proba).sum() / area.sum())
    assert row["area_error"] == pytest.approx(row["pred_idc_fraction"] - row["true_idc_fraction"])
    with pytest.raises(ValueError):
        slides.slide_summary(t, proba[:3])


def test_feature_groups_from_dict_and_function():
    names = ["hsv_h_00", "lbp_r1_01", "hsv_s_02", "glcm_contrast"]
    fam = {n: n.split("_")[0] for n in names}
    assert slides.feature_groups(names, fam) == {"hsv": [0, 2], "lbp": [1], "glcm": [3]}
    assert slides.feature_groups(names, lambda n: n[:3]) == {"hsv": [0, 2], "lbp": [1], "glc": [3]}


def test_grouped_permutation_importance_finds_the_informative_family():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 2, n)
    signal = y[:, None] + 0.3 * rng.standard_normal((n, 2))
    noise = rng.standard_normal((n, 3))
    X = np.hstack([noise[:, :1], signal, noise[:, 1:]])
    model = LogisticRegression().fit(X[:300], y[:300])
    imp = slides.grouped_permutation_importance(model, X[300:], y[300:], {"signal": [1, 2], "noise": [0, 3, 4]},
                                                n_repeats=4, seed=1)
    assert list(imp.index) == ["signal", "noise"]
    assert imp.loc["signal", "importance"] > 0.3
    assert abs(imp.loc["noise", "importance"]) < 0.05
    assert imp.loc["signal", "n_features"] == 2 and imp["baseline"].iloc[0] > 0.9
    # same seed, same numbers; DataFrame input works too
    again = slides.grouped_permutation_importance(model, pd.DataFrame(X[300:]), y[300:],
                                                  {"signal": [1, 2], "noise": [0, 3, 4]}, n_repeats=4, seed=1)
    pd.testing.assert_frame_equal(imp, again)


def test_confidence_ranking():
    p = np.array([0.95, 0.05, 0.5, 0.52, 0.9, 0.2])
    y = np.array([1, 0, 1, 0, 0, 1])
    r = slides.confidence_ranking(p, y, k=2)
    assert list(r["confident IDC"]) == [0, 4]
    assert list(r["confident non-IDC"]) == [1, 5]
    assert list(r["least confident"]) == [2, 3]
    assert list(r["confident mistakes"]) == [4, 5]  # 0.9 for a non-IDC, 0.2 for an IDC patch


def test_error_map_colours():
    proba = np.array([[0.9, 0.9, 0.1, 0.1, np.nan]])
    truth = np.array([[1.0, 0.0, 1.0, 0.0, np.nan]])
    e = slides.error_map(proba, truth, 0.5)
    assert e.shape == (1, 5, 4)
    assert tuple(e[0, 0, :3]) == slides.ERROR_COLORS["true positive"]
    assert tuple(e[0, 1, :3]) == slides.ERROR_COLORS["false positive"]
    assert tuple(e[0, 2, :3]) == slides.ERROR_COLORS["false negative"]
    assert e[0, 3, 3] == 0 and e[0, 4, 3] == 0


def test_figures_draw():
    t = _grid_table()
    imgs = _padded(t, [(180, 120, 190)] * len(t))
    proba = np.array([0.9, 0.1, 0.6, 0.2, 0.8])
    s = slides.build_slide(t, imgs, "7", proba=proba)
    fig, axes = slides.plot_slide_panels(s, threshold=0.5)
    assert len(axes) == 3 and axes[2].get_title().startswith("prediction")
    ax = slides.plot_slide_errors(s, 0.5)
    assert ax.get_legend() is not None
    ax = slides.plot_fraction_scatter(slides.slide_summary(t, proba))
    assert ax.get_xlabel().startswith("true IDC")
    imp = pd.DataFrame({"n_features": [2, 3], "importance": [0.2, 0.0], "std": [0.01, 0.01]}, index=["a", "b"])
    ax = slides.plot_importance(imp)
    assert len(ax.patches) == 2
    fig, axes = slides.plot_patch_gallery(imgs, [0, 1, 2], titles=["a", "b", "c"], ncols=2)
    assert axes.shape == (2, 2)
    with pytest.raises(ValueError):
        slides.plot_slide_errors(slides.build_slide(t, imgs, "7"))
    fig, axes = slides.plot_confidence_gallery(imgs, proba, t.label, k=3)
    assert axes.shape == (4, 3) and axes[0, 0].get_title() == "P=0.90 y=1"
    ax = slides.plot_zoom(s, 60, 60, half_size=30)
    assert ax.get_xlim() == (30.0, 90.0) and ax.get_ylim() == (90.0, 30.0)
    ax = slides.plot_fraction_scatter(slides.slide_summary(t, proba), highlight=["7"])
    assert len(ax.texts) == 1
    plt.close("all")


def test_demo_slide_round_trip(tmp_path):
    """A demo slide rebuilt from its patch files equals the painted slide where patches exist."""
    from helpers.data import load_idc
    from helpers.demo import DEMO_PATIENT_BASE, make_demo_idc, render_demo_slide

    root = make_demo_idc(tmp_path / "demo", n_patients=1, seed=3)
    d = load_idc(root, cache=False, progress=False)
    assert (d.table.width < 50).any() or (d.table.height < 50).any()  # edge patches exist
    s = slides.build_slide(d.table, d.images, DEMO_PATIENT_BASE)
    rgb, _, _ = render_demo_slide(DEMO_PATIENT_BASE, seed=3)
    x0, y0 = d.table.x.min() - 1, d.table.y.min() - 1
    h, w = s.tissue.shape[:2]
    painted = rgb[y0:y0 + h, x0:x0 + w]
    covered = ~np.isnan(s.truth)
    assert np.array_equal(s.tissue[covered], painted[covered])


REAL = os.environ.get("HISTO_IDC_DIR")


@pytest.mark.skipif(not REAL, reason="HISTO_IDC_DIR not set (real IDC data)")
def test_real_slide_8864_has_edge_patches_placed():
    from helpers.data import load_idc

    d = load_idc(REAL, patients=["8864"], progress=False)
    t = d.table
    small = ((t.width < 50) | (t.height < 50)).to_numpy()
    assert small.sum() > 10
    m = slides.mosaic(d.images, t.x, t.y, widths=t.width, heights=t.height)
    ext = slides.slide_extent(t.x, t.y, widths=t.width, heights=t.height)
    assert m.shape[:2] == (ext[2] - ext[3], ext[1] - ext[0])
    # every real pixel of every patch is in the mosaic at its x/y
    x0, y0 = t.x.min(), t.y.min()
    for i in np.flatnonzero(small)[:20]:
        x, y, w, h = (int(v) for v in t.loc[i, ["x", "y", "width", "height"]])
        assert np.array_equal(m[y - y0:y - y0 + h, x - x0:x - x0 + w], d.images[i, :h, :w])
    # the downscaled slide fits the memory budget easily
    small_m = slides.mosaic(d.images, t.x, t.y, widths=t.width, heights=t.height, downscale=5)
    assert small_m.nbytes < m.nbytes / 20
