"""Fitted tree ensembles read into one flat form.

Every supported model (decision trees, random forests, extra trees,
gradient boosting, histogram gradient boosting; classifiers and regressors)
is a sum of trees: ``scores = const + sum_t value_t[leaf_t(x)]``, one score
per output. Here every tree's leaves are numbered depth-first (left before
right), so that the leaves under any node form one contiguous range, and
each split node is kept with its input, threshold and the two leaf ranges
of its children. How a split compares is the model's own: scikit-learn's
``tree_`` compares float32 inputs with float64 thresholds, histogram
gradient boosting compares float64 inputs; a missing value goes the way the
node learned. A histogram gradient boosting's native categorical split
sends the categories in its left set left, the other categories it knows
right, and a missing, negative or unknown category the missing values' way
(its own prediction code, ``_predictor.pyx``): kept as a 256-entry table
of directions per split.
"""

import numpy as np

from skcfx.counterfactual._engine.exact.encoding import UnsupportedModelError

__all__ = [
    "Ensemble",
    "as_tree_sees",
    "categorical_right",
    "is_tree_ensemble",
    "n_leaves",
]

_FORESTS = (
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "RandomForestRegressor",
    "ExtraTreesRegressor",
)


def as_tree_sees(values):
    """Inputs as scikit-learn's trees compare them with their float64
    thresholds: rounded to float32, then compared in float64 (comparing a
    float32 array with a Python float would round the threshold too)."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def is_tree_ensemble(head):
    """True for the tree models :class:`Ensemble` reads."""
    name = type(head).__name__
    return (
        hasattr(head, "tree_")
        or name in _FORESTS
        or name.startswith("GradientBoost")
        or name.startswith("HistGradientBoost")
    )


def n_leaves(head):
    """Leaves of a fitted tree model, counted without reading its trees."""
    if type(head).__name__.startswith("HistGradientBoost"):
        return sum(
            int(p.nodes["is_leaf"].sum()) for stage in head._predictors for p in stage
        )
    if hasattr(head, "tree_"):
        return int(head.tree_.n_leaves)
    ests = np.ravel(head.estimators_)
    return sum(int(est.tree_.n_leaves) for est in ests)


def n_split_values(head):
    """Distinct (input, threshold) pairs of a fitted tree model's splits:
    the size of the column options its branch and bound sets up (each
    option's leaf mask costs a pass over the leaves)."""
    if type(head).__name__.startswith("HistGradientBoost"):
        pairs = [
            np.column_stack(
                [
                    p.nodes["feature_idx"][~p.nodes["is_leaf"].astype(bool)],
                    p.nodes["num_threshold"][~p.nodes["is_leaf"].astype(bool)],
                ]
            )
            for stage in head._predictors
            for p in stage
        ]
    else:
        ests = [head] if hasattr(head, "tree_") else np.ravel(head.estimators_)
        pairs = []
        for est in ests:
            t = est.tree_
            inner = t.children_left >= 0
            pairs.append(np.column_stack([t.feature[inner], t.threshold[inner]]))
    if not pairs:
        return 0
    return len(np.unique(np.vstack(pairs), axis=0))


class _Tree:
    """One tree as plain arrays: children (-1 at leaves), split input and
    threshold, missing-value direction, and per-node output values."""

    def __init__(
        self, left, right, feature, threshold, missing_left, value, cat_right=None
    ):
        self.left, self.right = np.asarray(left), np.asarray(right)
        self.feature = np.asarray(feature)
        self.threshold = np.asarray(threshold, dtype=float)
        self.missing_left = np.asarray(missing_left, dtype=bool)
        self.value = np.asarray(value, dtype=float)  # (n_nodes, n_outputs)
        # native categorical splits: node -> (256,) bool, True = right
        self.cat_right = cat_right or {}

    @classmethod
    def from_sklearn(cls, tree, value):
        missing = getattr(tree, "missing_go_to_left", None)
        if missing is None:
            missing = np.zeros(tree.node_count, dtype=bool)
        return cls(
            tree.children_left,
            tree.children_right,
            tree.feature,
            tree.threshold,
            missing,
            value,
        )

    def leaf_of(self, phi, float32):
        """The leaf node reached by the input vector ``phi``."""
        node = 0
        while self.left[node] != -1:
            v = phi[self.feature[node]]
            if node in self.cat_right:
                right = bool(
                    categorical_right(
                        np.array([v]), self.cat_right[node], self.missing_left[node]
                    )[0]
                )
            elif np.isnan(v):
                right = not self.missing_left[node]
            else:
                v = as_tree_sees(v) if float32 else v
                right = v > self.threshold[node]
            node = self.right[node] if right else self.left[node]
        return node


def categorical_right(values, table, missing_left):
    """Directions (True = right) of native categorical splits for input
    values: missing, negative or beyond 255 the missing values' way, else
    the category's entry of the split's ``table`` (256 directions; values
    cut to integers, as the model's own code casts them). ``table`` is one
    split's (256,) or, with ``missing_left``, broadcast against ``values``
    row by row: (..., 256)."""
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values) & (values >= 0) & (values < 256)
    code = np.where(ok, values, 0).astype(np.intp)
    table = np.asarray(table)
    if table.ndim == 1:
        known = table[code]
    else:
        known = np.take_along_axis(table, code[..., None], axis=-1)[..., 0]
    return np.where(ok, known, ~np.asarray(missing_left, dtype=bool))


