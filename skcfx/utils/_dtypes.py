"""Which columns are categorical, decided once for every estimator."""

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

__all__ = ["is_categorical_dtype"]


def is_categorical_dtype(dtype):
    """True for a pandas category, bool, string or object dtype: a column
    whose values are labels rather than numbers."""
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or is_bool_dtype(dtype)
        or not is_numeric_dtype(dtype)
    )
