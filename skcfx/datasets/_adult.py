"""Loader of the bundled UCI Adult data set."""

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

__all__ = ["load_adult"]

EDUCATION_LEVELS = [
    "Preschool",
    "1st-4th",
    "5th-6th",
    "7th-8th",
    "9th",
    "10th",
    "11th",
    "12th",
    "HS-grad",
    "Some-college",
    "Assoc-voc",
    "Assoc-acdm",
    "Bachelors",
    "Masters",
    "Prof-school",
    "Doctorate",
]

_CATEGORICAL = [
    "workclass",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "gender",
    "native_country",
]
# The eight columns of DiCE's Adult tutorial.
DICE_COLUMNS = [
    "age",
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "race",
    "gender",
    "hours_per_week",
]

_INTEGER = [
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
]


@validate_params(
    {
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
        "missing": [StrOptions({"drop", "keep"})],
        "subset": [StrOptions({"all", "dice"})],
    },
    prefer_skip_nested_validation=True,
)
def load_adult(*, as_frame=True, return_X_y=False, missing="drop", subset="all"):
    """Load the UCI Adult (census income) data set bundled with skcfx.

    The raw columns are returned (categorical columns as strings, with
    ``education`` an ordered categorical from ``Preschool`` to
    ``Doctorate``), so the data can go through a user's own
    :class:`~sklearn.pipeline.Pipeline`. Read more in the description
    returned in ``DESCR``.

    ================   ==============
    Samples total      32,561 (30,162 with ``missing="drop"``)
    Features           14
    Target             ``income``: 1 if > 50K, else 0
    ================   ==============

    Parameters
    ----------
    as_frame : bool, default=True
        If True, ``data`` is a :class:`pandas.DataFrame` and ``target`` a
        :class:`pandas.Series`. If False, ``data`` is an object ndarray.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    missing : {"drop", "keep"}, default="drop"
        The original file marks unknown ``workclass``, ``occupation`` and
        ``native_country`` with ``"?"``. ``"drop"`` removes those 2,399
        rows; ``"keep"`` keeps them with missing values (``NaN``).
    subset : {"all", "dice"}, default="all"
        ``"dice"`` keeps the eight columns of DiCE's Adult tutorial: age,
        workclass, education, marital_status, occupation, race, gender and
        hours_per_week.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes ``data``, ``target``,
        ``frame`` (data and target together), ``feature_names``,
        ``target_names``, ``categorical_features`` and ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skcfx.datasets import load_adult
    >>> X, y = load_adult(return_X_y=True)
    >>> X.shape
    (30162, 14)
    >>> round(float(y.mean()), 3)
    0.249
    >>> str(X["education"].dtype)
    'category'
    >>> load_adult(subset="dice", return_X_y=True)[0].shape
    (30162, 8)
    """
    path = resources.files("skcfx.datasets") / "data" / "adult.csv.gz"
    with resources.as_file(path) as fname:
        frame = pd.read_csv(
            fname,
            compression="gzip",
            na_values=["?"],
            keep_default_na=False,
            dtype={c: "int64" for c in _INTEGER},
        )
    if missing == "drop":
        frame = frame.dropna().reset_index(drop=True)
    for col in _CATEGORICAL:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), np.nan)
    frame["education"] = pd.Categorical(
        frame["education"], categories=EDUCATION_LEVELS, ordered=True
    )
    frame["income"] = (frame["income"] == ">50K").astype("int64")
    if subset == "dice":
        frame = frame[DICE_COLUMNS + ["income"]]
    feature_names = [c for c in frame.columns if c != "income"]
    data = frame[feature_names]
    target = frame["income"]
    descr = (resources.files("skcfx.datasets") / "descr" / "adult.rst").read_text(
        encoding="utf-8"
    )
    if not as_frame:
        data = data.to_numpy(dtype=object)
        target = target.to_numpy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame if as_frame else None,
        feature_names=feature_names,
        target_names=["<=50K", ">50K"],
        categorical_features=[
            c for c in _CATEGORICAL + ["education"] if c in feature_names
        ],
        DESCR=descr,
    )
