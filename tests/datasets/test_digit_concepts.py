"""Programmatic digit concepts: drawn where labelled, nowhere else."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skcfx.datasets import DIGIT_CONCEPTS, add_digit_concept, make_digit_concepts


def test_concepts_are_drawn_where_labelled():
    d = make_digit_concepts(concept_rate=0.5, random_state=0)
    assert d.data.shape == (1797, 64) and list(d.concepts.columns) == list(
        DIGIT_CONCEPTS
    )
    corner = d.images[:, :2, :2].min(axis=(1, 2))
    labelled = d.concepts["corner_patch"].to_numpy() == 1
    faint = d.concepts["faint"].to_numpy() == 1
    assert np.all(corner[labelled & ~faint] == 16)
    assert np.all(corner[labelled & faint] == 8)
    assert np.all(d.data >= 0) and np.all(d.data <= 16)
    assert abs(labelled.mean() - 0.5) < 0.05
    again = make_digit_concepts(concept_rate=0.5, random_state=0)
    assert_array_equal(d.data, again.data)


def test_add_concept_copies_and_thickens():
    img = np.zeros((1, 64))
    img[0, 3 * 8 + 3] = 16
    thick = add_digit_concept(img, "thick_stroke")
    assert img.sum() == 16  # input untouched
    assert (thick > 0).sum() == 4
    bar = add_digit_concept(img.reshape(1, 8, 8), "bottom_bar")
    assert bar.shape == (1, 8, 8) and np.all(bar[0, 7, 1:7] == 16)
    with pytest.raises(ValueError, match="concept='halo' is not one of"):
        add_digit_concept(img, "halo")
    with pytest.raises(ValueError, match="concepts holds 'halo'"):
        make_digit_concepts(concepts=["halo"])
