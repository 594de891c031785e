"""``text_counterfactuals``: the one-call form of TextCounterfactualExplainer."""

import numpy as np
from sklearn.frozen import FrozenEstimator

from skcfx.counterfactual._text.edits import OPERATIONS
from skcfx.counterfactual._text.explainer import (
    TextCounterfactualExplainer,
    check_texts,
)

__all__ = ["text_counterfactuals"]


def text_counterfactuals(
    model,
    texts,
    *,
    desired_class="opposite",
    n_counterfactuals=3,
    max_edits=3,
    beam_width=10,
    n_substitutes=30,
    operations=OPERATIONS,
    vocabulary=None,
    protected=(),
    edit_scope="polar",
    min_effect=0.05,
):
    """Few-word edits of each sentence that change a trained text
    classifier's mind, in one call.

    A convenience over :class:`TextCounterfactualExplainer` (same search and
    parameters; see it for the edits): the model is used as it is and its
    single-word predictions are learned from ``texts`` on every call. To
    learn them once, tune the hyperparameters with GridSearchCV or keep
    the caller's index labels, use the estimator.

    Parameters
    ----------
    model : fitted classifier on raw strings
        With ``classes_`` and ``predict_proba`` or ``decision_function``.
    texts : sequence of str
        The sentences to explain. Not modified.
    desired_class : label or "opposite", default="opposite"
        The class to reach.
    n_counterfactuals : int, default=3
        At most this many per sentence.
    max_edits : int, default=3
        Edits per counterfactual at most.
    beam_width : int, default=10
        Edit sets kept per sentence and round.
    n_substitutes : int, default=30
        Replacement words tried.
    operations : sequence of {"delete", "replace", "negate"}
        Allowed edits.
    vocabulary : sequence of str, default=None
        Replacement candidates.
    protected : sequence of str, default=()
        Words (case-insensitive) never edited.
    edit_scope : {"polar", "all"}, default="polar"
        Which words "replace" and "negate" may touch.
    min_effect : float, default=0.05
        Polarity threshold, in probability.

    Returns
    -------
    counterfactuals : DataFrame
        One row per counterfactual: ``query`` (position in ``texts``),
        ``rank``, ``text``, ``edits``, ``edit_list``, ``n_edits``,
        ``prediction``, ``probability`` and ``valid``; ``attrs["found"]``
        holds one boolean per sentence and ``attrs["status"]`` "found",
        "not found" or "already desired". The estimator's
        :class:`TextCounterfactualExplanations` is in
        ``attrs["explanations"]``.
    """
    texts, _ = check_texts(texts, name="texts")
    explainer = TextCounterfactualExplainer(
        FrozenEstimator(model),
        desired_class=desired_class,
        n_counterfactuals=n_counterfactuals,
        max_edits=max_edits,
        beam_width=beam_width,
        n_substitutes=n_substitutes,
        operations=tuple(operations),
        vocabulary=None if vocabulary is None else list(vocabulary),
        protected=tuple(protected),
        edit_scope=edit_scope,
        min_effect=min_effect,
    )
    expl = explainer.fit(texts).explain(texts)
    out = expl.to_frame()
    out["query"] = expl.owner
    found = expl.status == "found"
    already = expl.status == "query already has the desired outcome"
    out.attrs["found"] = np.asarray(found, dtype=bool)
    out.attrs["status"] = np.where(
        already, "already desired", np.where(found, "found", "not found")
    )
    out.attrs["explanations"] = expl
    return out
