"""TCAV scores with a significance test against random concepts."""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_is_fitted

from skcfx.concepts._cav import ConceptCAV
from skcfx.exceptions import SkcfxWarning
from skcfx.utils._progress import progress

__all__ = ["tcav"]


def _target_column(head, target, classes):
    """Column of the head's output for a class label (or an index)."""
    if classes is None:
        classes = getattr(head, "classes_", None)
    if classes is not None:
        classes = np.asarray(classes)
        hit = np.flatnonzero(classes == target)
        if len(hit):
            return int(hit[0])
        if not isinstance(target, (Integral, np.integer)):
            raise ValueError(
                f"target={target!r} is not a class of the head; classes: "
                f"{classes.tolist()}."
            )
    if not isinstance(target, (Integral, np.integer)) or target < 0:
        raise ValueError(
            f"target={target!r} must be a class label (pass classes=) or a "
            "column index of the head's output."
        )
    return int(target)


def _head_gradients(head, A, target):
    """Gradient of the ``target`` logit with respect to each row of ``A``."""
    import torch

    from skcfx.concepts._activations import _head_module
    from skcfx.utils._torch import device_of, eval_mode

    module = _head_module(head, "tcav")
    device = device_of(module)
    with eval_mode(module):
        a = torch.as_tensor(np.asarray(A, dtype=np.float32), device=device)
        a.requires_grad_(True)
        logits = module(a)
        if logits.ndim != 2 or not 0 <= target < logits.shape[1]:
            raise ValueError(
                f"target={target} is not a column of the head's output of shape "
                f"{tuple(logits.shape)}."
            )
        (grad,) = torch.autograd.grad(logits[:, target].sum(), a)
    return grad.detach().cpu().numpy().astype(np.float64)


def _adjust(p, correction):
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if correction == "bonferroni":
        return np.minimum(p * m, 1.0)
    if correction == "fdr_bh":
        return stats.false_discovery_control(p, method="bh")
    # Holm's step-down: sorted p_(i) * (m - i), made monotone.
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


