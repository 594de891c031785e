"""Provably optimal counterfactuals: the explainer's cost minimised exactly.

For a linear model behind representable preprocessing, the model is a
linear function of the coded row, so the closest counterfactual under the
explainer's own cost is a mixed-integer linear program (MILP), solved by
HiGHS through :func:`scipy.optimize.milp`. A tree ensemble depends on each
column only through the side of its thresholds, so its optimum is found by
a best-first branch and bound over those intervals (a MILP of the forest
vote has a weak relaxation: HiGHS took seconds per Adult query where the
search takes a tenth of one).

* ``milp.py``: a small MILP builder over linear expressions, and the solve.
* ``encoding.py``: the model input as a linear map of the row (numeric
  values and category one-hots) read off the fitted preprocessing.
* ``heads.py``: a linear model's decision as linear constraints: margins of
  classifiers, ranges of regressors.
* ``ensembles.py``: fitted tree models (decision trees, forests, extra
  trees, gradient and histogram gradient boosting) read into one flat form:
  leaves depth-first, splits with their leaf ranges and comparison.
* ``tree_search.py``: the branch and bound of one query over a tree
  ensemble.
* ``formulation.py``: one query's MILP variables (grid values, category
  choices, change indicators), its admissible box, the cost, and the
  no-good cuts that give the next diverse solutions.
* ``seeding.py``: surrogate optima that seed the heuristic searches.
"""
