"""Fitted scikit-learn models turned into torch reproduce their predictions."""

import numpy as np
import pytest
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    PolynomialFeatures,
    StandardScaler,
)
from sklearn.svm import LinearSVC

from skcfx.utils._torch_forward import torch_forward

torch = pytest.importorskip("torch")

rng = np.random.RandomState(0)
X = rng.standard_normal((200, 4)) * 3 + 1
Y2 = (X[:, 0] + X[:, 1] > 2).astype(int)
Y3 = np.digitize(X[:, 0], [0, 2])


@pytest.mark.parametrize(
    "model",
    [
        make_pipeline(StandardScaler(), LogisticRegression()),
        make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()),
        make_pipeline(
            MinMaxScaler(), MLPClassifier((8,), max_iter=2000, random_state=0)
        ),
        make_pipeline(MaxAbsScaler(), PCA(3, whiten=True), LogisticRegression()),
        make_pipeline(
            StandardScaler(),
            TruncatedSVD(3, random_state=0),
            MLPClassifier((8,), max_iter=2000, random_state=0),
        ),
        LinearSVC(),
        RidgeClassifier(),
        MLPClassifier((8, 4), activation="tanh", max_iter=2000, random_state=0),
    ],
    ids=lambda m: type(m).__name__,
)
@pytest.mark.parametrize("y", [Y2, Y3], ids=["binary", "multiclass"])
def test_torch_copy_predicts_like_the_model(model, y):
    model.fit(X, y)
    module = torch_forward(model)
    with torch.no_grad():
        logits = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    assert logits.shape == (len(X), len(np.unique(y)))
    assert np.mean(np.unique(y)[logits.argmax(axis=1)] == model.predict(X)) > 0.99


def test_unsupported_step_is_named():
    model = make_pipeline(PolynomialFeatures(), LogisticRegression()).fit(X, Y2)
    with pytest.raises(TypeError, match="step 'polynomialfeatures'.*model-agnostic"):
        torch_forward(model)
    from sklearn.ensemble import RandomForestClassifier

    with pytest.raises(TypeError, match="got RandomForestClassifier"):
        torch_forward(RandomForestClassifier(n_estimators=2).fit(X, Y2))


def test_probabilities_match_predict_proba():
    """The torch copy's softmax is the model's predict_proba (a binary model's
    single score z becomes the logits [-z/2, z/2])."""
    for y in (Y2, Y3):
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        with torch.no_grad():
            logits = torch_forward(model)(torch.as_tensor(X, dtype=torch.float32))
        np.testing.assert_allclose(
            torch.softmax(logits, 1).numpy(), model.predict_proba(X), atol=1e-5
        )


def test_user_modules_are_returned_untouched():
    """A user's network is used as is: never copied, never switched to
    evaluation mode behind the caller's back."""
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.2))
    net.train()
    assert torch_forward(net) is net
    assert net.training and net[1].training
