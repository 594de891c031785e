"""The search methods, one module each, behind one registry.

A method is a function ``search(problem, context, queries, n_candidates,
max_rounds) -> pools`` (valid candidates per query of the problem) that
registers itself with its default budget and its fall-back with
:func:`register`. :func:`run_search` runs a method on every feasible query,
then its fall-back, once, on the queries it found nothing for (and could
still reach), so every method has exactly one second chance:

========== ============== ========== ==========
method     n_candidates   max_rounds fall-back
========== ============== ========== ==========
random     60             25         genetic
genetic    100            40         random
kdtree     100            3          genetic
gradient   (all at once)  200        random
exact      (MILP / B&B)   (solver)   none
========== ============== ========== ==========
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["SearchContext", "get", "register", "registered", "run_search"]


@dataclass(frozen=True)
class Method:
    """A registered search method and its defaults."""

    name: str
    search: Callable
    n_candidates: int | None
    max_rounds: int
    fallback: str | None
    finalize: bool = True


@dataclass
class SearchContext:
    """What a method may need besides the problem, learned in ``fit``.

    Attributes
    ----------
    index : TrainingIndex or None
        KD-trees of the training rows per predicted outcome (kdtree search,
        the genetic method's seeds).
    module : torch module or None
        The model as a torch function of the coded space (gradient search).
    exact : ExactModel or None
        The model read as linear constraints (exact search).
    time_limit : float
        Seconds per query of the exact search.
    seeder : SurrogateSeeder or None
        The linear surrogate whose optima seed the genetic search.
    """

    index: object = None
    module: object = None
    exact: object = None
    time_limit: float = 10.0
    seeder: object = None


_REGISTRY = {}


def register(name, *, n_candidates, max_rounds, fallback, finalize=True):
    """Decorator registering a search function under ``name``
    (``finalize=False``: its pools are already the ranked counterfactuals,
    not candidates for the shared exploration, sparsity and diverse
    selection)."""

    def decorator(search):
        _REGISTRY[name] = Method(
            name, search, n_candidates, max_rounds, fallback, finalize
        )
        return search

    return decorator


def _load():
    # the modules register themselves on import
    from skcfx.counterfactual._engine.methods import (  # noqa: F401
        exact,
        genetic,
        gradient,
        kdtree,
        random,
    )


def registered():
    """Names of the registered methods."""
    _load()
    return sorted(_REGISTRY)


def get(name):
    """The registered method ``name`` (a ValueError naming the known ones)."""
    _load()
    if name not in _REGISTRY:
        raise ValueError(f"Unknown search method {name!r}; known: {registered()}.")
    return _REGISTRY[name]


def run_search(name, problem, context, *, n_candidates=None, max_rounds=None):
    """Run method ``name`` on every feasible query of ``problem``, then its
    fall-back (with the fall-back's own default budget) on the queries it
    found nothing for and that are not known to be unreachable.

    Returns
    -------
    pools : list of ndarray
        Valid candidates per query.
    """
    method = get(name)
    queries = np.flatnonzero(problem.bounds.feasible)
    seeder = getattr(context, "seeder", None)
    if seeder is not None and len(queries):
        # a linear model's hopeless queries, proved from its own scores
        # before any search (every heuristic method alike)
        seeder.prove(problem, queries)
        queries = queries[~problem.proved_infeasible[queries]]
    pools = method.search(
        problem,
        context,
        queries,
        n_candidates or method.n_candidates,
        max_rounds or method.max_rounds,
    )
    if seeder is not None and name != "genetic":
        # a small tree ensemble's own program proves what the search did not
        # find (the genetic search proved it while seeding)
        missed = [i for i in queries if len(pools[i]) == 0]
        if missed:
            seeder.prove_programs(problem, missed)
    empty = np.array(
        [
            i
            for i in queries
            if len(pools[i]) == 0
            and not (problem.unreachable[i] or problem.proved_infeasible[i])
        ],
        dtype=int,
    )
    if len(empty) and method.fallback is not None:
        second = get(method.fallback)
        extra = second.search(
            problem, context, empty, second.n_candidates, second.max_rounds
        )
        for i in empty:
            pools[i] = extra[i]
    return pools
