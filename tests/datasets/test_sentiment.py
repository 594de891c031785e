"""The bundled sentiment sentences load as the UCI files hold them."""

import numpy as np
import pytest

from skcfx.datasets import load_sentiment


def test_counts_balance_and_sources():
    bunch = load_sentiment()
    assert len(bunch.data) == 3000
    assert bunch.frame["source"].value_counts().to_dict() == {
        "amazon": 1000,
        "imdb": 1000,
        "yelp": 1000,
    }
    assert bunch.frame.groupby("source")["label"].sum().tolist() == [500, 500, 500]
    assert "CC BY 4.0" in bunch.DESCR and "Kotzias" in bunch.DESCR


def test_imdb_read_without_quoting():
    X, y = load_sentiment(source="imdb", return_X_y=True)
    assert len(X) == 1000
    # sentences with unbalanced quotes stay single rows, untrimmed content kept
    assert X.str.contains('"').any()
    assert not X.str.contains("\t").any()
    assert (X.str.len() > 0).all() and (X == X.str.strip()).all()


def test_array_output():
    X, y = load_sentiment(source="amazon", as_frame=False, return_X_y=True)
    assert X.dtype == object and y.dtype == np.int64 and len(X) == 1000


def test_bad_source_is_named():
    with pytest.raises(ValueError, match="'source' parameter"):
        load_sentiment(source="twitter")