@validate_params(
    {
        "head": [object],
        "concepts": [dict, ConceptCAV],
        "X": ["array-like"],
        "target": "no_validation",
        "random_activations": ["array-like", None],
        "classes": ["array-like", None],
        "method": [StrOptions({"svm", "logistic", "mean_difference"})],
        "n_random": [Interval(Integral, 2, None, closed="left")],
        "set_size": [Interval(Integral, 2, None, closed="left"), None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"holm", "bonferroni", "fdr_bh"})],
        "test": [StrOptions({"prediction", "welch"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def tcav(
    head,
    concepts,
    X,
    target,
    *,
    random_activations=None,
    classes=None,
    method="svm",
    n_random=20,
    set_size=None,
    alpha=0.05,
    correction="holm",
    test="prediction",
    random_state=None,
    verbose=0,
):
    """TCAV scores of a class for each concept, tested against random concepts.

    For concept ``c`` and a random counter-example set ``R``, a CAV ``v`` is
    learned on the layer activations (concept examples against ``R``); the
    TCAV score is the fraction of the class's inputs whose target logit
    increases along ``v`` (``grad h_target(a) . v > 0``). The CAV is
    retrained against ``n_random`` different random sets, giving
    ``n_random`` scores per concept; a null distribution comes from the same
    number of *random* concepts (a random set against another, disjoint
    random set). The concept's mean score is tested against the null scores
    (see ``test``), the p-values are corrected for testing several concepts,
    and the effect size (the difference of means in standard deviations of
    the null scores) is reported. A large p-value means the concept does not
    matter for the class more than a random direction does.

    Read more in the :ref:`User Guide <concepts>`.

    Parameters
    ----------
    head : torch.nn.Module, fitted skorch net or scikit-learn classifier
        The model from the concept layer to the logits: a torch module, a
        fitted skorch net, or a classifier fitted on the activations
        (``LogisticRegression`` and other linear models, ``MLPClassifier``,
        a Pipeline of ``StandardScaler`` / ``MinMaxScaler`` in front of one),
        rebuilt in torch. For the layers above a hidden layer of an
        MLPClassifier, see :func:`mlp_head`.
    concepts : dict of str to array-like, or fitted ConceptCAV
        Either the layer activations of each concept's examples (a CAV is
        then retrained against ``n_random`` random sets per concept, as in
        the TCAV paper), or a fitted :class:`ConceptCAV`, whose CAVs are
        tested as they are (one score per concept).
    X : array-like of shape (n_class_examples, n_features)
        Activations of the inputs of the tested class.
    target : int or class label
        The class whose sensitivity is tested: a label of ``classes`` (by
        default the head's ``classes_`` when it has them), else a column
        index of the head's output.
    random_activations : array-like of shape (n_random_examples, n_features), \
            default=None
        Activations of random inputs: the pool of counter-example sets and
        of random concepts. Required when ``concepts`` is a dict; with a
        fitted ConceptCAV and no pool, the null distribution comes from
        ``n_random`` random unit directions of the activation space.
    classes : array-like of shape (n_outputs,), default=None
        Class labels of the head's output columns (for a torch head), so
        that ``target`` may be a label.
    method : {"svm", "logistic", "mean_difference"}, default="svm"
        How each CAV is learned (see :class:`ConceptCAV`).
    n_random : int, default=20
        Random counter-example sets per concept, and random concepts in the
        null distribution.
    set_size : int or None, default=None
        Size of each random set; None uses the median number of concept
        examples, capped at half the random pool.
    alpha : float, default=0.05
        Level of the corrected test.
    correction : {"holm", "bonferroni", "fdr_bh"}, default="holm"
        Multiple-testing correction across concepts.
    test : {"prediction", "welch"}, default="prediction"
        ``"prediction"``: is the concept's mean score a plausible draw from
        the random directions' scores? (a two-sided prediction-interval t
        test, ``t = (mean_c - mean_r) / (sd_r sqrt(1 + 1/n_random))`` with
        ``n_random - 1`` degrees of freedom). ``"welch"``: the two-sample
        Welch t-test of the original TCAV paper. The concept's ``n_random``
        scores are repeated measurements of nearly the same direction, so
        their spread is much smaller than that of random directions and
        Welch's test flags concepts whose CAV leaks slightly towards a
        relevant direction. On synthetic activations with one relevant and
        two irrelevant concepts (12 runs, ``tests/concepts/test_tcav.py``'s
        setup over 6 seeds and 2 methods) Welch's test flagged an irrelevant
        concept in 4 of 24 tests and the prediction test in none; the
        prediction test found the relevant concept in 9 of 12 runs, Welch's
        in 12 of 12.
    random_state : int, RandomState instance or None, default=None
        Seed of the random sets; an int gives identical scores and p-values.
    verbose : int, default=0
        A progress bar over the random runs when positive (needs tqdm, the
        ``progress`` extra; silently none without it).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With ``frame`` (a DataFrame indexed by concept with ``tcav_mean``,
        ``tcav_std``, ``random_mean``, ``random_std``, ``effect_size``,
        ``p_value``, ``p_adjusted``, ``significant``), ``scores`` (ndarray of
        shape (n_concepts, n_random)), ``random_scores`` (ndarray of shape
        (n_random,)) and ``concept_names``.

    References
    ----------
    .. [1] B. Kim et al., "Interpretability Beyond Feature Attribution:
       Quantitative Testing with Concept Activation Vectors (TCAV)",
       ICML 2018.
    """
    column = _target_column(head, target, classes)
    class_acts = check_array(X, dtype=np.float64)
    G = _head_gradients(head, class_acts, column)
    rng = check_random_state(random_state)
    if isinstance(concepts, ConceptCAV):
        check_is_fitted(concepts)
        if concepts.cavs_.shape[1] != G.shape[1]:
            raise ValueError(
                f"The ConceptCAV was fitted on activations of width "
                f"{concepts.cavs_.shape[1]} but X has width {G.shape[1]}."
            )
        names = concepts.concept_names_.tolist()
        # one score per fitted CAV; repeated n_random times so the test below
        # treats it as a (constant) sample
        fixed = np.mean(G @ concepts.cavs_.T > 0, axis=0)
        scores = np.repeat(fixed[:, None], n_random, axis=1)
        random_scores = np.empty(n_random)
        if random_activations is None:
            for r in range(n_random):
                v = rng.standard_normal(G.shape[1])
                random_scores[r] = float(np.mean(G @ (v / np.linalg.norm(v)) > 0))
        else:
            R = check_array(random_activations, dtype=np.float64, input_name="random")
            size = max(2, min(len(R) // 2, 50))
            learner = ConceptCAV(method=method)
            runs = progress(range(n_random), verbose=verbose, desc="TCAV random")
            for r in runs:
                idx = rng.permutation(len(R))
                A = np.vstack([R[idx[:size]], R[idx[size : 2 * size]]])
                yy = np.r_[np.ones(size, dtype=int), np.zeros(size, dtype=int)]
                w, _ = learner._boundary(A, yy, rng.randint(np.iinfo(np.int32).max))
                random_scores[r] = float(np.mean(G @ w > 0))
        return _tcav_result(
            names, scores, random_scores, n_random, alpha, correction, test
        )
    if not concepts:
        raise ValueError("concepts is empty; pass at least one concept.")
    if random_activations is None:
        raise ValueError(
            "random_activations is required when concepts holds example "
            "activations (the random counter-example sets come from it); "
            "pass a pool of activations of random inputs."
        )
    R = check_array(random_activations, dtype=np.float64, input_name="random")
    names = list(concepts)
    sets = {}
    for name in names:
        Ac = check_array(concepts[name], dtype=np.float64, input_name=str(name))
        if Ac.shape[1] != R.shape[1]:
            raise ValueError(
                f"Concept {name!r} has activations of width {Ac.shape[1]} but "
                f"random_activations have width {R.shape[1]}."
            )
        sets[name] = Ac
    if set_size is None:
        set_size = int(np.median([len(a) for a in sets.values()]))
    set_size = min(set_size, len(R) // 2)
    if set_size < 2:
        raise ValueError(
            f"random_activations has {len(R)} rows; at least 4 are needed to "
            "draw two disjoint random sets."
        )
    learner = ConceptCAV(method=method)

    def score(pos, neg, seed):
        A = np.vstack([pos, neg])
        y = np.r_[np.ones(len(pos), dtype=int), np.zeros(len(neg), dtype=int)]
        w, _ = learner._boundary(A, y, seed)
        return float(np.mean(G @ w > 0))

    scores = np.empty((len(names), n_random))
    random_scores = np.empty(n_random)
    for r in progress(range(n_random), verbose=verbose, desc="TCAV random sets"):
        idx = rng.permutation(len(R))
        neg, other = R[idx[:set_size]], R[idx[set_size : 2 * set_size]]
        seed = rng.randint(np.iinfo(np.int32).max)
        for i, name in enumerate(names):
            scores[i, r] = score(sets[name], neg, seed)
        random_scores[r] = score(other, neg, seed)
    return _tcav_result(names, scores, random_scores, n_random, alpha, correction, test)


def _tcav_result(names, scores, random_scores, n_random, alpha, correction, test):
    """Significance test of each concept's scores against the random ones."""
    if np.all((random_scores == 0) | (random_scores == 1)):
        warnings.warn(
            "Every random direction gives a TCAV score of 0 or 1: the target "
            "logit's gradient points the same way for every input "
            "(a linear head, or a saturated layer), so the test cannot flag "
            "any concept. Test a layer further from the output.",
            SkcfxWarning,
            stacklevel=3,
        )
    p_values, effects = [], []
    r_mean, r_sd = random_scores.mean(), random_scores.std(ddof=1)
    for i in range(len(names)):
        diff = scores[i].mean() - r_mean
        if test == "welch":
            spread = np.sqrt((scores[i].var(ddof=1) + r_sd**2) / 2)
            if np.ptp(scores[i]) == 0 and r_sd == 0:
                p = 1.0 if diff == 0 else 0.0
            else:
                p = stats.ttest_ind(scores[i], random_scores, equal_var=False).pvalue
        else:
            # Is the concept's mean score a plausible draw from the scores of
            # random directions? A prediction-interval t-test.
            spread = r_sd
            if r_sd == 0:
                p = 1.0 if diff == 0 else 0.0
            else:
                t = diff / (r_sd * np.sqrt(1 + 1 / n_random))
                p = 2 * stats.t.sf(abs(t), df=n_random - 1)
        if spread > 0:
            effects.append(diff / spread)
        else:  # constant scores: no effect, or an infinitely clear one
            effects.append(0.0 if diff == 0 else np.sign(diff) * np.inf)
        p_values.append(float(p))
    p_adjusted = _adjust(p_values, correction)
    frame = pd.DataFrame(
        {
            "tcav_mean": scores.mean(axis=1),
            "tcav_std": scores.std(axis=1, ddof=1),
            "random_mean": random_scores.mean(),
            "random_std": random_scores.std(ddof=1),
            "effect_size": effects,
            "p_value": p_values,
            "p_adjusted": p_adjusted,
            "significant": p_adjusted < alpha,
        },
        index=pd.Index(names, name="concept"),
    )
    return Bunch(
        frame=frame,
        scores=scores,
        random_scores=random_scores,
        concept_names=names,
    )
