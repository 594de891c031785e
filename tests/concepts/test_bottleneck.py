"""ConceptBottleneck: one estimator, concept labels routed as fit metadata."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from skcfx.concepts import ConceptBottleneck, ConceptCAV
from skcfx.exceptions import SkcfxWarning


@pytest.fixture(scope="module")
def concept_data():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(400, 10))
    C = pd.DataFrame(
        {"striped": (A[:, 0] > 0).astype(float), "round": (A[:, 1] > 0).astype(float)}
    )
    # a third of the labels are unknown (NaN)
    C.loc[rng.rand(400) < 0.3, "round"] = np.nan
    y = ((A[:, 0] > 0) & (A[:, 1] > 0)).astype(int)  # both concepts present
    return A, y, C


def test_fits_in_one_call_on_the_users_concepts(concept_data):
    A, y, C = concept_data
    cbm = ConceptBottleneck(ConceptCAV(random_state=0)).fit(A, y, concept_labels=C)
    assert cbm.concept_names_.tolist() == ["striped", "round"]
    assert cbm.transform(A).shape == (400, 2)
    assert cbm.score(A, y) > 0.85
    # the model sees concept scores only: its coefficients are per concept
    assert cbm.estimator_.coef_.shape == (1, 2)
    assert (cbm.estimator_.coef_ > 0).all()
    clone(cbm)  # clones


def test_cross_validates_with_routed_concept_labels(concept_data):
    A, y, C = concept_data
    cbm = ConceptBottleneck(ConceptCAV(random_state=0))
    # default (no routing configuration): fit parameters are sliced per fold
    grid = GridSearchCV(
        cbm, {"concepts__method": ["svm", "mean_difference"]}, cv=3
    ).fit(A, y, concept_labels=C)
    assert grid.best_score_ > 0.8
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(cbm).set_fit_request(concept_labels=True)
        scores = cross_val_score(routed, A, y, cv=3, params={"concept_labels": C})
        assert scores.min() > 0.8
        # without the request, scikit-learn refuses, naming the parameter
        with pytest.raises(Exception, match="concept_labels"):
            cross_val_score(clone(cbm), A, y, cv=3, params={"concept_labels": C})


def test_without_concept_labels_warns_and_names_them(concept_data):
    A, y, _ = concept_data
    with pytest.warns(SkcfxWarning, match="concept_labels"):
        cbm = ConceptBottleneck().fit(A, y)
    assert cbm.concept_names_.tolist() == ["concept0"]  # the class itself
    with pytest.raises(ValueError, match="concept_labels has 3 rows"):
        ConceptBottleneck().fit(A, y, concept_labels=np.ones((3, 2)))


def test_frozen_concepts_need_no_labels(concept_data):
    from sklearn.frozen import FrozenEstimator

    A, y, C = concept_data
    cav = ConceptCAV(random_state=0).fit(A, C)
    cbm = ConceptBottleneck(FrozenEstimator(cav)).fit(A, y)
    np.testing.assert_allclose(cbm.transform(A), cav.transform(A))
