"""Provably optimal counterfactuals: the explainer's cost minimised exactly.

For a linear model or a tree ensemble behind representable preprocessing,
the model is a mixed-integer linear function of the coded row, so the
closest counterfactual under the explainer's own cost is a mixed-integer
linear program (MILP), solved by HiGHS through :func:`scipy.optimize.milp`.

* ``milp.py``: a small MILP builder over linear expressions, and the solve.
* ``encoding.py``: the model input as a linear map of the row (numeric
  values and category one-hots) read off the fitted preprocessing, and the
  exact integer cut of every tree threshold on a column's grid (float32
  comparisons, as scikit-learn's trees make them).
* ``heads.py``: the model's decision as linear constraints: margins of
  linear classifiers, ranges of linear regressors, leaf indicators and
  split variables of tree ensembles.
* ``formulation.py``: one query's variables (grid values, category
  choices, change indicators), its admissible box, the cost, and the
  no-good cuts that give the next diverse solutions.
"""
