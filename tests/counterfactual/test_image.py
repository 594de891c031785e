"""Image counterfactuals on digits: valid, in bounds, more realistic with prototypes."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skcfx.counterfactual import image_counterfactuals
from skcfx.metrics import im1, im2

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def digits_setting():
    d = load_digits()
    X, y = d.data / 16, d.target
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((64,), max_iter=1000, random_state=0).fit(Xtr, ytr)
    # a linear "autoencoder" encoder from PCA: no training needed in the test
    pca = PCA(16, random_state=0).fit(Xtr)
    enc = torch.nn.Linear(64, 16)
    with torch.no_grad():
        enc.weight.copy_(torch.as_tensor(pca.components_, dtype=torch.float32))
        enc.bias.copy_(
            torch.as_tensor(-pca.components_ @ pca.mean_, dtype=torch.float32)
        )
    aes = {c: PCA(8, random_state=0).fit(Xtr[ytr == c]) for c in (3, 8)}
    return mlp, enc, Xtr, ytr, Xte[yte == 3][:30], aes, PCA(8).fit(Xtr)


def test_valid_and_in_bounds(digits_setting):
    mlp, _, _, _, queries, _, _ = digits_setting
    res = image_counterfactuals(mlp, queries, 8, max_iter=200)
    assert res.valid.all()
    assert (mlp.predict(res.counterfactuals) == 8).all()  # re-predicted by sklearn
    assert res.counterfactuals.min() >= 0 and res.counterfactuals.max() <= 1
    np.testing.assert_allclose(res.delta, res.counterfactuals - queries, atol=1e-6)
    img = image_counterfactuals(mlp, queries[:3], 8, tv_weight=0.01, max_iter=100)
    assert img.counterfactuals.shape == (3, 64)


def test_prototype_guidance_is_more_interpretable(digits_setting):
    mlp, enc, Xtr, ytr, queries, aes, ae_all = digits_setting
    plain = image_counterfactuals(mlp, queries, 8)
    guided = image_counterfactuals(
        mlp, queries, 8, encoder=enc, X_train=Xtr, y_train=ytr
    )
    assert plain.valid.all() and guided.valid.all()
    assert im1(guided.counterfactuals, aes[8], aes[3]) < im1(
        plain.counterfactuals, aes[8], aes[3]
    )
    assert im2(guided.counterfactuals, aes[8], ae_all) < im2(
        plain.counterfactuals, aes[8], ae_all
    )


def test_prototype_needs_training_data(digits_setting):
    mlp, enc, _, _, queries, _, _ = digits_setting
    with pytest.raises(ValueError, match="X_train/y_train are not"):
        image_counterfactuals(mlp, queries[:2], 8, encoder=enc)


def test_plot_shows_query_counterfactual_difference(digits_setting):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from skcfx.counterfactual import plot_image_counterfactuals

    mlp, _, _, _, queries, _, _ = digits_setting
    res = image_counterfactuals(mlp, queries[:4], 8, max_iter=100)
    axes = plot_image_counterfactuals(queries[:4], res, rows=[1, 3])
    assert axes.shape == (2, 3)
    shown = axes[1, 1].get_images()[0].get_array()
    np.testing.assert_allclose(shown, res.counterfactuals[3].reshape(8, 8))
    assert axes[0, 0].get_title() == "query"
    assert axes[0, 1].get_title().startswith("counterfactual: ")
    assert axes[0, 2].get_title() == "change"
    # the difference map has a colour bar, labelled
    bar = axes[0, 2].get_images()[0].colorbar
    assert bar is not None and bar.ax.get_ylabel() == "counterfactual - query"
    axes = plot_image_counterfactuals(queries[:4], res, rows=[0], titles=["3"])
    assert axes[0, 0].get_title() == "query (3)"
    matplotlib.pyplot.close("all")


def test_user_networks_keep_their_training_mode(digits_setting):
    """The classifier and the encoder run in evaluation mode (dropout off, so
    the answer is deterministic), and each submodule's own mode comes back."""
    from skcfx.utils._torch_nn import sklearn_mlp

    mlp, enc, Xtr, ytr, queries, _, _ = digits_setting
    net = torch.nn.Sequential(torch.nn.Dropout(0.5), sklearn_mlp(mlp))
    net.train()
    net[1].eval()
    encoder = torch.nn.Sequential(torch.nn.Dropout(0.5), enc).train()
    a = image_counterfactuals(
        net, queries[:5], 8, encoder=encoder, X_train=Xtr, y_train=ytr, max_iter=50
    )
    b = image_counterfactuals(
        net, queries[:5], 8, encoder=encoder, X_train=Xtr, y_train=ytr, max_iter=50
    )
    np.testing.assert_array_equal(a.counterfactuals, b.counterfactuals)
    assert net.training and net[0].training and not net[1].training
    assert encoder.training and encoder[0].training and encoder[1].training
