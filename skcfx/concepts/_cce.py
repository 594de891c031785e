"""Conceptual counterfactual explanations (CCE, Abid et al. 2022)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from skcfx.concepts._cav import ConceptCAV

__all__ = ["conceptual_counterfactuals"]


@validate_params(
    {
        "head": [object],
        "concepts": [ConceptCAV],
        "X": ["array-like"],
        "y": ["array-like"],
        "classes": ["array-like", None],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def conceptual_counterfactuals(
    head,
    concepts,
    X,
    y,
    *,
    classes=None,
    l1=0.01,
    l2=0.01,
    max_iter=200,
    learning_rate=0.1,
):
    """Which concepts would have to change to fix each mistake of a model.

    For every row that ``head`` misclassifies, CCE looks for sparse concept
    weights ``w`` such that the head predicts the true class on
    ``a + w @ cavs_`` (the activation moved along the unit concept
    directions). It minimises the cross-entropy of the head's logits against
    the true class plus ``l1 |w|_1 + l2 |w|_2^2``, for all misclassified rows
    at once (one tensor, Adam), under CCE's constraints, enforced by
    projection after each step:

    - a concept already present in the row (score > 0) can only be removed
      (``w_j <= 0``), a concept absent from it (score < 0) only added
      (``w_j >= 0``);
    - the moved row's concept scores stay within the range of scores seen on
      the concept's training rows (``margin_range_``; the projection uses
      each concept's own direction, exact when the CAVs are orthogonal).

    Read more in the :ref:`User Guide <concepts>`.

    Parameters
    ----------
    head : torch.nn.Module, fitted skorch net or scikit-learn classifier
        Maps the layer's activations to the class logits (see :func:`tcav`
        for the scikit-learn models accepted).
    concepts : fitted ConceptCAV
        The concept bank, learned on the head's input layer.
    X : array-like of shape (n_samples, n_features)
        Activations of the rows to explain.
    y : array-like of shape (n_samples,)
        True classes: labels of ``classes`` (by default the head's
        ``classes_`` when it has them), else column indices of the head's
        output.
    classes : array-like of shape (n_outputs,), default=None
        Class labels of the head's output columns (for a torch head).
    l1, l2 : float, default=0.01
        Penalties on the concept weights (sparsity and size).
    max_iter : int, default=200
        Optimisation steps.
    learning_rate : float, default=0.1
        Adam's step size.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With ``weights`` (ndarray of shape (n_samples, n_concepts), zeros for
        rows the head already gets right), ``misclassified`` (bool, shape
        (n_samples,)), ``success`` (bool: the head predicts the true class on
        the moved activation; True for rows that were right), ``prediction``
        (the head's class on the moved activation), ``ranking`` (ndarray of
        shape (n_samples, n_concepts): concept indices from the largest
        positive weight, the concept most to add, to the most negative, the
        concept most to remove) and ``concept_names``.

    References
    ----------
    .. [1] A. Abid, M. Yuksekgonul and J. Zou, "Meaningfully Debugging Model
       Mistakes using Conceptual Counterfactual Explanations", ICML 2022.
    """
    from skcfx.concepts._activations import _head_module
    from skcfx.utils._torch import device_of, eval_mode, require_torch, to_float32

    torch = require_torch("conceptual_counterfactuals")
    check_is_fitted(concepts)
    A = validate_data(concepts, X, reset=False, dtype=np.float64)
    y = column_or_1d(y)
    if classes is None:
        classes = getattr(head, "classes_", None)
    if classes is not None:
        classes = np.asarray(classes)
        index = {c: i for i, c in enumerate(classes.tolist())}
        unknown = sorted({v for v in y.tolist() if v not in index}, key=str)
        if unknown and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"y holds {unknown[:5]}, not classes of the head: {classes.tolist()}."
            )
        if not unknown:
            y = np.array([index[v] for v in y.tolist()], dtype=np.int64)
    y = y.astype(np.int64)
    if len(y) != len(A):
        raise ValueError(f"X has {len(A)} rows but y has {len(y)}.")
    module = _head_module(head, "conceptual_counterfactuals")
    device = device_of(module)
    V = torch.as_tensor(to_float32(concepts.cavs_), device=device)
    scores = concepts.transform(A)
    lo = concepts.margin_range_[:, 0] - scores  # w_j >= lo_j keeps s_j >= min
    hi = concepts.margin_range_[:, 1] - scores
    lower = np.where(scores > 0, np.minimum(lo, 0), 0.0)
    upper = np.where(scores > 0, 0.0, np.maximum(hi, 0))
    a = torch.as_tensor(to_float32(A), device=device)
    target = torch.as_tensor(y, device=device)
    with eval_mode(module):
        with torch.no_grad():
            n_out = module(a[:1]).shape[1]
            if y.min() < 0 or y.max() >= n_out:
                raise ValueError(
                    f"y holds class {int(y.max() if y.max() >= n_out else y.min())}"
                    f", outside the head's {n_out} output columns."
                )
            before = module(a).argmax(dim=1).cpu().numpy()
        wrong = before != y
        weights = np.zeros_like(scores)
        prediction = before.copy()
        if wrong.any():
            rows = np.flatnonzero(wrong)
            low = torch.as_tensor(to_float32(lower[rows]), device=device)
            up = torch.as_tensor(to_float32(upper[rows]), device=device)
            w = torch.zeros((len(rows), V.shape[0]), device=device, requires_grad=True)
            opt = torch.optim.Adam([w], lr=learning_rate)
            a_rows, t_rows = a[rows], target[rows]
            for _ in range(max_iter):
                opt.zero_grad()
                logits = module(a_rows + w @ V)
                loss = (
                    torch.nn.functional.cross_entropy(logits, t_rows, reduction="sum")
                    + l1 * w.abs().sum()
                    + l2 * (w**2).sum()
                )
                loss.backward()
                opt.step()
                with torch.no_grad():
                    w.copy_(torch.minimum(torch.maximum(w, low), up))
            with torch.no_grad():
                prediction[rows] = module(a_rows + w @ V).argmax(dim=1).cpu().numpy()
            weights[rows] = w.detach().cpu().numpy()
    return Bunch(
        weights=weights,
        misclassified=wrong,
        success=prediction == y,
        prediction=prediction,
        ranking=np.argsort(-weights, axis=1, kind="stable"),
        concept_names=concepts.concept_names_.tolist(),
    )
