"""Digit counterfactuals with and without prototype guidance: validity, IM1, IM2, speed.

The setting of the gallery example ``plot_digit_counterfactuals.py``, on 100
held-out digits: a skorch CNN, a small skorch autoencoder for the prototypes,
each image sent to a chosen other class (the next digit, ``(label + 1) %
10``). IM1 and IM2 use per-class PCA(8) reconstructions as the class
autoencoders (and PCA(8) on all digits for IM2's AE). The explainer is
``ImageCounterfactualExplainer`` on the frozen CNN, fitted once (the
prototypes' training codes); timing is the batched ``explain`` on all 100
images, after a warm-up.

    python bench_image_counterfactuals.py --out results/image_counterfactuals.md
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from skorch import NeuralNet, NeuralNetClassifier
from torch import nn

from skcfx import ImageCounterfactualExplainer
from skcfx.metrics import im1, im2


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


def per_class(metric, cf, target, orig, ae, ae_all):
    values = np.empty(len(cf))
    for t in np.unique(target):
        for o in np.unique(orig[target == t]):
            rows = (target == t) & (orig == o)
            other = ae[o] if metric is im1 else ae_all
            values[rows] = metric(cf[rows], ae[t], other, average=False)
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    digits = load_digits()
    X = (digits.data / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(
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
    ).fit(X_tr, y_tr)
    auto = NeuralNet(
        AutoEncoder,
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=3e-3,
        max_epochs=60,
        batch_size=64,
        train_split=None,
        verbose=0,
    ).fit(X_tr, X_tr)
    right = np.flatnonzero(cnn.predict(X_te) == y_te)[: args.n_images]
    queries, orig = X_te[right], y_te[right]
    target = (orig + 1) % 10
    flat_tr = X_tr.reshape(len(X_tr), -1)
    ae = {c: PCA(8, random_state=0).fit(flat_tr[y_tr == c]) for c in range(10)}
    ae_all = PCA(8, random_state=0).fit(flat_tr)
    rows = []
    for name, kwargs in [
        ("plain", {}),
        ("prototype", dict(encoder=auto.module_.encoder)),
    ]:
        explainer = ImageCounterfactualExplainer(
            FrozenEstimator(cnn), pixel_bounds=(0.0, 1.0), **kwargs
        ).fit(X_tr, y_tr)
        explainer.set_params(max_steps=20).explain(queries[:5], target[:5])
        explainer.set_params(max_steps=300)
        start = time.perf_counter()
        expl = explainer.explain(queries, desired_class=target)
        seconds = time.perf_counter() - start
        res = expl.best()  # one per image; every image needs one here
        assert (expl.owner == np.arange(len(queries))).all()
        cf = np.nan_to_num(res).reshape(len(queries), -1)
        ok = expl.valid
        rows.append(
            dict(
                guidance=name,
                n_images=len(queries),
                validity=ok.mean(),
                im1=per_class(im1, cf[ok], target[ok], orig[ok], ae, ae_all).mean(),
                im2=per_class(im2, cf[ok], target[ok], orig[ok], ae, ae_all).mean(),
                l1_change=np.abs(expl.delta).reshape(len(queries), -1).sum(1).mean(),
                s_per_image=seconds / len(queries),
            )
        )
        print(rows[-1], flush=True)
    text = pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g")
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            "Command: `python bench_image_counterfactuals.py --out "
            "results/image_counterfactuals.md`\n\n" + text + "\n"
        )
        args.out.with_suffix(".rst").write_text(
            pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g", tablefmt="rst")
            + "\n"
        )


if __name__ == "__main__":
    main()
