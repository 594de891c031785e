"""Plots of concept scores, TCAV results and conceptual counterfactuals."""

import numpy as np

__all__ = ["plot_cce_weights", "plot_concept_scores", "plot_tcav"]


def _axes(ax, width=6, height=3):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(width, height))
    return ax


def plot_concept_scores(scores, concept_names, *, ax=None):
    """Horizontal bars of one row's concept scores (positive = present).

    Parameters
    ----------
    scores : array-like of shape (n_concepts,)
        One row of :meth:`ConceptCAV.transform`.
    concept_names : array-like of str of shape (n_concepts,)
        ``ConceptCAV.concept_names_``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
    """
    scores = np.asarray(scores, dtype=float).ravel()
    ax = _axes(ax, height=0.35 * len(scores) + 1)
    colors = np.where(scores > 0, "tab:blue", "tab:gray")
    ax.barh(np.arange(len(scores)), scores, color=colors)
    ax.set_yticks(np.arange(len(scores)), labels=list(concept_names))
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("concept score (signed distance to the CAV boundary)")
    return ax


def plot_tcav(result, *, ax=None):
    """TCAV scores with error bars, the random baseline and significance marks.

    Parameters
    ----------
    result : Bunch
        From :func:`skcfx.concepts.tcav`.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
    """
    frame = result.frame
    ax = _axes(ax, width=max(4, 0.9 * len(frame) + 2))
    x = np.arange(len(frame))
    ax.bar(x, frame.tcav_mean, yerr=frame.tcav_std, capsize=3, color="tab:blue")
    mean, std = frame.random_mean.iloc[0], frame.random_std.iloc[0]
    ax.axhspan(mean - std, mean + std, color="tab:gray", alpha=0.25)
    ax.axhline(mean, color="tab:gray", linestyle="--", label="random concepts")
    for xi, (_, row) in zip(x, frame.iterrows()):
        if row.significant:
            ax.text(xi, min(row.tcav_mean + row.tcav_std, 1.0) + 0.02, "*", ha="center")
    ax.set_xticks(x, labels=list(frame.index), rotation=30, ha="right")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("TCAV score")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_cce_weights(result, row, *, top=None, ax=None):
    """The concept weights of one conceptual counterfactual.

    Parameters
    ----------
    result : Bunch
        From :func:`skcfx.concepts.conceptual_counterfactuals`.
    row : int
        Which explained row.
    top : int or None, default=None
        Show only the ``top`` concepts with the largest absolute weights.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
    """
    w = np.asarray(result.weights[row], dtype=float)
    names = np.asarray(result.concept_names, dtype=object)
    order = np.argsort(-np.abs(w), kind="stable")[: top or len(w)]
    ax = _axes(ax, height=0.35 * len(order) + 1)
    colors = np.where(w[order] > 0, "tab:green", "tab:red")
    ax.barh(np.arange(len(order)), w[order], color=colors)
    ax.set_yticks(np.arange(len(order)), labels=list(names[order]))
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("concept weight (change in concept score added to the activations)")
    status = "fixed" if result.success[row] else "not fixed"
    ax.set_title(f"CCE: add (green) / remove (red) concepts ({status})", fontsize=9)
    return ax
