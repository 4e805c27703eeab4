"""Tests of helpers.plots: each figure draws what its arguments say (axes, frames, labels, colours) and rejects bad
input with a message that names the problem."""

from __future__ import annotations

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


def _patches(n, h=50, w=50, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _pixel(fig, ax, x, y):
    """RGB (0..255) of the rendered figure at data coordinates (x, y) of ``ax``."""
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    return tuple(int(v) for v in buf[buf.shape[0] - int(round(py)), int(round(px)), :3])


# ---------------------------------------------------------------------------------------------------- patch grid


def test_patch_grid_one_axes_per_image_in_rows_of_ncols():
    images = _patches(11)
    fig = plots.plot_patch_grid(images, ncols=4, title="eleven")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 11, "no empty axes in the last row"
    rows = [ax.get_subplotspec().rowspan.start for ax in fig.axes]
    cols = [ax.get_subplotspec().colspan.start for ax in fig.axes]
    assert rows == [k // 4 for k in range(11)] and cols == [k % 4 for k in range(11)], "row-major order"
    for ax, im in zip(fig.axes, images):
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), im)
    assert fig._suptitle.get_text() == "eleven"


def test_patch_grid_titles_frames_row_labels_and_legend():
    images = _patches(6)
    colours = ["#0072B2", None, "#D55E00", "#0072B2", None, "#D55E00"]
    fig = plots.plot_patch_grid(images, ncols=3, titles=[f"p{k}" for k in range(6)], frame_colors=colours,
                                row_labels=["non-IDC", "IDC"], legend={"non-IDC": "#0072B2", "IDC": "#D55E00"})
    for k, (ax, c) in enumerate(zip(fig.axes, colours)):
        assert ax.get_title() == f"p{k}"
        spine = ax.spines["left"]
        if c is None:
            assert not spine.get_visible()
        else:
            assert spine.get_visible() and spine.get_edgecolor() == to_rgba(c)
    assert [ax.get_ylabel() for ax in fig.axes] == ["non-IDC", "", "", "IDC", "", ""], "one label left of each row"
    legend_texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert legend_texts == ["non-IDC", "IDC"]
    legend_colours = [h.get_edgecolor() for leg in fig.legends for h in leg.legend_handles]
    assert legend_colours == [to_rgba("#0072B2"), to_rgba("#D55E00")]


def test_patch_grid_accepts_patches_of_varying_size_at_one_scale():
    images = [_patches(1)[0], _patches(1, h=50, w=30)[0], _patches(1, h=20, w=50)[0].astype(float) / 255]
    fig = plots.plot_patch_grid(images, ncols=3)
    assert len(fig.axes) == 3
    for ax, im in zip(fig.axes, images):
        assert ax.get_xlim() == (-0.5, 49.5) and ax.get_ylim() == (49.5, -0.5), "every panel spans the largest patch"
        assert ax.get_images()[0].get_array().shape[:2] == im.shape[:2], "a smaller patch stays smaller"


def test_patch_grid_fewer_images_than_columns():
    fig = plots.plot_patch_grid(_patches(2), ncols=8, row_labels=["only row"])
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "only row"


