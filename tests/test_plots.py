"""Tests of helpers.plots: every figure function on small synthetic arrays, plus one run on real patches.

Synthetic arrays are enough to check shapes, labels, colours, reproducibility and input validation; the real-data
test (skipped unless HISTO_IDC_DIR is set) draws every figure once on real patches.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def batch():
    """24 patches (uint8, 50 x 50 x 3): class 1 darker and purple, class 0 pale pink; 4 patients."""
    rng = np.random.default_rng(0)
    n = 24
    labels = np.array([0, 1] * (n // 2))
    base = np.where(labels[:, None] == 1, [110, 60, 140], [235, 170, 200])  # purple vs pink
    images = base[:, None, None, :] + rng.normal(0, 12, (n, 50, 50, 3))
    images = np.clip(images, 0, 255).astype(np.uint8)
    patients = np.array(["9001", "9001", "9002", "9002", "12001", "12001"] * 4)
    return images, labels, patients


def _shown_images(fig):
    return [im.get_array() for ax in fig.axes for im in ax.get_images()]


# ------------------------------------------------------------------------------------------------ patch grids


def test_patch_grid_layout_titles_and_frames(batch):
    images, labels, _ = batch
    fig = plots.plot_patch_grid(images[:10], labels=labels[:10], titles=[f"t{i}" for i in range(10)], ncols=4,
                                title="grid")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 12  # 3 rows x 4 columns, the last two switched off
    shown = _shown_images(fig)
    assert len(shown) == 10
    np.testing.assert_array_equal(shown[3], images[3])
    assert [ax.get_title() for ax in fig.axes[:10]] == [f"t{i}" for i in range(10)]
    assert not fig.axes[10].axison and not fig.axes[11].axison
    # frames in the class colour
    assert fig.axes[1].spines["top"].get_edgecolor() == to_rgba(plots.CLASS_COLORS[1])
    assert fig.axes[0].spines["top"].get_edgecolor() == to_rgba(plots.CLASS_COLORS[0])
    assert fig._suptitle.get_text() == "grid"
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {"non-IDC", "IDC"}


def test_patch_grid_rejects_bad_input(batch):
    images, _, _ = batch
    with pytest.raises(ValueError, match="uint8"):
        plots.plot_patch_grid(images.astype(float))
    with pytest.raises(ValueError, match="titles"):
        plots.plot_patch_grid(images[:3], titles=["a"])
    with pytest.raises(ValueError, match="no images"):
        plots.plot_patch_grid(images[:0])
    with pytest.raises(ValueError, match="shape"):
        plots.plot_patch_grid(images[..., 0])


def test_patches_by_class_rows_and_reproducibility(batch):
    images, labels, _ = batch
    fig = plots.plot_patches_by_class(images, labels, n_per_class=5, seed=3)
    assert len(fig.axes) == 10
    row_labels = [fig.axes[0].get_ylabel(), fig.axes[5].get_ylabel()]
    assert row_labels[0].startswith("non-IDC") and "12 patches" in row_labels[0]
    assert row_labels[1].startswith("IDC")
    shown = _shown_images(fig)
    # every patch of a row belongs to that row's class
    class_of = {images[i].tobytes(): labels[i] for i in range(len(images))}
    assert [class_of[np.asarray(a).tobytes()] for a in shown] == [0] * 5 + [1] * 5
    again = _shown_images(plots.plot_patches_by_class(images, labels, n_per_class=5, seed=3))
    assert all(np.array_equal(a, b) for a, b in zip(shown, again))
    other = _shown_images(plots.plot_patches_by_class(images, labels, n_per_class=5, seed=4))
    assert not all(np.array_equal(a, b) for a, b in zip(shown, other))


def test_patches_by_class_fewer_than_requested(batch):
    images, labels, _ = batch
    fig = plots.plot_patches_by_class(images[:3], labels[:3], n_per_class=4)
    assert len(_shown_images(fig)) == 3  # 2 of class 0, 1 of class 1; empty cells switched off


def test_patches_by_patient(batch):
    images, labels, patients = batch
    fig = plots.plot_patches_by_patient(images, patients, labels, patient_ids=["12001", "9001"], n_per_patient=3)
    assert fig.axes[0].get_ylabel().startswith("patient 12001")
    assert "50% IDC" in fig.axes[0].get_ylabel()
    shown = _shown_images(fig)
    patient_of = {images[i].tobytes(): patients[i] for i in range(len(images))}
    assert [patient_of[np.asarray(a).tobytes()] for a in shown] == ["12001"] * 3 + ["9001"] * 3
    # only_label keeps one class; default choice of patients sorts ids numerically
    fig = plots.plot_patches_by_patient(images, patients, labels, only_label=1, n_patients=2, n_per_patient=2)
    ids = [ax.get_ylabel().split("\n")[0] for ax in fig.axes[::2]]
    assert len(ids) == 2 and all(i.startswith("patient ") for i in ids)
    assert sorted(ids, key=lambda s: (len(s), s)) == ids
    label_of = {images[i].tobytes(): labels[i] for i in range(len(images))}
    assert all(label_of[np.asarray(a).tobytes()] == 1 for a in _shown_images(fig))
    with pytest.raises(ValueError, match="only_label needs labels"):
        plots.plot_patches_by_patient(images, patients, only_label=1)
    with pytest.raises(ValueError, match="no \\(matching\\) patches"):
        plots.plot_patches_by_patient(images, patients, labels, patient_ids=["404"])


# ------------------------------------------------------------------------------------------------ class balance


def test_class_balance_counts_and_order():
    patients = np.array(["1", "1", "1", "2", "3", "3"])
    labels = np.array([0, 0, 1, 1, 0, 0])
    fig = plots.plot_class_balance(patients, labels)
    ax = fig.axes[0]
    bars = ax.containers
    assert len(bars) == 2
    # sorted by total: patient 1 (3), then 3 (2), then 2 (1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "2"]
    np.testing.assert_array_equal([b.get_height() for b in bars[0]], [2, 2, 0])
    np.testing.assert_array_equal([b.get_height() for b in bars[1]], [1, 0, 1])
    np.testing.assert_array_equal([b.get_y() for b in bars[1]], [2, 2, 0])  # stacked on class 0

    fig = plots.plot_class_balance(patients, labels, normalize=True, sort_by="fraction")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "1", "3"]
    np.testing.assert_allclose([b.get_height() for b in ax.containers[1]], [1, 1 / 3, 0])
    assert ax.get_ylim() == (0, 1)

    fig = plots.plot_class_balance(patients, labels, sort_by="patient", max_patients=2)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2"]
    with pytest.raises(ValueError, match="sort_by"):
        plots.plot_class_balance(patients, labels, sort_by="size")


def test_class_balance_many_patients_and_existing_axes():
    patients = np.repeat([str(i) for i in range(100)], 3)
    labels = np.tile([0, 1, 0], 100)
    fig, ax = plt.subplots()
    out = plots.plot_class_balance(patients, labels, ax=ax, title="t")
    assert out is fig
    assert ax.get_xticks().size == 0 and "100 patients" in ax.get_xlabel()
    assert ax.get_title() == "t"


# ------------------------------------------------------------------------------------------------ channels, maps


def test_channel_maps_match_scikit_image(batch):
    from skimage import color

    img = batch[0][1]
    hed = plots.channel_maps(img, "hed")
    assert list(hed) == ["haematoxylin", "eosin", "DAB (residual)"]
    np.testing.assert_allclose(hed["eosin"], color.rgb2hed(img)[..., 1])
    hsv = plots.channel_maps(img, "hsv")
    np.testing.assert_allclose(hsv["value"], color.rgb2hsv(img)[..., 2])
    rgb = plots.channel_maps(img, "rgb")
    np.testing.assert_array_equal(rgb["green"], img[..., 1])
    with pytest.raises(ValueError, match="space"):
        plots.channel_maps(img, "lab")
    with pytest.raises(ValueError, match="one uint8 RGB image"):
        plots.channel_maps(batch[0][:2], "hed")


def test_plot_channels_panels(batch):
    img = batch[0][1]
    fig = plots.plot_channels(img, "hed")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["RGB patch", "haematoxylin", "eosin", "DAB (residual)"]
    shown = _shown_images(fig)
    np.testing.assert_array_equal(shown[0], img)
    fig = plots.plot_channels(img, "rgb")
    # fixed 0..255 colour range for RGB channels
    assert fig.axes[1].get_images()[0].get_clim() == (0, 255)


def test_image_and_maps(batch):
    img = batch[0][0]
    maps = {"a": np.zeros((50, 50)), "b": np.arange(16.0).reshape(4, 4)}
    fig = plots.plot_image_and_maps(img, maps, cmaps={"b": "magma"}, ranges={"a": (0, 2)}, colorbar=False)
    assert [ax.get_title() for ax in fig.axes] == ["RGB patch", "a", "b"]
    assert fig.axes[1].get_images()[0].get_clim() == (0, 2)
    assert fig.axes[2].get_images()[0].get_cmap().name == "magma"
    with pytest.raises(ValueError, match="2-D"):
        plots.plot_image_and_maps(img, {"bad": np.zeros((2, 2, 2))})


# ------------------------------------------------------------------------------------------------ histograms


def _step_area_and_mean(poly):
    """Area under a step-histogram polygon and the mean of the distribution it draws."""
    xy = poly.get_xy()
    x, y = xy[:, 0], xy[:, 1]
    w = np.diff(x) * y[:-1]  # vertical segments have zero width
    mids = (x[:-1] + x[1:]) / 2
    return w.sum(), (w * mids).sum() / w.sum()


def test_intensity_histograms_per_class(batch):
    images, labels, _ = batch
    fig = plots.plot_intensity_histograms(images, labels, space="rgb", bins=64)
    assert len(fig.axes) == 3
    red = {p.get_label(): p for p in fig.axes[0].patches}
    assert set(red) == {"non-IDC", "IDC"}
    # the histograms sit where the data are: class 1 is darker in red, by about the right amount
    _, m0 = _step_area_and_mean(red["non-IDC"])
    _, m1 = _step_area_and_mean(red["IDC"])
    assert m0 == pytest.approx(images[labels == 0][..., 0].mean(), abs=3)
    assert m1 == pytest.approx(images[labels == 1][..., 0].mean(), abs=3)
    fig = plots.plot_intensity_histograms(images, labels, space="hed", tissue_only=True, max_pixels=1000)
    assert [ax.get_title() for ax in fig.axes] == ["haematoxylin", "eosin", "DAB (residual)"]
    assert "tissue pixels only" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="space"):
        plots.plot_intensity_histograms(images, labels, space="xyz")


def test_intensity_histograms_tissue_only_drops_white(batch):
    images, labels, _ = batch
    images = images.copy()
    images[:, :25] = 255  # the top half of every patch is white glass
    full = plots.plot_intensity_histograms(images, labels, space="rgb")
    tissue = plots.plot_intensity_histograms(images, labels, space="rgb", tissue_only=True)
    _, with_white = _step_area_and_mean({p.get_label(): p for p in full.axes[0].patches}["IDC"])
    _, without = _step_area_and_mean({p.get_label(): p for p in tissue.axes[0].patches}["IDC"])
    assert with_white > without + 50
    assert without == pytest.approx(110, abs=5)


def test_intensity_histogram_values_are_densities(batch):
    images, labels, _ = batch
    fig = plots.plot_intensity_histograms(images, labels, space="hsv", bins=20)
    for ax in fig.axes:
        assert len(ax.patches) == 2  # one step polygon per class, each of area 1
        for poly in ax.patches:
            assert _step_area_and_mean(poly)[0] == pytest.approx(1.0, rel=1e-6)


def test_feature_histograms(batch):
    _, labels, _ = batch
    rng = np.random.default_rng(1)
    X = rng.normal(size=(len(labels), 5)) + labels[:, None] * np.array([3, 0, 0, 0, 0])
    names = [f"f{k}" for k in range(5)]
    fig = plots.plot_feature_histograms(X, labels, names, features=["f0", "f3", "f4"], ncols=2)
    visible = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in visible] == ["f0", "f3", "f4"]
    with pytest.raises(ValueError, match="unknown feature"):
        plots.plot_feature_histograms(X, labels, names, features=["nope"])
    with pytest.raises(ValueError, match="names must have 5"):
        plots.plot_feature_histograms(X, labels, names[:4])


# ------------------------------------------------------------------------------------------------ embedding


def test_embedding_binary_colours_and_legend():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200, 2))
    y = np.repeat([0, 1], 100)
    fig = plots.plot_embedding(Z, y, title="pca", max_points=150, seed=1)
    ax = fig.axes[0]
    coll = ax.collections[0]
    assert len(coll.get_offsets()) == 150
    colours = {tuple(np.round(c[:3], 3)) for c in coll.get_facecolors()}
    assert colours == {tuple(np.round(to_rgba(plots.CLASS_COLORS[k])[:3], 3)) for k in (0, 1)}
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["non-IDC (100)", "IDC (100)"]
    assert ax.get_title() == "pca"
    # points are drawn in random order (classes interleaved, not class 0 first then class 1)
    first = coll.get_facecolors()[:20, :3]
    assert len({tuple(np.round(c, 3)) for c in first}) == 2


def test_embedding_many_groups_and_continuous():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(300, 2))
    groups = np.array([str(i % 30) for i in range(300)])
    fig = plots.plot_embedding(Z, groups, max_categories=5)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(texts) == 6 and texts[-1] == "25 others"
    fig = plots.plot_embedding(Z, rng.random(300), colorbar_label="P(IDC)")
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "P(IDC)"
    with pytest.raises(ValueError, match="shape \\(n, 2\\)"):
        plots.plot_embedding(rng.normal(size=(10, 3)), np.zeros(10))
    with pytest.raises(ValueError, match="one entry per image"):
        plots.plot_embedding(Z, np.zeros(10))


def test_functions_draw_into_given_axes():
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 2)
    out = plots.plot_embedding(rng.normal(size=(20, 2)), np.repeat([0, 1], 10), ax=axes[1])
    assert out is fig
    assert len(axes[1].collections) == 1 and len(axes[0].collections) == 0


# ------------------------------------------------------------------------------------------------ real data


@pytest.mark.skipif(not os.environ.get("HISTO_IDC_DIR"), reason="HISTO_IDC_DIR not set (real IDC patches)")
def test_all_figures_on_real_patches():
    import helpers

    data = helpers.load_idc(max_patches=400, seed=0, progress=False)
    images, labels, patients = data.images, data.labels, data.table.patient.to_numpy()
    assert not data.is_demo
    figs = [
        plots.plot_patches_by_class(images, labels),
        plots.plot_patches_by_patient(images, patients, labels, only_label=1, n_per_patient=2),
        plots.plot_class_balance(patients, labels, normalize=True, sort_by="fraction"),
        plots.plot_channels(images[0], "hed"),
        plots.plot_intensity_histograms(images, labels, space="hed", tissue_only=True),
        plots.plot_embedding(images.reshape(len(images), -1)[:, :2].astype(float), labels),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    # real H&E: IDC tissue holds more haematoxylin than non-IDC tissue on average
    from skimage.color import rgb2hed

    h = np.array([rgb2hed(im)[..., 0].mean() for im in images])
    assert h[labels == 1].mean() > h[labels == 0].mean()
