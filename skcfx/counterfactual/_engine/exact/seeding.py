"""Seeds for the heuristic searches from an exact program.

The genetic search starts from each query's optimum of a program the
exact search can solve: the model's own when it reads the model (a linear
model, where the seed is the exact answer; a tree ensemble within a
budget), else, for a tree ensemble, a depth-6 decision tree surrogate
fitted in ``fit`` on the model's own predictions over the training rows.
A linear model's MILP is solved per query in milliseconds; a tree
ensemble is seeded with its own branch and bound, cut off after ``_WORK``
leaf tests (a deterministic budget: the optimum of most queries, else the
cheapest candidate queued), when it has at most ``_MAX_LEAVES`` leaves,
the table at most ``_MAX_COLUMNS`` columns and its distinct split values
times its leaves (the per-query set-up) are at most ``_MAX_SETUP``; a
larger one, or one it cannot read (behind other preprocessing), by the
tree surrogate, whose leaves seed every query at once
(:class:`~skcfx.counterfactual._engine.exact.leaf_boxes.LeafBoxes`). Seeds
join the first population unverified: the search repairs them against the
real model. This closes most of the gap between the heuristic and the
optimum that the exact method measures. Where the model's own program
has no row at all (proved, within the budget), the query has no
counterfactual: it is marked ``proved_infeasible`` and not searched
(not with an SCM, whose consequences the program does not model).

Other models (networks, kernel machines, neighbours) get no program
seeds: the nearest desired-outcome training rows seed their search. A
logistic (or ridge) surrogate's per-query MILP used to seed them; on
eight such models (wine, Adult and breast cancer networks, a breast
cancer SVC, diabetes network and neighbours regressors) explain took
1.8-3.5 times as long with it, and its answers were no better on balance
(the fixed-ruler score without it from 3.3% lower to 6% higher;
``benchmarks/bench_seeds.py`` and ``bench_gradient_vs_genetic.py``,
``doc/benchmarks.rst``, "Seeds of the genetic search").
"""

import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx.counterfactual._engine.exact.encoding import InputMap
from skcfx.counterfactual._engine.exact.ensembles import (
    is_tree_ensemble,
    n_leaves,
    n_split_values,
)
from skcfx.counterfactual._engine.exact.leaf_boxes import LeafBoxes
from skcfx.counterfactual._engine.models import unwrap

__all__ = ["SurrogateSeeder"]

_MAX_ROWS = 20_000
# seconds per query and program: a safety cap, not the working limit. A
# linear model's MILP is solved to optimality well within it (breast
# cancer's 30 columns, logistic: at most 0.37 s on a slow run), so the seed,
# and with it the answer, does not depend on the machine's speed; at 0.2 s,
# 8-18 of 60 such solves stopped at the limit, at a different point in each
# run, and two explains with the same random_state differed
_TIME_LIMIT = 2.0
# leaf tests (child states x leaves) a tree search (the model's own, or a
# tree surrogate's) may make per query: a deterministic budget, not a time
# limit (about 256 expanded states of the Adult forest)
_WORK = 100_000_000
# a larger ensemble, or a wider table, is seeded by surrogates: setting up
# its own search per query (a leaf mask per column option) and expanding a
# state (one child per option) would cost more than the genetic search
_MAX_LEAVES = 20_000
_MAX_COLUMNS = 16
# and its per-query set-up (a leaf mask per distinct split value) stays
# small: distinct split values x leaves (a 100-tree forest with
# min_samples_leaf=5 on 5 continuous columns: 10,299 x 16,725, 2.4 s of
# set-up per query; the 50-tree depth-6 Adult forest: 185 x 2,740)
_MAX_SETUP = 10_000_000
# a logistic (ridge) surrogate's per-query MILP for the models that are
# neither linear nor tree ensembles: off (explain took 1.8-3.5x as long
# for no better answers, see the module docstring); benchmarks/
# bench_seeds.py turns it on to compare
_LINEAR_SURROGATE = False


class _Predictor:
    """A surrogate's predictions on coded rows."""

    def __init__(self, surrogate, space):
        self.surrogate, self.space = surrogate, space

    def __call__(self, Z):
        return self.surrogate.predict(self.space.decode(Z))