@pytest.mark.parametrize(
    ("images", "kwargs", "message"),
    [
        (_patches(1)[0], {}, r"image\[None\]"),  # one (h, w, 3) image, not a batch
        (_patches(2)[..., 0], {}, r"\(n, h, w, 3\)"),  # grey
        ([np.zeros((5, 5))], {}, r"images\[0\] must be an RGB image"),
        ([], {}, "empty"),
        (_patches(2).astype(np.int64), {}, "uint8"),
        (_patches(3), {"titles": ["a", "b"]}, "titles must have 3 entries"),
        (_patches(3), {"frame_colors": ["red"]}, "frame_colors must have 3 entries"),
        (_patches(5), {"ncols": 2, "row_labels": ["a", "b"]}, "row_labels must have 3 entries"),
    ],
)
def test_patch_grid_rejects_bad_input(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_patch_grid(images, **kwargs)


# ---------------------------------------------------------------------------------------------------- slide panels


def test_slide_panels_rgb_and_maps_with_colorbars():
    rgb = _patches(1, h=20, w=30)[0]
    proba = np.linspace(0, 1, 600).reshape(20, 30)
    fig = plots.plot_slide_panels({"tissue": rgb, "P(IDC)": proba, "truth": proba > 0.5},
                                  cmaps={"P(IDC)": "coolwarm"}, vmin=0, vmax={"P(IDC)": 1.0},
                                  colorbar_labels={"P(IDC)": "probability"}, title="slide 1")
    panels, colorbars = fig.axes[:3], fig.axes[3:]
    assert [ax.get_title() for ax in panels] == ["tissue", "P(IDC)", "truth"]
    assert len(colorbars) == 2, "one colour bar per 2-D map, none for the RGB image"
    im = panels[1].get_images()[0]
    assert im.get_cmap().name.startswith("coolwarm") and im.get_clim() == (0.0, 1.0)
    assert colorbars[0].get_ylabel() == "probability"
    assert panels[2].get_images()[0].get_cmap().name.startswith("viridis"), "default colour map"
    np.testing.assert_array_equal(panels[0].get_images()[0].get_array(), rgb)
    assert fig._suptitle.get_text() == "slide 1"


def test_slide_panels_draw_nan_white():
    value = np.full((10, 10), 0.5)
    value[:, :5] = np.nan  # no tissue on the left half
    rgb = np.full((10, 10, 3), 0.2)
    rgb[:, :5] = np.nan
    fig = plots.plot_slide_panels({"map": value, "rgb": rgb}, vmin=0, vmax=1, size=3)
    ax_map, ax_rgb = fig.axes[:2]
    assert _pixel(fig, ax_map, 2, 5) == (255, 255, 255)
    assert _pixel(fig, ax_map, 7, 5) != (255, 255, 255), "tissue keeps its colour"
    assert _pixel(fig, ax_rgb, 2, 5) == (255, 255, 255)
    assert _pixel(fig, ax_rgb, 7, 5) == (51, 51, 51)


@pytest.mark.parametrize(
    ("panels", "message"),
    [({}, "non-empty dict"), ({"x": np.zeros((4, 4, 2))}, "panel 'x' must be"), ({"x": np.zeros(5)}, "2-D map")],
)
def test_slide_panels_reject_bad_input(panels, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_slide_panels(panels)


# ---------------------------------------------------------------------------------------------------- embedding


def test_embedding_colours_classes_and_counts_them():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(30, int), np.ones(10, int)]
    X2 = rng.normal(size=(40, 2))
    fig = plots.plot_embedding(X2, labels, class_names=("non-IDC", "IDC"), title="PCA")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["non-IDC (30)", "IDC (10)"]
    points = ax.collections[0]
    colours = points.get_facecolors()[:, :3]
    blue = np.isclose(colours, to_rgba(plots.CLASS_COLORS[0])[:3]).all(axis=1)
    assert blue.sum() == 30 and len(points.get_offsets()) == 40
    assert sorted(map(tuple, points.get_offsets()[blue])) == sorted(map(tuple, X2[labels == 0]))
    assert ax.get_title() == "PCA"


def test_embedding_greys_small_categories_and_draws_into_given_axes():
    groups = np.array(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e"])
    fig, (left, right) = plt.subplots(1, 2)
    out = plots.plot_embedding(np.arange(30.0).reshape(15, 2), groups, max_categories=2, ax=right)
    assert out is fig and not left.collections and right.collections
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["a (5)", "b (4)", "3 others"]
    grey = np.isclose(right.collections[0].get_facecolors()[:, :3], 0.7).all(axis=1)
    assert grey.sum() == 6


def test_embedding_order_is_seeded_and_input_checked():
    X2, y = np.random.default_rng(1).normal(size=(50, 2)), np.arange(50) % 2
    a = plots.plot_embedding(X2, y, random_state=3).axes[0].collections[0].get_offsets()
    b = plots.plot_embedding(X2, y, random_state=3).axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(a, b)
    c = plots.plot_embedding(X2, y, random_state=4).axes[0].collections[0].get_offsets()
    assert not np.array_equal(a, c)  # the seed is used: another seed, another drawing order
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plots.plot_embedding(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="one per point"):
        plots.plot_embedding(np.zeros((5, 2)), np.zeros(4))


# ---------------------------------------------------------------------------------------------------- histograms


def test_class_histograms_one_panel_per_column_unit_area_per_class():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(300, int), np.ones(100, int)]
    values = np.c_[rng.normal(labels, 1.0), rng.exponential(1.0 + labels)]
    fig = plots.plot_class_histograms(values, labels, names=["shift", "scale"], class_names=("non-IDC", "IDC"),
                                      bins=20, ncols=4, title="t")
    assert len(fig.axes) == 2 and [ax.get_title() for ax in fig.axes] == ["shift", "scale"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["non-IDC", "IDC"]
    for ax in fig.axes:
        for poly in ax.patches:  # stepfilled: one polygon per class
            xy = poly.get_xy()
            area = np.sum(np.diff(xy[: len(xy) // 2 + 1, 0]) * xy[1: len(xy) // 2 + 1, 1])
            assert area == pytest.approx(1.0, abs=0.05)


def test_class_histograms_integer_columns_get_integer_bins():
    values = np.random.default_rng(0).integers(0, 256, (2000, 1)).astype(np.uint8)
    fig = plots.plot_class_histograms(values, np.zeros(2000, int), bins=40)
    xs = np.unique(fig.axes[0].patches[0].get_xy()[:, 0])
    assert np.allclose(xs % 1, 0.5), "bin edges between whole numbers"
    widths = np.diff(xs)
    assert np.allclose(widths, widths[0]), "every bin holds the same number of integer values"


def test_class_histograms_reject_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        plots.plot_class_histograms(np.zeros((2, 3, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="one per row"):
        plots.plot_class_histograms(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="names must have 2 entries"):
        plots.plot_class_histograms(np.zeros((5, 2)), np.zeros(5), names=["a"])
