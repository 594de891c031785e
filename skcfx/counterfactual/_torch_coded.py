"""torch forward pass of a model from the coded feature space (lazy import).

Numeric columns enter as their raw values; each categorical column enters as
a (relaxed) one-hot vector over the feature space's categories. A leading
ColumnTransformer of StandardScaler / MinMaxScaler / OneHotEncoder /
passthrough / drop is rebuilt in torch from its fitted attributes, so the
gradient search can run on raw pandas data behind the user's Pipeline.
"""

import numpy as np
import torch
from torch import nn

from skcfx.utils._torch_nn import Affine

__all__ = ["CodedModel"]


class _Block(nn.Module):
    """One ColumnTransformer entry: numeric affine/passthrough or one-hot."""

    def __init__(self, kind, columns, scale=None, offset=None, maps=None):
        super().__init__()
        self.kind = kind
        self.columns = list(columns)
        if kind == "affine":
            self.affine = Affine(scale, offset)
        self.maps = nn.ParameterList(
            [
                nn.Parameter(
                    torch.as_tensor(m, dtype=torch.float32), requires_grad=False
                )
                for m in (maps or [])
            ]
        )

    def forward(self, Z, cats):
        if self.kind == "onehot":
            return torch.cat(
                [cats[j] @ m for j, m in zip(self.columns, self.maps)], dim=1
            )
        X = Z[:, self.columns]
        return self.affine(X) if self.kind == "affine" else X


class CodedModel(nn.Module):
    """Logits of the model from coded rows and relaxed categorical one-hots.

    ``forward(Z, cats)``: ``Z`` (m, d) coded rows (categorical entries are
    ignored), ``cats`` a dict column index -> (m, K_j) probabilities over the
    feature space's categories of that column.
    """

    def __init__(self, blocks, head):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.head = head

    def forward(self, Z, cats):
        if not len(self.blocks):
            return self.head(Z)
        return self.head(torch.cat([b(Z, cats) for b in self.blocks], dim=1))


def build_blocks(ct, space, step_name, affine_of):
    """torch blocks reproducing a fitted ColumnTransformer's output."""
    names = space.names
    blocks = []
    for name, trans, cols in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        idx = [
            names.index(c) if isinstance(c, str) else int(c)
            for c in np.atleast_1d(cols)
        ]
        if len(idx) == 0:
            continue
        categorical = [j for j in idx if space.is_categorical[j]]
        where = f"{step_name}.{name}"
        if (
            isinstance(trans, str)
            and trans == "passthrough"
            or type(trans).__name__ == "FunctionTransformer"
            and trans.func is None
        ):
            if categorical:
                raise TypeError(
                    f"Categorical column(s) {[names[j] for j in categorical]} are "
                    f"passed through by {where!r}; the gradient search needs them "
                    "one-hot encoded. Use a model-agnostic method."
                )
            blocks.append(_Block("pass", idx))
            continue
        kind = type(trans).__name__
        if kind == "OneHotEncoder":
            if trans.drop_idx_ is not None:
                raise TypeError(
                    f"{where!r} is a OneHotEncoder with drop={trans.drop!r}; the "
                    "gradient search supports drop=None. Use a model-agnostic method."
                )
            maps = []
            for j, cats in zip(idx, trans.categories_):
                space_cats = list(space.categories[j])
                pos = {str(c): i for i, c in enumerate(cats)}
                M = np.zeros((len(space_cats), len(cats)))
                for a, c in enumerate(space_cats):
                    if str(c) in pos:
                        M[a, pos[str(c)]] = 1.0
                maps.append(M)
            blocks.append(_Block("onehot", idx, maps=maps))
            continue
        affine = affine_of(trans)
        if affine is None or categorical:
            raise TypeError(
                f'method="gradient" cannot differentiate {where!r} '
                f"({kind}); supported: StandardScaler, MinMaxScaler and "
                "passthrough on numeric columns, OneHotEncoder (drop=None) on "
                'categorical ones. Use a model-agnostic method ("genetic", '
                '"random" or "kdtree").'
            )
        blocks.append(_Block("affine", idx, *affine))
    return blocks