def _bits(words):
    """The 256 membership flags of a histogram gradient boosting bitset
    (eight 32-bit words)."""
    words = np.asarray(words, dtype=np.uint32)
    return ((words[:, None] >> np.arange(32, dtype=np.uint32)) & 1).astype(bool).ravel()


def _read(head):
    """``(trees, float32, classifier, n_outputs)`` of a fitted model; the
    trees' values already weighted as the model sums them."""
    name = type(head).__name__
    classifier = hasattr(head, "classes_")
    if name.startswith("HistGradientBoost"):
        preds = getattr(head, "_predictors", None)
        if preds is None:
            raise UnsupportedModelError(f"{name} is not fitted.")
        trees = []
        K = len(preds[0])
        known, f_idx = None, None
        for stage in preds:
            for k, predictor in enumerate(stage):
                nodes = predictor.nodes
                leaf = nodes["is_leaf"].astype(bool)
                cat_right = {}
                for n in np.flatnonzero(nodes["is_categorical"].astype(bool) & ~leaf):
                    if known is None:
                        known, f_idx = head._bin_mapper.make_known_categories_bitsets()
                    f = int(nodes["feature_idx"][n])
                    left = _bits(predictor.raw_left_cat_bitsets[nodes["bitset_idx"][n]])
                    seen = _bits(known[f_idx[f]])
                    missing_right = not bool(nodes["missing_go_to_left"][n])
                    cat_right[int(n)] = ~left & (seen | missing_right)
                value = np.zeros((len(nodes), K))
                value[:, k] = np.where(leaf, nodes["value"], 0.0)
                trees.append(
                    _Tree(
                        np.where(leaf, -1, nodes["left"].astype(np.intp)),
                        np.where(leaf, -1, nodes["right"].astype(np.intp)),
                        nodes["feature_idx"],
                        nodes["num_threshold"],
                        nodes["missing_go_to_left"],
                        value,
                        cat_right,
                    )
                )
        return trees, False, classifier, K
    if name.startswith("GradientBoost"):
        if not hasattr(head, "estimators_"):
            raise UnsupportedModelError(f"{name} is not fitted.")
        K = head.estimators_.shape[1]
        trees = []
        for stage in head.estimators_:
            for k, est in enumerate(stage):
                value = np.zeros((est.tree_.node_count, K))
                value[:, k] = head.learning_rate * est.tree_.value[:, 0, 0]
                trees.append(_Tree.from_sklearn(est.tree_, value))
        return trees, True, classifier, K
    ests = [head] if hasattr(head, "tree_") else list(head.estimators_)
    trees = []
    for est in ests:
        value = np.asarray(est.tree_.value, dtype=float)
        if classifier:
            if value.shape[1] != 1:
                raise UnsupportedModelError(
                    f"{name} has several outputs; method='exact' explains one."
                )
            W = value[:, 0, :] / np.maximum(
                value[:, 0, :].sum(axis=1, keepdims=True), 1e-300
            )
        else:
            W = value[:, :, 0]
        trees.append(_Tree.from_sklearn(est.tree_, W / len(ests)))
    return trees, True, classifier, trees[0].value.shape[1]


