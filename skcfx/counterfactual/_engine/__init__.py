"""The tabular search engine, shared by every method.

Where to look:

* ``feature_space.py``: raw pandas columns <-> the coded float matrix every
  search works on (categories as codes, each column's grid and MAD).
* ``constraints.py``: how constraints are enforced (features that may vary,
  permitted ranges and categories, one-direction changes, predicates),
  compiled into per-query admissible boxes.
* ``models.py``: the model adapter (FrozenEstimator, Pipelines,
  ColumnTransformers, model input type, the torch rebuild for gradients,
  in ``differentiable.py``).
* ``oracle.py``: how validity is decided: one batched model call per set of
  candidates, failing rows isolated.
* ``problem.py``: a chunk of queries, per-query random streams and the
  cost function.
* ``candidates.py``: drawing and repairing candidates inside the boxes.
* ``methods/``: the search methods (``random.py``, ``genetic.py``,
  ``kdtree.py``, ``gradient.py``) behind a registry with their defaults
  and fall-backs.
* ``refine.py``, ``sparsity.py``, ``selection.py``: exploration around
  valid candidates, post-hoc sparsity, diverse selection and the final
  ranking.
* ``semifactual.py``: the "even if" search.
"""
