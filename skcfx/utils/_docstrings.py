"""Docstring fragments shared by several estimators.

Each fragment is substituted into a docstring with :func:`substitute`, in the
manner of imbalanced-learn's ``Substitution`` decorator, so that the text of
common parameters is written once.
"""

_random_state_docstring = (
    "random_state : int, RandomState instance or None, default=None\n"
    "        Controls every random draw of the estimator. Pass an int for\n"
    "        reproducible output across calls: the same int gives identical\n"
    "        fitted attributes and explanations."
)

_n_jobs_docstring = """n_jobs : int, default=None
        Number of jobs over which queries are spread with joblib.
        ``None`` means 1 unless in a :obj:`joblib.parallel_config` context,
        which then decides (its ``n_jobs`` and back end: processes, threads,
        a dask or ray cluster); ``-1`` means all processors. Under joblib's
        default back end on Linux the jobs are processes forked from the
        caller, which share the fitted model and training summary with it
        instead of receiving copies; a back end named with
        ``parallel_config`` is used as named. Results do not depend on
        ``n_jobs`` nor on the back end."""

_explanations_docstring = """Parameters
    ----------
    explanations : CounterfactualExplanations
        From :meth:`~skcfx.CounterfactualExplainer.explain` or
        :meth:`~skcfx.CounterfactualExplainer.evaluate`."""

_DOCS = {
    "explanations": _explanations_docstring,
    "random_state": _random_state_docstring,
    "n_jobs": _n_jobs_docstring,
}


def substitute(**kwargs):
    """Decorator filling ``{name}`` placeholders of a docstring.

    Parameters
    ----------
    **kwargs : str
        Extra fragments in addition to the shared ones.

    Returns
    -------
    decorator : callable
        Returns the decorated object with its ``__doc__`` formatted.
    """
    params = {**_DOCS, **kwargs}

    def decorator(obj):
        doc = obj.__doc__
        if doc:
            # Plain replacement rather than str.format: docstrings hold dict
            # literals whose braces must stay untouched.
            for key, value in params.items():
                doc = doc.replace("{" + key + "}", value)
            # ``{{`` / ``}}`` escape literal braces (str.format style)
            obj.__doc__ = doc.replace("{{", "{").replace("}}", "}")
        return obj

    return decorator
