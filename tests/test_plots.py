"""Figure helpers: the numbers they compute and the panels they draw."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tconv_lib as tl  # noqa: E402
from tconv_lib import article, plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


ARTICLE_X, ARTICLE_W = article.Y, article.W2


def test_scatter_partials_on_the_article_example():
    partials, footprints = plots.scatter_partials(ARTICLE_X, ARTICLE_W)
    assert partials.shape == footprints.shape == (2, 2, 3, 3)
    np.testing.assert_array_equal(partials[0, 1], [[0, 52, 104], [0, 104, 52], [0, 0, 0]])
    np.testing.assert_array_equal(partials.sum(axis=(0, 1)), [[55, 162, 104], [167, 323, 152], [114, 157, 50]])
    np.testing.assert_array_equal(footprints[1, 0], [[0, 0, 0], [1, 1, 0], [1, 1, 0]])


@pytest.mark.parametrize("strides, padding", [(1, "valid"), (2, "valid"), (3, "valid"), (2, "same"), ((2, 1), "same")])
def test_scatter_partials_add_up_to_the_transposed_convolution(strides, padding):
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    partials, footprints = plots.scatter_partials(x, kernel, strides, padding)
    expected = tl.conv2d_transpose(x[None, :, :, None], kernel[:, :, None, None], strides=strides,
                                   padding=padding)[0, :, :, 0]
    np.testing.assert_allclose(partials.sum(axis=(0, 1)), expected, atol=1e-12)
    # Every cell outside a pixel's footprint gets nothing from that pixel.
    assert not np.any(partials[~footprints])
    counts = tl.overlap_count((3, 4), (3, 2), strides, padding)
    np.testing.assert_array_equal(footprints.sum(axis=(0, 1)), counts)


def test_scatter_partials_rejects_multichannel_input():
    with pytest.raises(ValueError, match=r"x must have 2 dimensions \(H, W\)"):
        plots.scatter_partials(np.ones((1, 2, 2, 1)), ARTICLE_W)
    with pytest.raises(ValueError, match=r"kernel must have 2 dimensions \(kh, kw\)"):
        plots.scatter_partials(ARTICLE_X, np.ones((2, 2, 1, 1)))


def test_number_grid_writes_every_value_and_rejects_non_grids():
    fig, (ax, scale_10, scale_20) = plt.subplots(1, 3)
    plots.number_grid(ax, [[0, 1], [4, 8]])
    assert {t.get_text(): t.get_color() for t in ax.texts} == {"0": "black", "1": "black", "4": "black",
                                                               "8": "white"}  # white on dark cells
    # With a colour scale given, the text colour follows that scale, not the values' range.
    plots.number_grid(scale_10, [[0, 1], [4, 8]], vmin=0, vmax=10)
    assert [t.get_color() for t in scale_10.texts] == ["black", "black", "black", "white"]
    plots.number_grid(scale_20, [[0, 1], [4, 8]], vmin=0, vmax=20)
    assert {t.get_color() for t in scale_20.texts} == {"black"}
    with pytest.raises(ValueError, match=r"values must have 2 dimensions \(H, W\)"):
        plots.number_grid(ax, [1, 2, 3])


def test_scatter_steps_draws_one_panel_per_pixel_and_the_sum():
    fig = plots.scatter_steps(ARTICLE_X, ARTICLE_W)
    axes = fig.get_axes()
    assert len(axes) == 5
    titles = [" ".join(ax.get_title().split()) for ax in axes]  # long titles are wrapped
    assert titles[0] == "pixel (0, 0): 55 \u00d7 W" and titles[-1] == "sum"
    assert [t.get_text() for t in axes[-1].texts][4] == "323"  # centre cell of the sum
    assert len(axes[1].patches) == 4 and len(axes[-1].patches) == 0  # footprint outlined, sum not


def test_number_grids_sizes_panels_by_columns_and_rejects_non_grids():
    fig = plots.number_grids([np.zeros((2, 2)), np.zeros((4, 8))], ["a", "b"])
    small, large = (ax.get_position().width for ax in fig.get_axes())
    assert large == pytest.approx(4 * small, rel=0.05)
    with pytest.raises(ValueError, match="2-D arrays"):
        plots.number_grids([np.zeros((2, 2, 1))])
    with pytest.raises(ValueError, match="2-D arrays"):
        plots.number_grids([])


def test_image_grid_lays_out_rows_and_hides_empty_cells():
    images = [np.zeros((4, 6)), np.ones((4, 6, 1)), np.full((4, 6, 3), 0.5)]
    fig = plots.image_grid(images, ["zeros", "ones", "grey"], ncols=2)
    axes = fig.get_axes()
    assert len(axes) == 4 and [ax.get_title() for ax in axes[:3]] == ["zeros", "ones", "grey"]
    assert len(axes[3].images) == 0
    assert axes[1].images[0].get_array().shape == (4, 6)  # the channel axis of one channel dropped


@pytest.mark.parametrize("bad", [[], [np.zeros(4)], [np.zeros((4, 4, 2))], [np.zeros((1, 4, 4, 1))]])
def test_image_grid_rejects_what_is_not_an_image(bad):
    with pytest.raises(ValueError, match=r"images must be a non-empty sequence of \(H, W\)"):
        plots.image_grid(bad)


def test_feature_map_sizes_draws_one_block_per_layer():
    fig, ax = plt.subplots()
    plots.feature_map_sizes(ax, [("in", (64, 64, 3)), ("pool", (32, 32, 8)), ("up", (64, 64, 8))])
    heights = [p.get_height() for p in ax.patches]
    assert heights == [64, 32, 64]
    assert "32x32\nx8" in [t.get_text() for t in ax.texts]
