"""
==========================================================
Causal recourse and counterfactuals close to the data
==========================================================

A counterfactual that raises a loan applicant's education but leaves their
income untouched describes nobody: in the world the data came from, more
education brings more income, and more income more savings. Given a
structural causal model (SCM) of the columns, ``CounterfactualExplainer``
searches over *interventions* instead (Karimi, Schölkopf and Valera, 2021):
each candidate's changes are applied to the SCM, their effects propagated to
the descendants with the applicant's own noise terms, and the model judges
the resulting row; the cost counts only what the person changes.

The second half pulls counterfactuals toward real rows of the desired class
with ``plausibility_weight`` and reads the plausibility metrics.
"""

# %%
# A loan world with a known SCM
# -----------------------------
# ``make_causal_loan`` draws applicants from known equations and returns the
# true SCM with them. The bank's model is a logistic Pipeline.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import make_column_transformer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skcfx import CounterfactualExplainer
from skcfx import metrics as M
from skcfx.causal import StructuralCausalModel
from skcfx.datasets import CAUSAL_LOAN_GRAPH, make_causal_loan

X, y, true_scm = make_causal_loan(4000, random_state=0)
model = make_pipeline(
    make_column_transformer((OneHotEncoder(), ["gender"]), remainder="passthrough"),
    LogisticRegression(max_iter=2000),
).fit(X, y)
rejected = X[model.predict(X) == 0].head(20)
print(CAUSAL_LOAN_GRAPH)

# %%
# Counterfactuals that ignore the causes
# --------------------------------------
# Education, income and savings may change. Without an SCM, the cheapest
# answers change education or income alone.
actionable = ["education", "income", "savings"]
plain = CounterfactualExplainer(
    FrozenEstimator(model),
    features_to_vary=actionable,
    n_counterfactuals=3,
    random_state=0,
).fit(X)
expl = plain.explain(rejected)

# What would the true world make of each row's changes? ``causal_gap``
# propagates a row's changes through an SCM and measures, in noise standard
# deviations, how far the row's other columns are from their consequences.
gap = expl.causal_gap(true_scm)
print(
    "rows the true world would not produce (off by more than one noise sd): "
    f"{np.mean(gap[expl.valid] > 1):.0%}"
)

# %%
# Causal recourse
# ---------------
# With ``scm=``, the same search returns interventions and their
# consequences. Here the SCM is learned from the data (a linear
# additive-noise model per node, the helper's default) in ``fit``.
causal = CounterfactualExplainer(
    FrozenEstimator(model),
    features_to_vary=actionable,
    scm=StructuralCausalModel(CAUSAL_LOAN_GRAPH),
    n_counterfactuals=3,
    random_state=0,
).fit(X)
recourse = causal.explain(rejected)
print(recourse.to_frame()[["query", "interventions", "downstream"]].head(6).to_string())
print(
    f"validity {M.validity(recourse):.2f}, changes per counterfactual "
    f"{M.sparsity(recourse):.2f}, reproduced by the true SCM: "
    f"{M.causal_consistency(recourse, true_scm):.0%}"
)

# %%
# In the printout, ``*`` marks an intervention and ``~`` a consequence.
print(str(recourse).split("\n\n")[0])
recourse.plot(0)
plt.tight_layout()

# %%
# Closer to the data
# ------------------
# ``plausibility_weight`` adds the distance to the nearest training rows that
# the model gives the desired class to the cost. The plausibility metrics
# fall while the changes grow a little.
for weight in (0.0, 2.0):
    cfx = CounterfactualExplainer(
        FrozenEstimator(model), plausibility_weight=weight, random_state=0
    ).fit(X)
    e = cfx.explain(rejected)
    print(
        f"plausibility_weight={weight}: 5-NN distance {M.knn_distance(e):.3f}, "
        f"LOF {M.local_outlier_factor(e):.2f}, yNN {M.ynn(e):.2f}, "
        f"proximity {M.proximity(e):.3f}"
    )
