"""Discovery of the public estimators of skcfx.

Used by ``tests/test_common.py`` so that a new estimator cannot escape the
scikit-learn common checks.
"""

import inspect
import pkgutil
from importlib import import_module
from operator import itemgetter

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]

_MODULES_TO_IGNORE = {"tests", "testing", "datasets"}


def all_estimators():
    """List the public estimators defined in skcfx.

    Returns
    -------
    estimators : list of (name, class) tuples
        Sorted by name. Private classes (leading underscore), abstract
        classes and classes imported from other packages are excluded.

    Examples
    --------
    >>> from skcfx.utils import all_estimators
    >>> [name for name, _ in all_estimators()]
    ['ConceptBottleneck', 'ConceptCAV', 'CounterfactualAugmenter',
     'CounterfactualExplainer', 'ImageCounterfactualExplainer', 'L2XSelector',
     'NGramLanguageModel', 'StructuralCausalModel',
     'TextCounterfactualExplainer', 'TextPerturber']
    """
    import skcfx

    found = set()
    root = skcfx.__path__
    for _, module_name, _ in pkgutil.walk_packages(root, prefix="skcfx."):
        parts = module_name.split(".")
        if any(p.startswith("_") or p in _MODULES_TO_IGNORE for p in parts[1:]):
            continue
        try:
            module = import_module(module_name)
        except ImportError:  # an optional extra (torch) is missing
            continue
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and not name.startswith("_")
                and cls.__module__.startswith("skcfx.")
                and not inspect.isabstract(cls)
            ):
                found.add((name, cls))
    return sorted(found, key=itemgetter(0))
