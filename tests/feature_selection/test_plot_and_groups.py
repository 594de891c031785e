"""Patch groups, highlighted words and the selection plots."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skcfx.feature_selection import (
    highlight_words,
    image_patch_groups,
    plot_image_selection,
    plot_text_selection,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_patch_groups_tile_the_image():
    groups = image_patch_groups((8, 8), (2, 2))
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    assert_array_equal(np.sort(np.concatenate(groups)), np.arange(64))
    assert groups[0] == [0, 1, 8, 9] and groups[-1] == [54, 55, 62, 63]
    with pytest.raises(ValueError, match="must tile image_shape"):
        image_patch_groups((8, 8), (3, 3))


def test_highlight_words_marks_only_selected_vocabulary():
    vocab = np.array(["bad", "food", "great", "service"])
    mask = np.array([[False, False, True, True], [True, False, False, False]])
    texts = ["Great food, great service!", "Bad <b>food</b>"]
    out = highlight_words(texts, mask, vocab)
    assert out == ["[Great] food, [great] [service]!", "[Bad] <b>food</b>"]
    html_out = highlight_words(texts, mask, vocab, style="html")
    assert html_out[1] == "<mark>Bad</mark> &lt;b&gt;food&lt;/b&gt;"
    with pytest.raises(ValueError, match="mask has 2 rows but 1 texts"):
        highlight_words(texts[:1], mask, vocab)
    with pytest.raises(ValueError, match="feature_names has 3"):
        highlight_words(texts, mask, vocab[:3])


def test_plots_draw_the_selection():
    rng = np.random.RandomState(0)
    images = rng.random_sample((3, 64))
    mask = np.zeros((3, 64), dtype=bool)
    mask[:, :4] = True
    axes = plot_image_selection(images, mask, titles=["a", "b", "c"])
    assert len(axes) == 3 and axes[0].get_title() == "a"
    overlay = axes[0].get_images()[1].get_array()
    assert overlay.shape == (8, 8, 4) and overlay[0, 0, 3] > 0 and overlay[7, 7, 3] == 0
    with pytest.raises(ValueError, match="not square"):
        plot_image_selection(images[:, :60], mask[:, :60])
    ax = plot_text_selection(["good food"], [[True, False]], ["good", "food"])
    assert ax.texts[0].get_text() == "good food"
    assert len(ax.patches) == 1  # one highlighted word
    matplotlib.pyplot.close("all")