def _final_step(model):
    """The last estimator of a (frozen) Pipeline, or the model itself."""
    model = unwrap(model)
    while hasattr(model, "steps"):
        model = unwrap(model.steps[-1][1])
    return model


def _is_trees(head):
    """Whether the model's last step is a tree model (the tree surrogate
    seeds it where its own program is not taken)."""
    return is_tree_ensemble(head)


def _tree(regression, seed):
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeRegressor if regression else DecisionTreeClassifier
    return cls(max_depth=6, min_samples_leaf=20, random_state=seed)


class SurrogateSeeder:
    """Per query, the optima of the seed programs: the model itself when
    the exact search reads it (a linear model, or a tree ensemble within a
    budget), else, for a tree ensemble, a depth-6 decision tree surrogate
    fitted on the model's predictions (``models`` is empty for any other
    model, or when no surrogate could be built; ``exact`` is the first).

    Parameters
    ----------
    model : fitted estimator
    space : FeatureSpace
    Z : ndarray (n_train, d)
        Coded training rows.
    group : ndarray (n_train,)
        The model's predicted class index (classification) of each row.
    task : {"classification", "regression"}
    prediction : ndarray or None
        The model's predictions (regression).
    seed : int
    """

    def __init__(self, model, space, Z, group, task, prediction=None, seed=0):
        from skcfx.counterfactual._engine.methods.exact import ExactModel

        self.models, self.budgets = [], []
        self.own = False  # the first program is the model's own
        # per model, a single-tree surrogate's leaves as boxes and its
        # predictions on coded rows: all queries' seeds at once (None: one
        # search per query)
        self.batched = []
        head = None
        try:
            head = InputMap(model, space).head
            small = not is_tree_ensemble(head) or (
                n_leaves(head) <= _MAX_LEAVES
                and space.n_features <= _MAX_COLUMNS
                and n_split_values(head) * n_leaves(head) <= _MAX_SETUP
            )
            if small:  # the model itself (a large ensemble is not even read)
                self.own = True
                self.models.append(ExactModel(model, space, Z[0]))
                self.budgets.append(_WORK)
                self.batched.append(None)
        except TypeError:  # UnsupportedModelError and encoders it cannot read
            pass  # another model
        # a tree ensemble the exact search does not take gets a shallow tree
        # surrogate (on the README's forest a linear one as well cost a
        # quarter of the explain time for the same answers); other models
        # none (see the module docstring), unless _LINEAR_SURROGATE
        trees = _is_trees(head if head is not None else _final_step(model))
        kinds = ("tree",) if trees else ("linear",) if _LINEAR_SURROGATE else ()
        if not self.models and not np.isnan(Z[:, space.numeric]).any():
            for kind in kinds:
                try:
                    surrogate = self._fit(space, Z, group, task, prediction, seed, kind)
                    if surrogate is not None:
                        exact = ExactModel(surrogate, space, Z[0])
                        self.models.append(exact)
                        self.budgets.append(_WORK)
                        one_tree = (
                            exact.kind == "trees" and len(exact.head.tree_start) == 1
                        )
                        self.batched.append(
                            (
                                LeafBoxes(exact.head, exact.input_map, space),
                                _Predictor(surrogate, space),
                            )
                            if one_tree
                            else None
                        )
                except (TypeError, ValueError):
                    pass  # seeds only speed the search up
        self.exact = self.models[0] if self.models else None

    @staticmethod
    def _fit(space, Z, group, task, prediction, seed, kind):
        rows = np.random.default_rng(seed).permutation(len(Z))[:_MAX_ROWS]
        frame = space.decode(Z[rows])
        names = space.names
        steps = [("num", StandardScaler(), [names[j] for j in space.numeric])]
        cat = [names[j] for j in space.categorical]
        if cat:
            steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), cat))
        if task == "regression":
            y = prediction[rows]
            head = Ridge(alpha=1.0) if kind == "linear" else _tree(True, seed)
        else:
            y = group[rows]
            head = (
                LogisticRegression(C=1.0, max_iter=500)
                if kind == "linear"
                else _tree(False, seed)
            )
            present = np.unique(y)
            # the surrogate's class positions must be the model's indices
            if len(present) < 2 or not np.array_equal(
                present, np.arange(group.max() + 1)
            ):
                return None
        surrogate = Pipeline([("prep", ColumnTransformer(steps)), ("clf", head)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence on odd data
            surrogate.fit(frame, y)
        return surrogate

    def prove(self, problem, queries):
        """Mark the complete ``queries`` that the model's own linear program
        proves hopeless (per-column bounds of its scores; microseconds per
        query) in ``problem.proved_infeasible``; nothing for a surrogate, a
        tree ensemble (proved, within its budget, while seeding) or with an
        SCM."""
        from skcfx.counterfactual._engine.methods.exact import unreachable_linear

        exact = self.exact
        if exact is None or not getattr(self, "own", False) or exact.kind != "linear":
            return
        if problem.oracle.scm is not None:
            return
        queries = np.asarray(queries)
        queries = queries[~problem.space.missing_rows(problem.Zq[queries])]
        hopeless = unreachable_linear(exact, problem, queries)
        problem.proved_infeasible[queries[hopeless]] = True

    def prove_programs(self, problem, queries):
        """Mark the complete ``queries`` that the model's own tree program
        proves hopeless (its branch and bound, within the seeding budget),
        for the searches that do not seed from it (random, kd-tree): a query
        they found nothing for is then "infeasible under constraints", not
        "unreachable within budget". Nothing for a linear model (``prove``
        did it), a surrogate or with an SCM. The seeding itself marks them
        (its rows are not needed here)."""
        exact = self.exact
        if exact is None or not getattr(self, "own", False) or exact.kind != "trees":
            return
        if problem.oracle.scm is None and len(queries):
            self.seeds(problem, np.asarray(queries, dtype=int))

    def seeds(self, problem, queries):
        """``(q, n_models, d)`` rows: each query's surrogate optima (the
        query itself, repaired into its box, where a program has no
        solution); ``(q, 0, d)`` without surrogates."""
        from skcfx.counterfactual._engine.candidates import project
        from skcfx.counterfactual._engine.exact.tree_search import option_inputs
        from skcfx.counterfactual._engine.methods.exact import (
            solve_unverified,
            unreachable_linear,
        )

        queries = np.asarray(queries)
        out = np.repeat(problem.Zq[queries][:, None, :], len(self.models), 1)
        # programs take complete rows: a query with a missing value keeps
        # its own row (its search fills or keeps the value)
        complete = ~problem.space.missing_rows(problem.Zq[queries])
        for m, (exact, budget) in enumerate(zip(self.models, self.budgets)):
            batched = getattr(self, "batched", None)  # None: pickled before it
            if batched and batched[m] is not None:  # one tree: all queries at once
                boxes, predict = batched[m]
                rows = np.flatnonzero(complete)
                if len(rows):
                    out[rows, m], _ = boxes.seeds(problem, queries[rows], predict)
                continue
            inputs = {}
            if exact.kind == "trees" and complete.any():  # once for the batch
                inputs = option_inputs(
                    exact.head, exact.input_map, problem, queries[complete]
                )
            own = m == 0 and getattr(self, "own", False)
            # a linear program's hopeless queries, proved at once (no seed)
            hopeless = np.zeros(len(queries), dtype=bool)
            hopeless[complete] = unreachable_linear(exact, problem, queries[complete])
            for r, i in enumerate(queries):
                if not complete[r]:
                    continue
                if hopeless[r]:
                    if own and problem.oracle.scm is None:
                        problem.proved_infeasible[i] = True
                    continue
                row, proved = solve_unverified(
                    exact, problem, i, _TIME_LIMIT, budget, inputs.get(i), proof=True
                )
                if row is not None:
                    out[r, m] = row
                # the model's own program has no row at all: no search can
                # find one (constraints the program leaves out, predicates
                # and plausibility, only remove rows; with an SCM a row's
                # consequences differ, so nothing is proved there)
                if own and proved and problem.oracle.scm is None:
                    problem.proved_infeasible[i] = True
        # a query without a surrogate solution keeps its own row: repaired
        # into its admissible box like every candidate (a permitted range may
        # exclude the query's value)
        return project(out, problem.bounds, problem.space, queries, np.zeros_like(out))
