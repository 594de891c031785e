"""
=========================================================
Digit counterfactuals that look like digits (prototypes)
=========================================================

A small convolutional network, trained through skorch on scikit-learn's
bundled 8x8 digits, is asked: what should change in this 3 for you to read
an 8? Plain gradient counterfactuals answer with scattered pixel changes;
guided by the 8s' prototype in the latent space of a small autoencoder (as
in CFProto, Van Looveren and Klaise 2021), the counterfactuals move toward
what real 8s look like. The IM1 and IM2 scores measure it (lower is more
interpretable). :class:`~skcfx.ImageCounterfactualExplainer` is an
estimator: the trained CNN goes in frozen, ``fit`` encodes the training
images for the prototypes once, ``explain`` searches all images together.
"""

# %%
# A CNN and an autoencoder, both on skorch
# ----------------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from skorch import NeuralNet, NeuralNetClassifier
from torch import nn

from skcfx import ImageCounterfactualExplainer
from skcfx.metrics import im1, im2

torch.manual_seed(0)
digits = load_digits()
X = (digits.data / 16).astype(np.float32).reshape(-1, 1, 8, 8)
y = digits.target.astype(np.int64)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

cnn = NeuralNetClassifier(
    nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10),
    ),
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=3e-3,
    max_epochs=15,
    batch_size=64,
    train_split=None,
    verbose=0,
).fit(X_train, y_train)
print(f"CNN accuracy on held-out digits: {cnn.score(X_test, y_test):.3f}")


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8)
        )
        self.decoder = nn.Sequential(
            nn.Linear(8, 32),
            nn.ReLU(),
            nn.Linear(32, 64),
            nn.Sigmoid(),
            nn.Unflatten(1, (1, 8, 8)),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


autoencoder = NeuralNet(
    AutoEncoder,
    criterion=nn.MSELoss,
    optimizer=torch.optim.Adam,
    lr=3e-3,
    max_epochs=60,
    batch_size=64,
    train_split=None,
    verbose=0,
).fit(X_train, X_train)

# %%
# Counterfactuals for 3s, to an 8, with and without prototypes
# ------------------------------------------------------------
queries = X_test[(y_test == 3) & (cnn.predict(X_test) == 3)]
encoder = autoencoder.module_.encoder
results = {}
for name, kwargs in [("plain", {}), ("prototype", dict(encoder=encoder))]:
    explainer = ImageCounterfactualExplainer(
        FrozenEstimator(cnn), desired_class=8, **kwargs
    ).fit(X_train, y_train)
    start = time.perf_counter()
    results[name] = explainer.explain(queries)
    seconds = (time.perf_counter() - start) / len(queries)
    print(
        f"{name}: validity {results[name].validity():.0%}, "
        f"{1000 * seconds:.1f} ms per image"
    )

# IM1 / IM2 with class autoencoders (here PCA reconstructions, for speed)
flat = X_train.reshape(len(X_train), -1)
ae = {c: PCA(8, random_state=0).fit(flat[y_train == c]) for c in (3, 8)}
ae_all = PCA(8, random_state=0).fit(flat)
for name, res in results.items():
    cf = res.counterfactuals.reshape(len(res.owner), -1)[res.valid]
    print(f"{name}: IM1 {im1(cf, ae[8], ae[3]):.3f}, IM2 {im2(cf, ae[8], ae_all):.4f}")

# %%
# Query, counterfactual and the change
# ------------------------------------
fig = plt.figure(figsize=(11, 5.6), layout="constrained")
for subfig, name in zip(fig.subfigures(1, 2), results):
    axes = subfig.subplots(3, 3)
    results[name].plot(rows=[0, 1, 2], axes=axes)
    subfig.suptitle(f"{name} search: 3 -> 8", fontsize=10)
plt.show()