class Ensemble:
    """A fitted tree model as leaves and splits (see the module docstring).

    Parameters
    ----------
    head : fitted tree model
    phi0 : ndarray (1, p)
        One input row (the model's own raw output there fixes ``const``).
    row : DataFrame or ndarray, optional
        What the model takes for the row ``phi0`` comes from, for a model
        that encodes its own input (a histogram gradient boosting's native
        categories).

    Attributes
    ----------
    rule : {"sign", "argmax", "value"}
        How scores become the prediction: the sign of one score (binary
        boosting), the arg-max of several (ties to the first class), or the
        value itself (regression).
    const : ndarray (n_outputs,)
    leaf_value : ndarray (n_leaves, n_outputs)
        Every tree's leaves, in one array.
    tree_start : ndarray (n_trees,)
        Index of each tree's first leaf.
    split_input, split_threshold, split_missing_left : ndarray (n_splits,)
    split_left, split_right : ndarray (n_splits, 2)
        ``[start, stop)`` leaf ranges under each split's children.
    split_categorical : ndarray (n_splits,)
        A native categorical split's row of ``cat_right`` (its direction
        per category code, True = right); -1 for a threshold split.
    float32 : bool
        Whether splits compare float32 inputs.
    """

    def __init__(self, head, phi0, row=None):
        name = type(head).__name__
        trees, self.float32, classifier, K = _read(head)
        leaf_value, tree_start = [], []
        s_in, s_thr, s_miss, s_left, s_right = [], [], [], [], []
        s_cat, cat_tables = [], []
        offset = 0
        self._rank = []
        for tree in trees:
            tree_start.append(offset)
            leaves, order = _depth_first(tree)
            leaf_value.extend(tree.value[leaves])
            order = {n: (offset + a, offset + z) for n, (a, z) in order.items()}
            self._rank.append({n: r for r, n in enumerate(leaves)})
            offset += len(leaves)
            for node in range(len(tree.left)):
                if tree.left[node] == -1 or node not in order:
                    continue
                s_in.append(int(tree.feature[node]))
                s_thr.append(float(tree.threshold[node]))
                if node in tree.cat_right:
                    s_cat.append(len(cat_tables))
                    cat_tables.append(tree.cat_right[node])
                else:
                    s_cat.append(-1)
                s_miss.append(bool(tree.missing_left[node]))
                s_left.append(order[tree.left[node]])
                s_right.append(order[tree.right[node]])
        self.leaf_value = np.asarray(leaf_value, dtype=float).reshape(offset, K)
        self.tree_start = np.asarray(tree_start, dtype=np.intp)
        self.split_input = np.asarray(s_in, dtype=np.intp)
        self.split_threshold = np.asarray(s_thr, dtype=float)
        self.split_missing_left = np.asarray(s_miss, dtype=bool)
        # native categorical splits: their row of ``cat_right`` (-1: numeric)
        self.split_categorical = np.asarray(s_cat, dtype=np.intp)
        self.cat_right = (
            np.vstack(cat_tables) if cat_tables else np.zeros((0, 256), dtype=bool)
        )
        self.split_left = np.asarray(s_left, dtype=np.intp).reshape(-1, 2)
        self.split_right = np.asarray(s_right, dtype=np.intp).reshape(-1, 2)
        self.n_outputs = K
        self._trees = trees
        boosting = name.startswith(("GradientBoost", "HistGradientBoost"))
        if row is None and hasattr(head, "feature_names_in_"):  # on a DataFrame
            import pandas as pd

            row = pd.DataFrame(phi0, columns=head.feature_names_in_)
        elif row is None:
            row = phi0
        if boosting:
            self.rule = ("sign" if K == 1 else "argmax") if classifier else "value"
            if classifier:
                raw = head.decision_function(row)
            elif hasattr(head, "_raw_predict"):
                raw = head._raw_predict(row)
                if not np.allclose(raw.ravel(), head.predict(row).ravel()):
                    raise UnsupportedModelError(
                        f"{name} predicts through a non-identity link ({head.loss!r} "
                        "loss); method='exact' reads identity-link regressors."
                    )
            else:
                raw = head.predict(row)
            raw = np.asarray(raw, dtype=float).reshape(-1)
            leaves = self.leaves_of(phi0[0])
            self.const = raw - self.leaf_value[leaves].sum(axis=0)
        else:
            self.rule = "argmax" if classifier else "value"
            self.const = np.zeros(K)

    def apply_threshold(self, head, offset, response):
        """Decide as a decision threshold around the model does
        (FixedThresholdClassifier, TunedThresholdClassifierCV; binary):
        class 1 exactly when the thresholded score is at least the
        threshold, as the sign of one score. Boosting thresholds its raw
        score (log-odds) at ``offset`` (a probability threshold's log-odds,
        or the threshold on decision scores); a forest or tree its averaged
        probability of class 1 at the threshold itself."""
        name = type(head).__name__
        if self.n_classes() != 2:
            raise UnsupportedModelError(f"{name} with a threshold must be binary.")
        if self.rule == "sign":
            if response == "predict_proba" and getattr(head, "loss", "") == (
                "exponential"
            ):
                offset = offset / 2.0  # its probability is expit(2 * raw)
            self.const = self.const - offset
        else:  # averaged class probabilities: p1 >= t
            t = 1.0 / (1.0 + np.exp(-offset))
            self.leaf_value = self.leaf_value[:, 1:2].copy()
            self.const = self.const[1:2] - t
            self.n_outputs = 1
            self.rule = "sign"
        self.__dict__.pop("_ranked", None)

    def leaves_of(self, phi):
        """Global leaf index reached in each tree by the input ``phi``."""
        out = []
        for t, tree in enumerate(self._trees):
            node = tree.leaf_of(phi, self.float32)
            out.append(self.tree_start[t] + self._rank[t][node])
        return np.asarray(out, dtype=np.intp)

    def n_classes(self):
        return 2 if self.rule == "sign" else self.n_outputs

    def ranked(self, v):
        """Leaves ranked by ``v`` within each tree: ``(code, size, by_rank)``
        with ``code`` the leaf's rank from the bottom (the best leaf of a
        tree of ``n`` leaves has code ``n``), ``size`` each tree's number of
        leaves and ``by_rank[start + r]`` the value of its rank-``r`` leaf."""
        key = v.tobytes()
        cache = self.__dict__.setdefault("_ranked", {})
        if key not in cache:
            L = len(v)
            bounds = np.append(self.tree_start, L)
            size = np.diff(bounds)
            dtype = np.int16 if size.max(initial=0) < 2**15 else np.int32
            code, by_rank = np.empty(L, dtype=dtype), np.empty(L)
            for a, b in zip(bounds[:-1], bounds[1:]):
                order = np.argsort(-v[a:b], kind="stable")
                rank = np.empty(b - a, dtype=np.intp)
                rank[order] = np.arange(b - a)
                code[a:b] = (b - a) - rank
                by_rank[a:b] = v[a:b][order]
            if len(cache) > 64:  # one entry per margin: a few per model
                cache.clear()
            cache[key] = (code, size, by_rank)
        return cache[key]

    def split_columns(self, input_map):
        """The raw column each split's input depends on (-1: none)."""
        if getattr(self, "_split_col", None) is None:
            col = {}
            for f in np.unique(self.split_input):
                j = input_map.single_column(int(f))
                col[int(f)] = -1 if j is None else int(j)
            self._split_col = np.array(
                [col[int(f)] for f in self.split_input], dtype=np.intp
            )
        return self._split_col

    def goes_right(self, values, s):
        """Outcomes of splits ``s`` (an index or an array broadcasting with
        ``values``' last axis) for their input values: True = right."""
        values = np.asarray(values, dtype=float)
        seen = as_tree_sees(values) if self.float32 else values
        with np.errstate(invalid="ignore"):
            right = seen > self.split_threshold[s]
        right = np.where(np.isnan(values), ~self.split_missing_left[s], right)
        cat = self.split_categorical[s]
        if np.any(cat >= 0):
            cat, values, miss = np.broadcast_arrays(
                cat, values, self.split_missing_left[s]
            )
            table = self.cat_right[np.maximum(cat, 0)]
            native = categorical_right(values, table, miss)
            right = np.where(cat >= 0, native, right)
        return right


def _depth_first(tree):
    """Leaves of ``tree`` depth-first (left first), and the ``[start,
    stop)`` range of leaf positions under every node."""
    leaves, order, stack = [], {}, [(0, False)]
    while stack:
        node, done = stack.pop()
        if tree.left[node] == -1:
            order[node] = (len(leaves), len(leaves) + 1)
            leaves.append(node)
        elif done:
            order[node] = (order[tree.left[node]][0], order[tree.right[node]][1])
        else:
            stack += [(node, True), (tree.right[node], False), (tree.left[node], False)]
    return np.asarray(leaves, dtype=np.intp), order
