"""Loader of the bundled UCI Sentiment Labelled Sentences data set."""

from importlib import resources

import pandas as pd
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

__all__ = ["load_sentiment"]

_SOURCES = ("amazon", "imdb", "yelp")


@validate_params(
    {
        "source": [StrOptions({"all", *_SOURCES})],
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_sentiment(*, source="all", as_frame=True, return_X_y=False):
    """Load the sentiment-labelled review sentences bundled with skcfx.

    Short English sentences from amazon.com, imdb.com and yelp.com reviews,
    each labelled positive (1) or negative (0); a small, real text data set
    for explaining text classifiers (for example a
    :class:`~sklearn.feature_extraction.text.CountVectorizer` pipeline).

    ================   ==============
    Samples total      3,000 (1,000 per source, balanced)
    Features           the sentence (and its source)
    Target             ``label``: 1 positive, 0 negative
    ================   ==============

    Read more in the description returned in ``DESCR``.

    Parameters
    ----------
    source : {"all", "amazon", "imdb", "yelp"}, default="all"
        Keep the sentences of one website only.
    as_frame : bool, default=True
        If True, ``data`` is a :class:`pandas.Series` of sentences and
        ``target`` a Series; otherwise object and integer ndarrays.
    return_X_y : bool, default=False
        If True, return ``(sentences, labels)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (the sentences), ``target``, ``source`` (the website
        of each sentence), ``frame`` (all three columns), ``target_names``
        and ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skcfx.datasets import load_sentiment
    >>> X, y = load_sentiment(return_X_y=True)
    >>> len(X), int(y.sum())
    (3000, 1500)
    >>> load_sentiment(source="yelp").data.iloc[0]
    'Wow... Loved this place.'
    """
    path = resources.files("skcfx.datasets") / "data" / "sentiment.csv.gz"
    with resources.as_file(path) as fname:
        frame = pd.read_csv(
            fname, compression="gzip", keep_default_na=False, dtype=object
        )
    frame["label"] = frame["label"].astype("int64")
    if source != "all":
        frame = frame[frame["source"] == source].reset_index(drop=True)
    descr = (resources.files("skcfx.datasets") / "descr" / "sentiment.rst").read_text(
        encoding="utf-8"
    )
    data, target, src = frame["sentence"], frame["label"], frame["source"]
    if not as_frame:
        data = data.to_numpy(dtype=object)
        target = target.to_numpy()
        src = src.to_numpy(dtype=object)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        source=src,
        frame=frame if as_frame else None,
        target_names=["negative", "positive"],
        DESCR=descr,
    )
