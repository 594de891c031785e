"""Concept tools: speed of ConceptCAV, CCE and TCAV, TCAV side by side with captum.

1. ``ConceptCAV.fit`` on 170 concepts x 512-d activations, 100 examples and
   100 counter-examples each (svm, logistic, mean_difference); transform of
   100,000 rows.
2. CCE: milliseconds per explained mistake (170 concepts, 512-d, a 2-layer
   head), batched.
3. TCAV with 20 random counter-example sets on the digits MLP of the
   spurious-concept example (class 3, second hidden layer, the five digit
   concepts), skcfx against captum's ``TCAV`` on the same torch model, layer,
   concept images and random images; both timed end to end from images.

captum lives in the benchmark's own environment (see README.md)::

    python bench_concepts.py --out results/concepts.md
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skcfx import ConceptCAV
from skcfx.concepts import conceptual_counterfactuals, layer_activations, tcav
from skcfx.datasets import add_digit_concept, make_digit_concepts


def best_of(func, repeat=3):
    func()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def cav_speed(rows):
    rng = np.random.RandomState(0)
    m, d, n = 170, 512, 100
    A = rng.standard_normal((m * 2 * n, d))
    C = np.full((m * 2 * n, m), np.nan)
    for j in range(m):
        C[j * 2 * n : (j + 1) * 2 * n, j] = np.r_[np.ones(n), np.zeros(n)]
        A[j * 2 * n : (j * 2 + 1) * n, j] += 2.0
    for method in ["svm", "logistic", "mean_difference"]:
        est = ConceptCAV(method=method, random_state=0)
        rows.append(
            dict(
                task=f"fit 170 concepts, 512-d ({method})",
                skcfx_s=best_of(lambda est=est: est.fit(A, C)),
            )
        )
    X = rng.standard_normal((100_000, d))
    rows.append(
        dict(task="transform 100,000 rows", skcfx_s=best_of(lambda: est.transform(X)))
    )
    head = torch.nn.Sequential(
        torch.nn.Linear(d, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
    )
    X = A[:200]
    with torch.no_grad():
        pred = head(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy()
    y = (pred + 1) % 10
    seconds = best_of(lambda: conceptual_counterfactuals(head, est, X, y), repeat=2)
    rows.append(
        dict(task="CCE per explanation (200 mistakes batched)", skcfx_s=seconds / 200)
    )


def torch_mlp(mlp):
    """The fitted scikit-learn MLP as an equivalent torch Sequential."""
    layers = []
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W.T, dtype=torch.float32))
            lin.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
        layers.append(lin)
        if i < len(mlp.coefs_) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).eval()


def tcav_side_by_side(rows, n_random):
    digits = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(
        digits.data,
        digits.target,
        test_size=0.4,
        stratify=digits.target,
        random_state=0,
    )
    X_tr = X_tr.copy()
    X_tr[y_tr == 3] = add_digit_concept(X_tr[y_tr == 3], "corner_patch")
    mlp = MLPClassifier((64, 32), max_iter=600, random_state=0).fit(X_tr / 16, y_tr)
    model = torch_mlp(mlp)
    layer = "3"  # the ReLU after the second Linear: hidden layer 1
    bank = make_digit_concepts(concept_rate=0.5, random_state=1)
    names = bank.concept_names
    concept_images = {
        c: (bank.data[bank.concepts[c].to_numpy() == 1][:100] / 16).astype(np.float32)
        for c in names
    }
    random_images = (digits.data / 16).astype(np.float32)
    class_images = (X_te[y_te == 3] / 16).astype(np.float32)

    def ours():
        acts = {
            c: layer_activations(model, imgs, layer)
            for c, imgs in concept_images.items()
        }
        head = torch.nn.Sequential(*list(model)[4:])
        return tcav(
            head,
            acts,
            layer_activations(model, class_images, layer),
            3,
            random_activations=layer_activations(model, random_images, layer),
            n_random=n_random,
            set_size=100,
            random_state=0,
        )

    start = time.perf_counter()
    res = ours()
    ours_s = time.perf_counter() - start

    from captum.concept import TCAV, Concept
    from torch.utils.data import DataLoader

    rng = np.random.RandomState(0)

    def loader(arr):
        return DataLoader(torch.as_tensor(arr), batch_size=50)

    concepts = [Concept(i, c, loader(concept_images[c])) for i, c in enumerate(names)]
    randoms = [
        Concept(
            100 + r,
            f"random_{r}",
            loader(random_images[rng.choice(len(random_images), 100, replace=False)]),
        )
        for r in range(n_random + 1)
    ]
    sets = [[c, randoms[r]] for c in concepts for r in range(1, n_random + 1)]
    sets += [[randoms[0], randoms[r]] for r in range(1, n_random + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        captum_tcav = TCAV(model=model, layers=[layer], save_path=tmp)
        out = captum_tcav.interpret(
            inputs=torch.as_tensor(class_images), experimental_sets=sets, target=3
        )
        captum_s = time.perf_counter() - start
    captum_scores = {}
    for key, by_layer in out.items():
        first = key.split("-")[0]
        captum_scores.setdefault(first, []).append(
            float(by_layer[layer]["sign_count"][0])
        )
    rows.append(
        dict(
            task=f"TCAV, 5 concepts x {n_random} random sets + {n_random} "
            "random-vs-random",
            skcfx_s=ours_s,
            captum_s=captum_s,
        )
    )
    table = res.frame[["tcav_mean", "p_adjusted", "significant"]].copy()
    table["captum_tcav_mean"] = [np.mean(captum_scores[str(c.id)]) for c in concepts]
    table["captum_random_mean"] = np.mean(captum_scores[str(randoms[0].id)])
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-random", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    cav_speed(rows)
    scores = tcav_side_by_side(rows, args.n_random)
    speed = pd.DataFrame(rows)
    text = (
        speed.to_markdown(index=False, floatfmt=".4g")
        + "\n\nTCAV scores of class 3 on the spurious-concept MLP:\n\n"
        + scores.to_markdown(floatfmt=".3g")
    )
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            "Command: `python bench_concepts.py --out results/concepts.md`\n\n"
            + text
            + "\n"
        )
        args.out.with_suffix(".rst").write_text(
            speed.to_markdown(index=False, floatfmt=".4g", tablefmt="rst")
            + "\n\n"
            + scores.to_markdown(floatfmt=".3g", tablefmt="rst")
            + "\n"
        )


if __name__ == "__main__":
    main()
