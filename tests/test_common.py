"""scikit-learn's common checks on every public skcfx estimator."""

import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_get_feature_names_out_error,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from skcfx.utils import all_estimators

# Fast settings per estimator class: tiny searches, fixed seeds.
INIT_PARAMS = {
    "CounterfactualExplainer": dict(
        estimator=LogisticRegression(),
        method="random",
        n_counterfactuals=1,
        n_candidates=50,
        max_rounds=3,
        random_state=0,
    ),
}

INIT_PARAMS["L2XSelector"] = dict(
    k=1,
    explainer_hidden_layer_sizes=(8,),
    approximator_hidden_layer_sizes=(8,),
    max_epochs=2,
    batch_size=32,
    random_state=0,
)

INIT_PARAMS["ImageCounterfactualExplainer"] = dict(
    estimator=LogisticRegression(), max_steps=20
)
INIT_PARAMS["TextCounterfactualExplainer"] = dict(
    estimator=make_pipeline(CountVectorizer(), LogisticRegression())
)

INIT_PARAMS["NGramLanguageModel"] = dict()
INIT_PARAMS["TextPerturber"] = dict(random_state=0)
INIT_PARAMS["CounterfactualAugmenter"] = dict(random_state=0)
INIT_PARAMS["ConceptCAV"] = dict(random_state=0)
INIT_PARAMS["StructuralCausalModel"] = dict(graph={"x1": ["x0"]})
INIT_PARAMS["ConceptBottleneck"] = dict(concepts=None, estimator=None)

EXPECTED_FAILED_CHECKS = {
    "CounterfactualExplainer": {},
    "L2XSelector": {},
    "ConceptCAV": {},
    "ConceptBottleneck": {},
    "StructuralCausalModel": {
        "check_fit2d_1feature": (
            "the graph names the columns x0 and x1; fit on a single column "
            "raises a ValueError naming the missing one"
        ),
    },
    "ImageCounterfactualExplainer": {},
    "TextCounterfactualExplainer": {},
    "NGramLanguageModel": {},
    "TextPerturber": {},
    "CounterfactualAugmenter": {},
}


def _instances():
    for name, cls in all_estimators():
        if name not in INIT_PARAMS:
            raise AssertionError(
                f"{name} is a public estimator without INIT_PARAMS in "
                "tests/test_common.py; add fast settings for it."
            )
        yield cls(**INIT_PARAMS[name])


ESTIMATORS = list(_instances())


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _ids(est):
    return type(est).__name__


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_ids)
def test_dataframe_column_names_consistency(estimator):
    pytest.importorskip("pandas")
    if type(estimator).__name__ == "StructuralCausalModel":
        pytest.skip(
            "the check names its columns col_0, col_1, ...; an SCM's graph "
            "names the columns it needs (tested in tests/causal)"
        )
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)


# feature names and set_output concern 2-D output (not the text explainer's
# sentences, which are 1-D like CountVectorizer's input)
TRANSFORMERS = [
    e
    for e in ESTIMATORS
    if hasattr(e, "transform") and get_tags(e).input_tags.two_d_array
]


@pytest.mark.parametrize("estimator", TRANSFORMERS, ids=_ids)
@pytest.mark.parametrize(
    "check",
    [
        check_transformer_get_feature_names_out,
        check_transformer_get_feature_names_out_pandas,
        check_get_feature_names_out_error,
        check_set_output_transform,
        check_set_output_transform_pandas,
    ],
    ids=lambda c: c.__name__,
)
def test_transformer_feature_names_and_set_output(estimator, check):
    check(type(estimator).__name__, estimator)


def test_polars_set_output():
    pl = pytest.importorskip("polars")  # noqa: F841
    from sklearn.utils.estimator_checks import check_set_output_transform_polars

    for est in TRANSFORMERS:
        check_set_output_transform_polars(type(est).__name__, est)
