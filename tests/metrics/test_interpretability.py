"""IM1 and IM2 on digits with per-class PCA autoencoders (no torch needed)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skcfx.metrics import im1, im2


@pytest.fixture(scope="module")
def autoencoders():
    digits = load_digits()
    X, y = digits.data / 16, digits.target
    ae = {c: PCA(8, random_state=0).fit(X[y == c][:-20]) for c in (3, 8)}
    ae["all"] = PCA(8, random_state=0).fit(X)
    return X, y, ae


def test_real_images_of_the_target_class_score_low(autoencoders):
    X, y, ae = autoencoders
    eights = X[y == 8][-20:]  # held out from the class autoencoders
    assert im1(eights, ae[8], ae[3]) < 1.0 < im1(eights, ae[3], ae[8])
    threes = X[y == 3][-20:]
    # an 8 judged as an 8 agrees with the all-data autoencoder; a 3 does not
    assert im2(eights, ae[8], ae["all"]) < im2(threes, ae[8], ae["all"])
    per_row = im1(eights, ae[8], ae[3], average=False)
    assert per_row.shape == (20,) and np.all(per_row >= 0)


def test_images_and_callables_accepted(autoencoders):
    X, y, ae = autoencoders
    imgs = X[y == 8][-5:].reshape(5, 8, 8)

    def identity(rows):
        return rows

    assert im1(imgs, identity, ae[3]) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="must reconstruct its input"):
        im1(imgs, lambda rows: rows[:, :3], identity)
    with pytest.raises(TypeError, match="got int"):
        im2(imgs, 3, identity)
