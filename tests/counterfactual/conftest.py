import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skcfx.datasets import DICE_COLUMNS, load_adult

COLUMNS = DICE_COLUMNS
CATEGORICAL = [c for c in COLUMNS if c not in ("age", "hours_per_week")]


@pytest.fixture(scope="session")
def adult():
    X, y = load_adult(return_X_y=True)
    X = X[COLUMNS]
    rng = np.random.RandomState(0)
    idx = rng.choice(len(X), 3000, replace=False)
    return X.iloc[idx], y.iloc[idx].to_numpy()


@pytest.fixture(scope="session")
def adult_model(adult):
    X, y = adult
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "hours_per_week"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("prep", pre), ("clf", LogisticRegression(max_iter=500))]).fit(
        X, y
    )


@pytest.fixture(scope="session")
def rejected(adult, adult_model):
    X, _ = adult
    return X[adult_model.predict(X) == 0].iloc[:6]
