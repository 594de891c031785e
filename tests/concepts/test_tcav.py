"""TCAV significance, activation extraction and MLP heads."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import MLPClassifier

from skcfx.concepts import layer_activations, mlp_head, tcav

torch = pytest.importorskip("torch")


class _Head(torch.nn.Module):
    def __init__(self, u, V):
        super().__init__()
        self.u = torch.nn.Parameter(torch.as_tensor(u, dtype=torch.float32))
        self.V = torch.nn.Parameter(torch.as_tensor(V, dtype=torch.float32))

    def forward(self, a):
        # the quadratic terms have a gradient of mean zero over symmetric data
        z = 2 * torch.tanh(a @ self.u) + ((a @ self.V) ** 2).sum(dim=1)
        return torch.stack([torch.zeros_like(z), z], dim=1)


def _setup(seed=0, d=12):
    rng = np.random.RandomState(seed)
    U = np.linalg.qr(rng.standard_normal((d, 3)))[0].T
    # head: class 1's logit grows along U[0]; smaller random nonlinear terms
    # make its gradient vary from row to row
    head = _Head(U[0], rng.standard_normal((d, 8)) / np.sqrt(d))
    random_pool = rng.standard_normal((400, d))
    concepts = {
        "relevant": rng.standard_normal((60, d)) + 2.5 * U[0],
        "irrelevant": rng.standard_normal((60, d)) + 2.5 * U[1],
        "other": rng.standard_normal((60, d)) + 2.5 * U[2],
    }
    class_acts = rng.standard_normal((1000, d))
    return head, concepts, random_pool, class_acts


@pytest.mark.parametrize("method", ["svm", "mean_difference"])
def test_relevant_concept_is_significant_and_others_not(method):
    head, concepts, pool, class_acts = _setup()
    res = tcav(
        head,
        concepts,
        class_acts,
        1,
        random_activations=pool,
        method=method,
        random_state=0,
    )
    frame = res.frame
    assert frame.loc["relevant", "tcav_mean"] > 0.7
    assert bool(frame.loc["relevant", "significant"])
    assert not frame.loc[["irrelevant", "other"], "significant"].any()
    assert res.scores.shape == (3, 20) and res.random_scores.shape == (20,)
    # p-values are corrected upwards (Holm) and bounded by 1
    assert np.all(frame.p_adjusted >= frame.p_value) and np.all(frame.p_adjusted <= 1)
    # the class-0 logit does not move at all: nothing is significant
    res0 = tcav(
        head,
        concepts,
        class_acts,
        0,
        random_activations=pool,
        method=method,
        random_state=0,
    )
    assert not res0.frame["significant"].any()


def test_welch_test_is_available():
    head, concepts, pool, class_acts = _setup()
    res = tcav(
        head,
        concepts,
        class_acts,
        1,
        random_activations=pool,
        test="welch",
        random_state=0,
    )
    assert bool(res.frame.loc["relevant", "significant"])
    assert np.all((0 <= res.frame.p_value) & (res.frame.p_value <= 1))


def test_same_seed_same_scores_and_p_values():
    head, concepts, pool, class_acts = _setup(1)
    a = tcav(
        head,
        concepts,
        class_acts,
        1,
        random_activations=pool,
        n_random=8,
        random_state=3,
    )
    b = tcav(
        head,
        concepts,
        class_acts,
        1,
        random_activations=pool,
        n_random=8,
        random_state=3,
    )
    assert_array_equal(a.scores, b.scores)
    assert_array_equal(a.frame.p_value.to_numpy(), b.frame.p_value.to_numpy())


def test_tcav_errors_are_named():
    head, concepts, pool, class_acts = _setup()
    with pytest.raises(ValueError, match="target=5 is not a column"):
        tcav(head, concepts, class_acts, 5, random_activations=pool)
    with pytest.raises(ValueError, match="Concept 'bad' has activations of width 3"):
        tcav(head, {"bad": np.zeros((5, 3))}, class_acts, 1, random_activations=pool)
    with pytest.raises(ValueError, match="at least 4 are needed"):
        tcav(head, concepts, class_acts, 1, random_activations=pool[:3])


def test_mlp_activations_and_head_reproduce_the_classifier():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    mlp = MLPClassifier((16, 8), max_iter=800, random_state=0).fit(X, y)
    A = layer_activations(mlp, X, 0)
    assert A.shape == (300, 16) and np.all(A >= 0)  # relu
    head = mlp_head(mlp, 0)
    with torch.no_grad():
        logits = head(torch.as_tensor(A, dtype=torch.float32)).numpy()
    assert_array_equal(logits.argmax(axis=1), mlp.predict(X))
    with pytest.raises(ValueError, match="hidden-layer index in \\[0, 2\\)"):
        layer_activations(mlp, X, 2)


def test_pipelines_ending_in_a_network_are_read_through_their_steps():
    # how scikit-learn users fit an MLP: behind a scaler, on a DataFrame,
    # often frozen; the activations are those of the transformed rows and
    # the head above them reproduces the Pipeline's predictions
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        rng.standard_normal((300, 4)) * [1, 10, 100, 1000], columns=list("abcd")
    )
    y = (X.a * X.b > 0).astype(int)
    prep = make_column_transformer(
        (StandardScaler(), ["a", "b"]), (MinMaxScaler(), ["c", "d"])
    )
    mlp = MLPClassifier((16, 8), max_iter=3000, random_state=0)
    model = make_pipeline(prep, mlp).fit(X, y)
    for wrapped in (
        model,
        FrozenEstimator(model),
        make_pipeline(FrozenEstimator(model)),
    ):
        A = layer_activations(wrapped, X, 1)
        assert_allclose(A, layer_activations(mlp, prep.transform(X), 1))
        with torch.no_grad():
            logits = mlp_head(wrapped, 1)(torch.as_tensor(A, dtype=torch.float32))
        assert_array_equal(logits.numpy().argmax(axis=1), model.predict(X))
    with pytest.raises(
        TypeError,
        match="mlp_head expects a fitted MLPClassifier.*got LogisticRegression",
    ):
        from sklearn.linear_model import LogisticRegression

        mlp_head(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), 0)

    # a torch module behind a scaler: the hook sees the scaled rows
    torch.manual_seed(0)
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(
        torch.nn.Sequential(
            torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2)
        ),
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    scaler = StandardScaler().set_output(transform="pandas")
    piped = make_pipeline(scaler, _float32(), net).fit(X, y.to_numpy())
    Xs = np.array(scaler.transform(X), dtype=np.float32)
    with torch.no_grad():
        expected = torch.relu(net.module_[0](torch.as_tensor(Xs))).numpy()
    assert_allclose(layer_activations(piped, X, "1"), expected, rtol=1e-5, atol=1e-6)


def _float32():
    """A step that hands a torch net float32 rows."""
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(lambda Z: np.asarray(Z, dtype=np.float32))


def test_torch_forward_hook_activations():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2)
    )
    X = np.random.RandomState(0).standard_normal((10, 4)).astype(np.float32)
    A = layer_activations(net, X, "1", batch_size=3)
    with torch.no_grad():
        expected = torch.relu(net[0](torch.as_tensor(X))).numpy()
    # float32 products may round differently in batches of 3 than in one
    assert_allclose(A, expected, rtol=1e-5, atol=1e-6)
    assert not net[1]._forward_hooks  # the hook is removed
    with pytest.raises(ValueError, match="layer='9' is not a submodule"):
        layer_activations(net, X, "9")


def test_skorch_net_activations_and_head():
    from skorch import NeuralNetClassifier

    rng = np.random.RandomState(0)
    X = rng.standard_normal((120, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
    )
    net = NeuralNetClassifier(
        module,
        max_epochs=2,
        criterion=torch.nn.CrossEntropyLoss,
        train_split=None,
        verbose=0,
    ).fit(X, y)
    A = layer_activations(net, X, "1")
    assert A.shape == (120, 8)
    head = torch.nn.Sequential(net.module_[2])
    concepts = {"c": A[y == 1][:30]}
    res = tcav(
        head, concepts, A[y == 1], 1, random_activations=A, n_random=4, random_state=0
    )
    assert 0 <= res.frame.loc["c", "tcav_mean"] <= 1


def test_scikit_learn_head_equals_its_torch_copy():
    """A LogisticRegression fitted on activations is a head as is: same
    scores as the equivalent torch layer, for both classes of a binary
    model (logits [-z/2, z/2]) and for a multi-class one."""
    from sklearn.linear_model import LogisticRegression

    _, concepts, pool, class_acts = _setup(2)
    rng = np.random.RandomState(0)
    A = rng.standard_normal((600, pool.shape[1]))
    for n_classes in (2, 3):
        y = (A[:, 0] > 0).astype(int) + (n_classes == 3) * (A[:, 1] > 1)
        clf = LogisticRegression().fit(A, y)
        W = np.atleast_2d(clf.coef_)
        b = np.atleast_1d(clf.intercept_)
        if n_classes == 2:  # the two-class logits of a single score
            W, b = np.vstack([-W / 2, W / 2]), np.r_[-b / 2, b / 2]
        layer = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(W, dtype=torch.float32))
            layer.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
        for target in range(n_classes):
            ours = tcav(
                clf,
                concepts,
                class_acts,
                target,
                random_activations=pool,
                n_random=6,
                random_state=0,
            )
            ref = tcav(
                layer,
                concepts,
                class_acts,
                target,
                random_activations=pool,
                n_random=6,
                random_state=0,
            )
            assert_allclose(ours.scores, ref.scores)
        # the class-0 logit moves with the evidence for class 0 (not a
        # constant zero): opposite scores to class 1's
        s0 = tcav(
            clf,
            concepts,
            class_acts,
            0,
            random_activations=pool,
            n_random=6,
            random_state=0,
        ).scores
        s1 = tcav(
            clf,
            concepts,
            class_acts,
            1,
            random_activations=pool,
            n_random=6,
            random_state=0,
        ).scores
        if n_classes == 2:
            assert_allclose(s0, 1.0 - s1, atol=0.02)


def test_user_module_training_flags_are_restored():
    head, concepts, pool, class_acts = _setup()
    net = torch.nn.Sequential(torch.nn.Dropout(0.1), head)
    net.train()
    net[0].eval()  # mixed modes: each submodule's own flag must come back
    tcav(net, concepts, class_acts, 1, random_activations=pool, n_random=4)
    assert net.training and not net[0].training and net[1].training


def test_unsupported_head_is_named():
    from sklearn.ensemble import RandomForestClassifier

    _, concepts, pool, class_acts = _setup()
    forest = RandomForestClassifier(n_estimators=3).fit(pool, pool[:, 0] > 0)
    with pytest.raises(TypeError, match="tcav needs a differentiable model"):
        tcav(forest, concepts, class_acts, 1, random_activations=pool)


def test_fitted_concept_cav_and_class_labels():
    """tcav takes a fitted ConceptCAV (its CAVs tested as they are) and a
    class label as target, like conceptual_counterfactuals."""
    from skcfx import ConceptCAV

    head, concepts, pool, class_acts = _setup()
    A = np.vstack([concepts["relevant"], concepts["irrelevant"], pool[:120]])
    C = np.full((len(A), 2), np.nan)
    C[:60, 0], C[60:120, 1] = 1, 1
    C[120:, :] = 0
    cav = ConceptCAV(random_state=0).fit(A, C)
    res = tcav(
        head,
        cav,
        class_acts,
        "yes",
        classes=["no", "yes"],
        random_activations=pool,
        random_state=0,
    )
    assert list(res.frame.index) == ["concept0", "concept1"]
    assert bool(res.frame.loc["concept0", "significant"])
    assert not bool(res.frame.loc["concept1", "significant"])
    # without a random pool: random unit directions as the null
    res2 = tcav(head, cav, class_acts, 1, random_state=0)
    assert (
        res2.frame.loc["concept0", "tcav_mean"]
        == res.frame.loc["concept0", "tcav_mean"]
    )
    with pytest.raises(ValueError, match="not a class of the head"):
        tcav(head, cav, class_acts, "maybe", classes=["no", "yes"])
    with pytest.raises(ValueError, match="random_activations is required"):
        tcav(head, concepts, class_acts, 1)


def test_linear_head_warns_that_the_test_cannot_flag_anything():
    from sklearn.linear_model import LogisticRegression

    from skcfx.exceptions import SkcfxWarning

    head, concepts, pool, class_acts = _setup()
    y = (class_acts[:, 0] > 0).astype(int)
    linear = LogisticRegression().fit(class_acts, y)
    with pytest.warns(SkcfxWarning, match="Every random direction"):
        tcav(linear, concepts, class_acts, 1, random_activations=pool, n_random=4)
