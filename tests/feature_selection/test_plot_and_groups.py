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
    matplotlib.pyplot.close("all")


def test_text_highlights_cover_exactly_the_selected_words():
    vocab = np.array(["instruction", "lacking", "manual", "the", "wide"])
    texts = ["The instruction manual is lacking.", "WWW wide iiii lacking"]
    mask = np.array(
        [[False, True, False, False, False], [False, True, False, False, True]]
    )
    ax = plot_text_selection(texts, mask, vocab)
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    boxed = [t for t in ax.texts if t.get_bbox_patch() is not None]
    assert [t.get_text() for t in boxed] == ["lacking", "wide", "lacking"]
    for artist in ax.texts:
        patch = artist.get_bbox_patch()
        if patch is None:
            continue
        word = artist.get_window_extent(renderer)
        cover = patch.get_window_extent(renderer)
        # the box covers the word's rendered extent, and little more
        assert cover.x0 <= word.x0 + 0.5 and cover.x1 >= word.x1 - 0.5
        assert cover.width < word.width + 0.5 * word.height
    # pieces are laid out left to right without overlapping, per line
    for y in {t.get_position()[1] for t in ax.texts}:
        line = sorted(
            (t for t in ax.texts if t.get_position()[1] == y),
            key=lambda t: t.get_position()[0],
        )
        ext = [t.get_window_extent(renderer) for t in line]
        assert all(a.x1 <= b.x0 + 0.5 for a, b in zip(ext, ext[1:]))
        assert "".join(t.get_text() for t in line).replace(" ", "") in {
            s.replace(" ", "") for s in texts
        }
    # a text wider than the axes is cut with an ellipsis
    ax = plot_text_selection(["word " * 200], [[False] * 5], vocab)
    assert ax.texts[-1].get_text() == "..."
    matplotlib.pyplot.close("all")
