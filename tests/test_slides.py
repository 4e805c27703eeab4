"""Tests of helpers.slides: mosaic and value-map geometry, slide context (smoothing), area summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import slides

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


def test_grid_position_counts_from_the_top_left_patch():
    t = _grid_table()
    rows, cols = slides.grid_position(t.x, t.y)
    assert list(rows) == [0, 0, 0, 1, 1] and list(cols) == [0, 1, 2, 0, 2]
    v = slides.value_map(np.arange(len(t)), t.x, t.y, downscale=P)  # one pixel per grid cell
    assert np.array_equal(v[rows, cols], np.arange(len(t)))


def _line(n, patient="a", x0=1):
    """n patches in one row of the grid."""
    return pd.DataFrame({"patient": patient, "x": x0 + P * np.arange(n), "y": np.full(n, 1)})


def test_smoothing_is_a_weighted_mean_of_present_neighbours():
    t = _line(3)
    scores = np.array([0.0, 3.0, 6.0])
    out = slides.smooth_scores(scores, t.x, t.y, t.patient, sigma=1.0)
    w1 = np.exp(-0.5)  # Gaussian weight of a neighbour one step away (sigma = 1), relative to the patch itself
    assert out[1] == pytest.approx(3.0)  # symmetric neighbours
    assert out[0] == pytest.approx((0 + 3 * w1 + 6 * np.exp(-2)) / (1 + w1 + np.exp(-2)), rel=1e-3)
    assert np.array_equal(slides.smooth_scores(scores, t.x, t.y, t.patient, sigma=0), scores)


def test_smoothing_ignores_missing_neighbours_and_other_patients():
    # patient a: patches at columns 0 and 2 (column 1 missing); patient b sits on the same grid cells
    a = _line(3).drop(index=1)
    b = _line(3, patient="b")
    t = pd.concat([a, b], ignore_index=True)
    scores = np.array([1.0, 1.0, -5.0, -5.0, -5.0])
    out = slides.smooth_scores(scores, t.x, t.y, t.patient, sigma=1.0)
    # patient a's scores are all 1: the missing patch counts as absent, not as 0, and b's -5 never leak in
    assert np.allclose(out[:2], 1.0) and np.allclose(out[2:], -5.0)
    # a lone patch (no neighbour) keeps its score
    lone = slides.smooth_scores([2.5], [1], [1], ["c"], sigma=2.0)
    assert lone[0] == pytest.approx(2.5)
    with pytest.raises(ValueError, match="groups"):
        slides.smooth_scores(scores, t.x, t.y, ["a"], sigma=1.0)


def test_smoothing_removes_an_isolated_error_inside_a_tumour():
    # a 7 x 7 slide: left half tumour (score +1), right half not (-1); one false negative inside the tumour
    r, c = np.meshgrid(np.arange(7), np.arange(7), indexing="ij")
    r, c = r.ravel(), c.ravel()
    labels = (c < 3).astype(int)
    scores = np.where(labels == 1, 1.0, -1.0)
    scores[(r == 3) & (c == 1)] = -1.0
    x, y = 1 + P * c, 1 + P * r
    out = slides.smooth_scores(scores, x, y, np.zeros(len(r)), sigma=1.0)
    assert np.array_equal(out >= 0, labels == 1)
    assert not np.array_equal(scores >= 0, labels == 1)


def test_choose_slide_context_prefers_smoothing_on_spatially_coherent_scores():
    rng = np.random.default_rng(0)
    r, c = np.meshgrid(np.arange(20), np.arange(20), indexing="ij")
    r, c = r.ravel(), c.ravel()
    labels = ((r - 10) ** 2 + (c - 8) ** 2 < 40).astype(int)
    scores = labels - 0.5 + rng.normal(0, 0.8, len(r))  # noisy patch scores, independent between patches
    best, table = slides.choose_slide_context(scores, labels, 1 + P * c, 1 + P * r, np.zeros(len(r)))
    assert list(table.sigma) == [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    assert best["sigma"] > 0
    assert best["balanced_accuracy"] > table.loc[table.sigma == 0, "balanced_accuracy"].item() + 0.1
    smoothed = slides.smooth_scores(scores, 1 + P * c, 1 + P * r, np.zeros(len(r)), sigma=best["sigma"])
    from sklearn.metrics import balanced_accuracy_score

    assert balanced_accuracy_score(labels, smoothed >= best["threshold"]) == pytest.approx(best["balanced_accuracy"])


def test_slide_summary_weights_by_real_area():
    t = _grid_table()
    proba = np.array([0.9, 0.1, 0.6, 0.2, 0.8])
    s = slides.slide_summary(t, proba, threshold=0.5)
    area = (t.width * t.height).to_numpy()
    row = s.loc["7"]
    assert row["n_patches"] == 5
    assert row["true_idc_fraction"] == pytest.approx(area[t.label == 1].sum() / area.sum())
    assert row["pred_idc_fraction"] == pytest.approx(area[proba >= 0.5].sum() / area.sum())
    assert row["expected_idc_fraction"] == pytest.approx((area * proba).sum() / area.sum())
    assert row["area_error"] == pytest.approx(row["pred_idc_fraction"] - row["true_idc_fraction"])
    with pytest.raises(ValueError):
        slides.slide_summary(t, proba[:3])


def test_real_slide_has_edge_patches_placed(real_idc):
    from helpers import load_idc

    d = load_idc(real_idc, patients=["8864"], progress=False)
    t = d.table
    small = ((t.width < 50) | (t.height < 50)).to_numpy()
    assert small.sum() > 10
    m = slides.mosaic(d.images, t.x, t.y, widths=t.width, heights=t.height)
    assert m.shape[:2] == ((t.y + t.height).max() - t.y.min(), (t.x + t.width).max() - t.x.min())
    x0, y0 = t.x.min(), t.y.min()
    for i in np.flatnonzero(small)[:20]:  # every real pixel of an edge patch is at its x/y
        x, y, w, h = (int(v) for v in t.loc[i, ["x", "y", "width", "height"]])
        assert np.array_equal(m[y - y0:y - y0 + h, x - x0:x - x0 + w], d.images[i, :h, :w])
    assert slides.mosaic(d.images, t.x, t.y, widths=t.width, heights=t.height, downscale=5).nbytes < m.nbytes / 20
