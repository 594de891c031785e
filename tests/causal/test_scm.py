"""StructuralCausalModel: graph checks, abduction-action-prediction."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skcfx.causal import StructuralCausalModel, topological_order
from skcfx.datasets import make_causal_loan


def _linear_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, n)
    b = 2 * a + rng.normal(0, 0.5, n)
    c = -1 * b + 0.5 * a + rng.normal(0, 0.5, n)
    return pd.DataFrame({"a": a, "b": b, "c": c})


def test_topological_order_puts_parents_first_and_names_cycles():
    order = topological_order({"c": ["b", "a"], "b": ["a"]})
    assert order.index("a") < order.index("b") < order.index("c")
    with pytest.raises(ValueError, match="cycle: .*a.*b.*a|cycle: .*b.*a.*b"):
        topological_order({"a": ["b"], "b": ["a"]})


def test_fit_errors_name_the_problem():
    X = _linear_frame()
    with pytest.raises(ValueError, match=r"columns not in X: \['z'\]"):
        StructuralCausalModel({"b": ["z"]}).fit(X)
    with pytest.raises(ValueError, match="own parent"):
        StructuralCausalModel({"b": ["b"]}).fit(X)
    with pytest.raises(ValueError, match=r"equations given for \['a'\]"):
        StructuralCausalModel({"b": ["a"]}, equations={"a": LinearRegression()}).fit(X)
    with pytest.raises(ValueError, match="cycle"):
        StructuralCausalModel({"b": ["a"], "a": ["b"]}).fit(X)
    Xc = X.assign(g=np.where(X.a > 0, "hi", "lo"))
    with pytest.raises(ValueError, match="must be a classifier"):
        StructuralCausalModel({"g": ["a"]}, equations={"g": LinearRegression()}).fit(Xc)


def test_counterfactual_propagates_with_abducted_noise():
    X = _linear_frame()
    eq = {
        "b": lambda p: 2 * p["a"].to_numpy(),
        "c": lambda p: -p["b"].to_numpy() + 0.5 * p["a"].to_numpy(),
    }
    scm = StructuralCausalModel({"b": ["a"], "c": ["a", "b"]}, equations=eq).fit(X)
    rows = X.iloc[:5]
    before = rows.copy()
    out = scm.counterfactual(rows, {"a": rows.a + 1})
    pd.testing.assert_frame_equal(rows, before)  # the caller's rows untouched
    noise = scm.abduct(rows)
    np.testing.assert_allclose(out.a, rows.a + 1)
    np.testing.assert_allclose(out.b, 2 * out.a + noise.b)
    np.testing.assert_allclose(out.c, -out.b + 0.5 * out.a + noise.c)
    # intervening on b cuts it from a: c moves, a stays
    out = scm.counterfactual(rows, {"b": 0.0})
    np.testing.assert_allclose(out.a, rows.a)
    np.testing.assert_allclose(out.b, 0.0)
    np.testing.assert_allclose(out.c, 0.5 * rows.a + noise.c)
    # no intervention: the rows themselves
    pd.testing.assert_frame_equal(
        scm.counterfactual(rows, {}), rows.astype({"a": float, "b": float, "c": float})
    )


def test_learned_linear_scm_recovers_the_effects():
    X = _linear_frame(4000)
    scm = StructuralCausalModel({"b": ["a"], "c": ["a", "b"]}).fit(X)
    rows = X.iloc[:20]
    out = scm.counterfactual(rows, {"a": rows.a + 1})
    np.testing.assert_allclose(out.b - rows.b, 2, atol=0.05)
    np.testing.assert_allclose(out.c - rows.c, -2 + 0.5, atol=0.1)
    assert set(scm.noise_scale_) == {"b", "c"}
    assert scm.noise_scale_["b"] == pytest.approx(0.5, rel=0.1)


def test_dataframe_interventions_and_categorical_nodes():
    rng = np.random.default_rng(1)
    n = 600
    a = rng.normal(0, 1, n)
    g = np.where(a > 0, "high", "low").astype(object)
    g[:20] = np.where(a[:20] > 0, "low", "high")  # rows against the mechanism
    X = pd.DataFrame({"a": a, "g": g, "d": (g == "high") * 3.0 + rng.normal(0, 1, n)})
    scm = StructuralCausalModel(
        {"g": ["a"], "d": ["g"]},
        equations={"g": DecisionTreeClassifier(max_depth=1, random_state=0)},
    ).fit(X)
    assert scm.categorical_ == ["g"]
    V = pd.DataFrame(np.nan, index=X.index, columns=X.columns)
    V["a"] = np.where(X.a > 0, -2.0, 2.0)  # a to the other side of 0
    out = scm.counterfactual(X, V)
    follows = scm.abduct(X)["g"].to_numpy()
    assert (~follows[:20]).all() and follows[20:].all()
    # rows that followed the mechanism flip their category, the others keep it
    flipped = out.g.to_numpy() != X.g.to_numpy()
    assert flipped[20:].all() and not flipped[:20].any()
    # and d follows g through its one-hot linear equation
    moved = np.abs(out.d - X.d) > 1
    np.testing.assert_array_equal(moved.to_numpy(), flipped)


def test_interventions_errors():
    X = _linear_frame()
    scm = StructuralCausalModel({"b": ["a"]}).fit(X)
    with pytest.raises(ValueError, match="'zz', not a column"):
        scm.counterfactual(X.iloc[:2], {"zz": 1})
    with pytest.raises(ValueError, match="3 values for 2 rows"):
        scm.counterfactual(X.iloc[:2], {"a": [1, 2, 3]})
    with pytest.raises(TypeError, match="dict"):
        scm.counterfactual(X.iloc[:2], [1, 2])


def test_arrays_get_positional_names():
    X = _linear_frame().to_numpy()
    scm = StructuralCausalModel({"x1": ["x0"]}).fit(X)
    out = scm.counterfactual(X[:3], {"x0": 0.0})
    assert list(out.columns) == ["x0", "x1", "x2"]


def test_causal_loan_truth_and_pickle():
    X, y, scm = make_causal_loan(3000, random_state=0)
    assert set(np.unique(y)) == {0, 1}
    noise = scm.abduct(X)
    # the noise of the known equations has the documented scales
    assert noise["education"].std() == pytest.approx(1.5, rel=0.1)
    assert noise["income"].std() == pytest.approx(6.0, rel=0.1)
    assert noise["savings"].std() == pytest.approx(4.0, rel=0.1)
    back = pickle.loads(pickle.dumps(scm))
    rows = X.iloc[:10]
    pd.testing.assert_frame_equal(
        back.counterfactual(rows, {"education": 16.0}),
        scm.counterfactual(rows, {"education": 16.0}),
    )
    out = scm.counterfactual(rows, {"education": rows.education + 2})
    np.testing.assert_allclose(out.income - rows.income, 8.0)
    np.testing.assert_allclose(out.savings - rows.savings, 4.8)


def test_default_equations_encode_categorical_parents():
    X, _, _ = make_causal_loan(2000, random_state=1)
    graph = {"education": ["gender", "age"], "income": ["gender", "education"]}
    scm = StructuralCausalModel(graph).fit(X)
    out = scm.counterfactual(X.iloc[:50], {"gender": "male"})
    female = (X.gender.iloc[:50] == "female").to_numpy()
    # men earn more in this world: switching gender raises education
    assert (out.education.to_numpy()[female] > X.education.iloc[:50][female]).all()
    assert np.allclose(
        out.education.to_numpy()[~female], X.education.iloc[:50][~female]
    )
    assert isinstance(scm.equations_["education"][-1], LinearRegression)
    assert not isinstance(scm.equations_["education"], LogisticRegression)


def test_missing_values_fit_and_propagate_from_the_completed_row():
    # data with missing values raised "Input y contains NaN" from inside an
    # equation's fit; now: each equation on its observed rows, a missing
    # node filled by its equation before the others' noise is abducted
    from sklearn.ensemble import HistGradientBoostingRegressor

    from skcfx import CounterfactualExplainer

    rng = np.random.default_rng(0)
    n = 2000
    years = rng.integers(0, 30, n).astype(float)
    skill = 0.2 * years + rng.normal(0, 1, n)
    income = 10 + 5 * skill + rng.normal(0, 3, n)
    X = pd.DataFrame({"years": years, "skill": skill, "income": income})
    gone = rng.random(n) < 0.1
    X.loc[gone, "skill"] = np.nan
    X.loc[rng.random(n) < 0.05, "years"] = np.nan
    scm = StructuralCausalModel({"skill": ["years"], "income": ["skill"]}).fit(X)
    assert scm.equations_["skill"].coef_[0] == pytest.approx(0.2, abs=0.02)
    assert scm.equations_["income"].coef_[0] == pytest.approx(5, abs=0.2)
    rows = X[gone & X.years.notna()].head(20)
    after = scm.counterfactual(rows, {"years": rows.years + 5})
    # skill filled (0.2 per year above its equation's value), income moved
    # by the effect of the intervention only (its own noise kept)
    fitted = scm.equations_["skill"].predict(rows[["years"]] + 5)
    np.testing.assert_allclose(after.skill, fitted)
    np.testing.assert_allclose(after.income - rows.income, 5 * 0.2 * 5, atol=0.3)
    untouched = scm.counterfactual(rows, {"income": rows.income + 1})
    assert untouched.skill.isna().all()  # nothing reaches it: stays missing
    assert rows.skill.isna().all()  # the caller's frame unchanged
    # an equation that takes missing values is fitted on every observed node
    hgb = StructuralCausalModel(
        {"income": ["skill"]}, equations={"income": HistGradientBoostingRegressor()}
    ).fit(X)
    assert hgb.equations_["income"].n_features_in_ == 1
    # a missing parent without parents of its own: the node keeps its value
    parentless = X[X.years.isna() & X.skill.notna()].head(5)
    kept = scm.counterfactual(parentless, {"income": parentless.income})
    np.testing.assert_array_equal(kept.skill, parentless.skill)
    # in the explainer: recourse for rows with missing values
    y = (X.income > 30).astype(int)
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X, y)
    cfx = CounterfactualExplainer(
        model, scm=scm, features_to_vary=["years"], random_state=0
    ).fit(X, y)
    q = X[(model.predict(X) == 0) & X.skill.isna() & X.years.notna()].head(4)
    expl = cfx.explain(q)
    frame = expl.to_frame()
    assert expl.summary["coverage"] == 1.0
    assert expl.valid.all() and (model.predict(frame[X.columns]) == 1).all()
    assert frame.skill.notna().all()  # filled below the intervention on years
    with pytest.raises(ValueError, match="No row of X has 'skill' and its parents"):
        StructuralCausalModel({"skill": ["years"]}).fit(X.assign(skill=np.nan))
