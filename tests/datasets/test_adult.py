import numpy as np
import pandas as pd

from skcfx.datasets import load_adult


def test_load_adult_frame():
    bunch = load_adult()
    X, y = bunch.data, bunch.target
    assert X.shape == (30162, 14)
    assert list(X.columns) == bunch.feature_names
    assert not X.isna().any().any()
    assert set(np.unique(y)) == {0, 1}
    assert X["age"].dtype == np.int64
    assert X["workclass"].dtype == object
    assert isinstance(X["education"].dtype, pd.CategoricalDtype)
    assert X["education"].dtype.ordered
    assert list(X["education"].cat.categories[:2]) == ["Preschool", "1st-4th"]
    assert "?" not in set(X["occupation"])
    assert "CC BY 4.0" in bunch.DESCR
    assert bunch.frame.shape == (30162, 15)
    # education_num is the rank of education
    codes = X["education"].cat.codes.to_numpy() + 1
    assert (codes == X["education_num"].to_numpy()).all()


def test_load_adult_keep_missing_and_arrays():
    X, y = load_adult(missing="keep", return_X_y=True)
    assert X.shape == (32561, 14)
    assert X[["workclass", "occupation", "native_country"]].isna().any().all()
    Xa, ya = load_adult(as_frame=False, return_X_y=True)
    assert isinstance(Xa, np.ndarray) and Xa.dtype == object
    assert ya.shape == (30162,)
