"""Concept plots draw what the results hold."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_concept_plots():
    import pandas as pd
    from sklearn.utils import Bunch

    from skcfx.concepts import plot_cce_weights, plot_concept_scores, plot_tcav

    ax = plot_concept_scores([0.5, -1.0], ["a", "b"])
    assert len(ax.patches) == 2
    frame = pd.DataFrame(
        {
            "tcav_mean": [0.9, 0.5],
            "tcav_std": [0.05, 0.1],
            "random_mean": 0.5,
            "random_std": 0.1,
            "significant": [True, False],
        },
        index=["a", "b"],
    )
    ax = plot_tcav(Bunch(frame=frame))
    assert [t.get_text() for t in ax.texts] == ["*"]
    res = Bunch(
        weights=np.array([[0.0, 2.0, -1.0]]),
        concept_names=["a", "b", "c"],
        success=np.array([True]),
    )
    ax = plot_cce_weights(res, 0, top=2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c"]
    assert ax.get_xlabel().startswith("concept weight")
    matplotlib.pyplot.close("all")
