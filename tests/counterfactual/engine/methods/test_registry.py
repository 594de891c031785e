"""The registry of search methods (``_engine/methods/__init__.py``)."""

import numpy as np
import pytest

from skcfx.counterfactual._engine import methods


def test_the_methods_and_their_single_fallback():
    assert methods.registered() == ["exact", "genetic", "gradient", "kdtree", "random"]
    fallback = {name: methods.get(name).fallback for name in methods.registered()}
    assert fallback == {
        "exact": None,
        "genetic": "random",
        "gradient": "random",
        "kdtree": "genetic",
        "random": "genetic",
    }
    with pytest.raises(ValueError, match="Unknown search method 'tabu'"):
        methods.get("tabu")


def test_fallback_runs_once_on_the_empty_queries_only(captured):
    _, problem, *_ = captured
    calls = []

    def first(problem, context, queries, n, rounds):
        calls.append(("first", list(queries), n, rounds))
        d = problem.Zq.shape[1]
        # finds something for query 0 only
        return [
            problem.Zq[:1] if i == 0 else np.zeros((0, d)) for i in range(problem.n)
        ]

    def second(problem, context, queries, n, rounds):
        calls.append(("second", list(queries), n, rounds))
        d = problem.Zq.shape[1]
        return [np.zeros((0, d)) for _ in range(problem.n)]

    methods.register("_first", n_candidates=7, max_rounds=2, fallback="_second")(first)
    methods.register("_second", n_candidates=3, max_rounds=1, fallback="_first")(second)
    try:
        methods.run_search("_first", problem, methods.SearchContext(), max_rounds=5)
    finally:
        methods._REGISTRY.pop("_first")
        methods._REGISTRY.pop("_second")
    feasible = list(np.flatnonzero(problem.bounds.feasible))
    assert calls[0] == ("first", feasible, 7, 5)  # defaults, overridable
    # the fall-back, with its own budget, on the others; never a third search
    assert calls[1] == ("second", [i for i in feasible if i != 0], 3, 1)
    assert len(calls) == 2
