"""The model's decision as linear constraints.

Linear models: the decision function is linear in the model input. Tree
ensembles: one leaf indicator per leaf (their sum is 1 per tree), and for
every split the indicator ``v`` of "input above threshold": the leaves of
the left subtree sum to at most ``1 - v``, those of the right one to at most
``v`` (Misic's formulation; ``v`` is a binary, a sum of category choices, or
a constant). The outputs are then linear in the leaf indicators.
"""

import numpy as np

from skcfx.counterfactual._engine.exact.encoding import UnsupportedModelError
from skcfx.counterfactual._engine.exact.milp import Expr

__all__ = ["Head"]

_FORESTS = (
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "RandomForestRegressor",
    "ExtraTreesRegressor",
)
_SINGLE = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier")


def _subtree_leaves(tree):
    """Leaves under each node of a fitted ``tree_``."""
    left, right = tree.children_left, tree.children_right
    leaves = [None] * tree.node_count
    for node in reversed(range(tree.node_count)):  # children after parents
        if left[node] == -1:
            leaves[node] = [node]
        else:
            leaves[node] = leaves[left[node]] + leaves[right[node]]
    return leaves


class Head:
    """The decision of a fitted linear model or tree ensemble.

    Attributes
    ----------
    kind : {"linear", "trees"}
    rule : {"sign", "argmax", "value"}
        How outputs become the prediction: the sign of one score (binary
        decision functions), the arg-max of several, or the value itself
        (regression).
    """

    def __init__(self, head, input_map, phi0):
        name = type(head).__name__
        self.head = head
        if (
            hasattr(head, "tree_")
            or name in _FORESTS
            or name.startswith("GradientBoost")
        ):
            self.kind = "trees"
            self._trees(head, input_map, phi0)
        elif hasattr(head, "coef_") and hasattr(head, "intercept_"):
            self.kind = "linear"
            W = np.atleast_2d(np.asarray(head.coef_, dtype=float))
            b = np.atleast_1d(np.asarray(head.intercept_, dtype=float))
            self.W, self.b = W, b
            classifier = hasattr(head, "classes_")
            self.rule = (
                ("sign" if W.shape[0] == 1 else "argmax") if classifier else "value"
            )
        else:
            raise UnsupportedModelError(
                f"{name} is neither a linear model nor a tree ensemble; "
                'method="exact" cannot encode it. Use a heuristic method '
                '("genetic", "random" or "kdtree").'
            )

    def _trees(self, head, input_map, phi0):
        name = type(head).__name__
        classifier = hasattr(head, "classes_")
        trees, const = [], None
        if name.startswith("GradientBoost"):
            if not hasattr(head, "estimators_"):
                raise UnsupportedModelError(f"{name} is not fitted.")
            lr = head.learning_rate
            stages = head.estimators_
            K = stages.shape[1]
            for stage in stages:
                for k, est in enumerate(stage):
                    W = np.zeros((est.tree_.node_count, K))
                    W[:, k] = lr * est.tree_.value[:, 0, 0]
                    trees.append((est.tree_, W))
            raw = head.decision_function(phi0) if classifier else head.predict(phi0)
            raw = np.atleast_2d(np.asarray(raw, dtype=float).reshape(1, -1))[0]
            const = raw - sum(W[_leaf(t, phi0)] for t, W in trees)
            self.rule = ("sign" if K == 1 else "argmax") if classifier else "value"
        else:
            ests = (
                [head]
                if name in _SINGLE or hasattr(head, "tree_")
                else head.estimators_
            )
            for est in ests:
                value = est.tree_.value[:, :, :]
                if classifier:
                    W = value[:, 0, :] / np.maximum(
                        value[:, 0, :].sum(axis=1, keepdims=True), 1e-300
                    )
                else:
                    W = value[:, :, 0]
                trees.append((est.tree_, W / len(ests)))
            const = np.zeros(trees[0][1].shape[1])
            self.rule = "argmax" if classifier else "value"
        self.trees = [(t, W, _subtree_leaves(t)) for t, W in trees]
        self.const = const
        self.splits = sorted(
            {
                (int(t.feature[n]), float(t.threshold[n]))
                for t, _, _ in self.trees
                for n in range(t.node_count)
                if t.children_left[n] != -1
            }
        )

    def outputs(self, milp, phi, above):
        """Score expressions of the model.

        ``phi(f)`` gives input ``f`` as an expression (linear models);
        ``above(f, threshold)`` the indicator expression of a split (trees).
        """
        if self.kind == "linear":
            return [
                Expr(const=b) + _dot(w, phi, len(w)) for w, b in zip(self.W, self.b)
            ]
        acc = [dict() for _ in self.const]
        for tree, W, leaves in self.trees:
            leaf_ids = leaves[0]
            lam = {leaf: milp.var(0.0, 1.0) for leaf in leaf_ids}
            milp.add(Expr({lam[leaf]: 1.0 for leaf in leaf_ids}), 1.0, 1.0)
            left, right = tree.children_left, tree.children_right
            for node in range(tree.node_count):
                if left[node] == -1:
                    continue
                v = above(int(tree.feature[node]), float(tree.threshold[node]))
                milp.add(Expr({lam[x]: 1.0 for x in leaves[left[node]]}) + v, hi=1.0)
                milp.add(Expr({lam[x]: 1.0 for x in leaves[right[node]]}) - v, hi=0.0)
            for o in range(W.shape[1]):
                acc[o].update((lam[x], W[x, o]) for x in leaf_ids)
        return [Expr(a, c) for a, c in zip(acc, self.const)]

    def decide(self, milp, scores, target, eps, low=None, high=None):
        """Constraints that the prediction is class index ``target`` (or,
        for a regressor, lies in ``[low, high]``)."""
        if self.rule == "value":
            milp.add(scores[0], low, high)
        elif self.rule == "sign":
            if target == 1:
                milp.add(scores[0], lo=eps)
            else:
                milp.add(scores[0], hi=0.0)
        else:  # arg-max, ties to the first class
            for k, s in enumerate(scores):
                if k != target:
                    milp.add(scores[target] - s, lo=eps if k < target else 0.0)


def _dot(w, phi, p):
    out = Expr()
    for f in range(p):
        if w[f] != 0:
            out = out + phi(f) * w[f]
    return out


def _leaf(tree, X):
    return tree.apply(np.asarray(X, dtype=np.float32))[0]
