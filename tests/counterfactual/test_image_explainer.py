"""ImageCounterfactualExplainer: an estimator (clone, pickle, GridSearchCV,
Pipeline) whose counterfactual images really flip the model."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier

from skcfx import ImageCounterfactualExplainer
from skcfx.exceptions import NoCounterfactualWarning

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    X, y = d.data / 16, d.target
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((32,), max_iter=300, random_state=0).fit(Xtr, ytr)
    pca = PCA(12, random_state=0).fit(Xtr)
    enc = torch.nn.Linear(64, 12)
    with torch.no_grad():
        enc.weight.copy_(torch.as_tensor(pca.components_, dtype=torch.float32))
        enc.bias.copy_(
            torch.as_tensor(-pca.components_ @ pca.mean_, dtype=torch.float32)
        )
    return mlp, enc, Xtr, ytr, Xte, yte


def test_counterfactuals_flip_the_model_and_stay_in_bounds(digits):
    mlp, _, Xtr, ytr, Xte, _ = digits
    cfx = ImageCounterfactualExplainer(FrozenEstimator(mlp), desired_class=8).fit(Xtr)
    assert cfx.pixel_bounds_ == (0.0, 1.0)  # learned from the training images
    X = Xte[:12]
    expl = cfx.explain(X)
    needing = mlp.predict(X) != 8
    assert (expl.status[~needing] == "query already has the desired outcome").all()
    best = expl.best()
    found = expl.status == "found"
    assert found[needing].mean() >= 0.9
    assert (mlp.predict(best[found]) == 8).all()  # re-predicted by sklearn
    assert np.nanmin(best) >= 0 and np.nanmax(best) <= 1
    np.testing.assert_array_equal(best[~needing], X[~needing])
    frame = expl.to_frame()
    assert list(frame["query"]) == list(np.flatnonzero(needing))
    assert (frame["valid"] == (mlp.predict(expl.counterfactuals) == 8)).all()
    np.testing.assert_allclose(frame["l1"], np.abs(expl.delta).sum(axis=1), rtol=1e-6)
    assert 0 < expl.score() < 1
    assert expl.metrics.shape[0] == len(X)


def test_per_image_targets_and_labels(digits):
    mlp, _, Xtr, ytr, Xte, yte = digits
    cfx = ImageCounterfactualExplainer(FrozenEstimator(mlp), max_steps=150).fit(Xtr)
    X = Xte[:6]
    target = (mlp.predict(X) + 1) % 10
    expl = cfx.explain(X, desired_class=target)
    ok = expl.valid
    assert ok.mean() >= 0.8
    assert (mlp.predict(expl.counterfactuals[ok]) == target[expl.owner[ok]]).all()
    # "opposite" for a multi-class model: the runner-up class
    expl = cfx.explain(X)
    P = mlp.predict_proba(X)
    runner_up = np.argsort(-P, axis=1)[:, 1]
    assert (expl.desired == mlp.classes_[runner_up]).all()
    with pytest.raises(ValueError, match="desired_class=11 is not a class"):
        cfx.explain(X, desired_class=11)
    with pytest.raises(ValueError, match="holds 2 labels for 6 queries"):
        cfx.explain(X, desired_class=[1, 2])


def test_prototypes_are_encoded_once_in_fit(digits):
    mlp, enc, Xtr, ytr, Xte, _ = digits
    calls = []
    hook = enc.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    try:
        cfx = ImageCounterfactualExplainer(
            FrozenEstimator(mlp), desired_class=8, encoder=enc, max_steps=50
        ).fit(Xtr, ytr)
        assert cfx.prototype_codes_.shape == (len(Xtr), 12)
        assert calls == [len(Xtr)]
        calls.clear()
        cfx.explain(Xte[:4])
        assert max(calls) <= 4  # the training images are never re-encoded
    finally:
        hook.remove()


def test_dataframe_index_labels_are_kept(digits):
    mlp, _, Xtr, _, Xte, _ = digits
    cols = [f"p{i}" for i in range(64)]
    cfx = ImageCounterfactualExplainer(
        FrozenEstimator(mlp), desired_class=8, max_steps=100
    ).fit(pd.DataFrame(Xtr, columns=cols))
    X = pd.DataFrame(Xte[:3], columns=cols, index=["a", "b", "c"])
    before = X.copy()
    expl = cfx.explain(X)
    assert list(expl.metrics.index) == ["a", "b", "c"]
    assert set(expl.to_frame()["query"]) <= {"a", "b", "c"}
    pd.testing.assert_frame_equal(X, before)  # the caller's frame untouched


def test_clone_pickle_and_grid_search_on_digits(digits):
    _, _, Xtr, ytr, Xte, _ = digits
    cfx = ImageCounterfactualExplainer(
        LogisticRegression(max_iter=300), desired_class=3, max_steps=60
    )
    assert clone(cfx).get_params()["max_steps"] == 60
    cfx.fit(Xtr[:300], ytr[:300])
    again = pickle.loads(pickle.dumps(cfx))
    np.testing.assert_allclose(again.transform(Xte[:4]), cfx.transform(Xte[:4]))
    search = GridSearchCV(
        ImageCounterfactualExplainer(
            LogisticRegression(max_iter=300), desired_class=3, max_steps=60
        ),
        {"l1": [0.0, 0.05], "l2": [0.1, 1.0]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCounterfactualWarning)
        search.fit(Xtr[:300], ytr[:300])
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and len(set(np.round(scores, 6))) > 1
    assert search.best_estimator_.transform(Xte[:2]).shape == (2, 64)


def test_torch_module_used_as_is_and_errors(digits):
    mlp, _, Xtr, ytr, Xte, _ = digits
    net = torch.nn.Sequential(torch.nn.Linear(64, 10))
    cfx = ImageCounterfactualExplainer(net, desired_class=2, max_steps=30).fit(Xtr)
    assert cfx.estimator_ is net and list(cfx.classes_) == list(range(10))
    assert len(cfx.explain(Xte[:2]).status) == 2
    with pytest.raises(ValueError, match="requires y"):
        ImageCounterfactualExplainer(LogisticRegression()).fit(Xtr)
    with pytest.raises(ValueError, match="pixel_bounds"):
        ImageCounterfactualExplainer(net, pixel_bounds=(1, 0)).fit(Xtr)
    with pytest.raises(TypeError, match="needs a differentiable model"):
        from sklearn.ensemble import RandomForestClassifier

        ImageCounterfactualExplainer(RandomForestClassifier(n_estimators=3)).fit(
            Xtr, ytr
        )


def test_unreachable_target_is_reported(digits):
    mlp, _, Xtr, _, Xte, _ = digits
    cfx = ImageCounterfactualExplainer(
        FrozenEstimator(mlp), desired_class=8, max_steps=1, learning_rate=1e-6
    ).fit(Xtr)
    with pytest.warns(NoCounterfactualWarning, match="No valid counterfactual"):
        expl = cfx.explain(Xte[:3])
    assert set(expl.status) <= {
        "search budget exhausted",
        "query already has the desired outcome",
    }
    assert np.isnan(expl.best()[expl.status == "search budget exhausted"]).all()


def test_plot_shows_each_query_with_its_counterfactual(digits):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    mlp, _, Xtr, _, Xte, _ = digits
    cfx = ImageCounterfactualExplainer(
        FrozenEstimator(mlp), desired_class=8, max_steps=60
    ).fit(Xtr)
    expl = cfx.explain(Xte[:3])
    axes = expl.plot()
    assert axes.shape == (len(np.unique(expl.owner)), 3)
    assert axes[0, 1].get_title().startswith("counterfactual: ")


def test_images_in_another_shape_than_the_models_are_named():
    # (n, 8, 8) images for a model fitted on flattened rows gave torch's
    # "mat1 and mat2 shapes cannot be multiplied (14376x8 and 64x10)"
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    model = LogisticRegression(max_iter=2000).fit(X, y[:300])
    images = X.reshape(-1, 8, 8)
    with pytest.raises(ValueError, match=r"shape \(300, 8, 8\).*rows of 64 features"):
        ImageCounterfactualExplainer(FrozenEstimator(model)).fit(images)
    net = torch.nn.Sequential(torch.nn.Linear(64, 10))
    with pytest.raises(ValueError, match=r"could not take X of shape \(300, 8, 8\)"):
        ImageCounterfactualExplainer(net).fit(images)
    ImageCounterfactualExplainer(FrozenEstimator(model), max_steps=5).fit(X)
