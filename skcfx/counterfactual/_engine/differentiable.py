"""The model as a torch function of the coded feature space (gradient method).

Imported lazily (torch is an optional extra); built by
:func:`skcfx.counterfactual._engine.models.coded_forward`.

Numeric columns enter as their raw values; each categorical column enters as
a (relaxed) one-hot vector over the feature space's categories. A leading
ColumnTransformer is rebuilt in torch from its fitted attributes, so the
gradient search can run on raw pandas data behind the user's Pipeline:
StandardScaler / MinMaxScaler / MaxAbsScaler / SimpleImputer (the identity
on complete rows) / passthrough / drop, or a Pipeline of these, on numeric
columns, and on
categorical columns any encoder that maps each category to a fixed vector
(OneHotEncoder with any ``drop``, infrequent categories or unknown-category
handling, OrdinalEncoder, TargetEncoder, ...). Such an encoder's output is
``base + sum_j onehot_j @ M_j``, with the tables read off the fitted encoder
itself (one ``transform`` call per column) and checked on random rows.
"""

import numpy as np
import torch
from torch import nn

from skcfx.utils._torch import device_of
from skcfx.utils._torch_nn import Affine

__all__ = ["CodedModel", "build_blocks"]


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
        if self.kind == "table":
            out = self.maps[0].expand(Z.shape[0], -1)  # the base row
            for j, m in zip(self.columns, self.maps[1:]):
                out = out + cats[j] @ m
            return out
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
        # the rebuilt preprocessing lives on the head's device
        device = device_of(head)
        self.blocks = nn.ModuleList(blocks).to(device)
        self.head = head

    def forward(self, Z, cats):
        if not len(self.blocks):
            return self.head(Z)
        return self.head(torch.cat([b(Z, cats) for b in self.blocks], dim=1))


def build_blocks(ct, space, step_name, affine_of):
    """torch blocks reproducing a fitted ColumnTransformer's output."""
    from skcfx.counterfactual._engine.models import (
        category_tables,
        coded_selections,
        is_identity,
    )

    blocks = []
    for name, trans, idx in coded_selections(ct, space):
        categorical = [j for j in idx if space.is_categorical[j]]
        where = f"{step_name}.{name}"
        kind = type(trans).__name__
        if categorical and len(categorical) == len(idx):
            maps = category_tables(trans, idx, space, where)
            # a missing category passed on as NaN: a row the gradient search
            # never holds (it neither starts from nor makes missing values),
            # kept out of the products (0 * NaN would poison every row)
            maps = [np.nan_to_num(M, nan=0.0) for M in maps]
            blocks.append(_Block("table", idx, maps=maps))
            continue
        if is_identity(trans):
            blocks.append(_Block("pass", idx))
            continue
        affine = affine_of(trans)
        if affine is None or categorical:
            raise TypeError(
                f'method="gradient" cannot differentiate {where!r} '
                f"({kind}); supported: StandardScaler, MinMaxScaler, "
                "MaxAbsScaler, SimpleImputer, passthrough and Pipelines of "
                "these on numeric columns, encoders of categorical "
                "columns alone (OneHotEncoder, OrdinalEncoder, ...). Use a "
                'model-agnostic method ("genetic", "random" or "kdtree").'
            )
        blocks.append(_Block("affine", idx, *affine))
    return blocks
