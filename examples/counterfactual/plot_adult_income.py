"""
=======================================================
Counterfactuals for rejected applicants (UCI Adult)
=======================================================

The question of DiCE's tutorial, answered with skcfx: a model predicts whether
a person earns more than 50K a year. For a few people it rejects, what small,
realistic changes would make it say ">50K"?

The model is an ordinary scikit-learn Pipeline: a ColumnTransformer one-hot
encodes the raw categorical columns. The explainer reads the categorical
columns from that Pipeline, so nothing is restated.
"""

# %%
# Data and model
# --------------
# The DiCE tutorial's eight columns of the bundled Adult data.
import time

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx import CounterfactualExplainer
from skcfx.datasets import load_adult

adult = load_adult(subset="dice")
X = adult.data
# the model predicts the class names, so explanations print them
y = adult.target.map(dict(enumerate(adult.target_names)))
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, random_state=0, stratify=y
)
categorical = [c for c in X.columns if c not in ("age", "hours_per_week")]
model = Pipeline(
    [
        (
            "prep",
            ColumnTransformer(
                [
                    ("num", StandardScaler(), ["age", "hours_per_week"]),
                    ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                ]
            ),
        ),
        ("clf", RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)),
    ]
).fit(X_train, y_train)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# Explain a few rejected applicants
# ---------------------------------
# ``FrozenEstimator`` tells the explainer the model is already trained.
rejected = X_test[model.predict(X_test) == "<=50K"].head(3)

explainer = CounterfactualExplainer(
    FrozenEstimator(model), method="genetic", n_counterfactuals=4, random_state=0
).fit(X_train)
print("categorical columns read from the Pipeline:", explainer.categorical_features_)
start = time.perf_counter()
explanations = explainer.explain(rejected)
print(f"{time.perf_counter() - start:.2f} s for {len(rejected)} queries")
print(explanations)


# %%
# With constraints
# ----------------
# Only age, education, occupation and hours per week may change, age stays
# within 20-60 and never decreases, and a predicate says that a higher degree
# takes at least a year of age.
def degree_takes_time(candidates, queries):
    more_education = candidates["education"].cat.codes > queries["education"].cat.codes
    return ~more_education | (candidates["age"] > queries["age"])


constrained = CounterfactualExplainer(
    FrozenEstimator(model),
    method="genetic",
    n_counterfactuals=4,
    features_to_vary=["age", "education", "occupation", "hours_per_week"],
    permitted_range={"age": (20, 60)},
    monotonic={"age": "increasing"},
    predicates=[degree_takes_time],
    random_state=0,
).fit(X_train)
start = time.perf_counter()
explanations = constrained.explain(rejected)
print(f"{time.perf_counter() - start:.2f} s for {len(rejected)} queries")
print(explanations)

# %%
# The long table joins back to the queries by their index label.
frame = explanations.to_frame()
print(frame.head(8).round({"probability": 2}).to_string())

# %%
# Changed cells of the first query.
try:
    import matplotlib.pyplot as plt
except ImportError:  # plotting is optional
    plt = None
if plt is not None:
    explanations.plot(0)
    plt.tight_layout()
    plt.show()

# %%
# Semi-factuals: what would *not* be enough. For each feature that may vary,
# the farthest change (under the same constraints) after which the model
# still predicts <=50K, on the side that brings it closer to >50K:
# "even if you worked 99 hours a week, ...".
even_if = constrained.semifactuals(rejected.head(2))
print(
    even_if[["query", "rank", "change", "prediction", "margin_gain"]]
    .round({"margin_gain": 3})
    .to_string(index=False)
)
