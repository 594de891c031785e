"""How validity is decided: the model's outcome on coded candidates.

:class:`Oracle` scores a batch of coded candidates with **one** call to the
model (``predict_proba``, ``decision_function`` or ``predict``) plus the user
predicates, and decides which reach the desired outcome; the searches, the
post-hoc steps and the final result all ask it (the result with exact
isolation of the rows the model fails on), so validity is decided in one
place.
"""

import numpy as np
from sklearn.utils import _safe_indexing

from skcfx.counterfactual._base import in_range
from skcfx.counterfactual._engine.candidates import distinct_rows

__all__ = ["Oracle"]

_FAILED_LOSS = 1e6  # loss of a candidate the model raised on


class Oracle:
    """Batch evaluation of candidates against the desired outcome.

    Parameters
    ----------
    model : fitted estimator
    space : FeatureSpace
    constraints : Constraints
    to_model : ModelInput
        Turns a decoded DataFrame into what the model was fitted on.
    task : {"classification", "regression"}
    classes : ndarray or None
    use_predict : bool
        Decide validity from ``predict`` instead of the arg-max of the
        scores (for models whose ``predict`` is not that arg-max, such as a
        tuned decision threshold).
    y_scale : float
        Scale of a regressor's output (the loss is in its units).
    scm : CodedSCM or None
        Causal recourse: candidates are interventions, and the model, the
        predicates and the constraints judge the rows the SCM makes of
        them (:meth:`consequence`).
    """

    def __init__(
        self,
        model,
        space,
        constraints,
        to_model,
        task,
        classes=None,
        use_predict=False,
        y_scale=1.0,
        scm=None,
    ):
        self.model = model
        self.space = space
        self.constraints = constraints
        self.to_model = to_model
        self.task = task
        self.classes = classes
        self.use_predict = use_predict
        self.y_scale = y_scale
        self.scm = scm
        self.n_calls = 0

    def consequence(self, Zq, Z):
        """The rows that candidates ``Z`` of queries ``Zq`` amount to: ``Z``
        itself, or with an SCM the consequence of its interventions."""
        return Z if self.scm is None else self.scm.apply(Zq, Z)

    def safe(self, method, X, min_size=1):
        """Call ``method(X)``; if it raises, split the batch to isolate the
        rows the model fails on.

        Splitting costs about two model calls per failing part, so a batch
        with many failing rows would cost a call per failing row; a failing
        part of at most ``min_size`` rows is therefore taken as failed as a
        whole. Candidate batches pass ``len(X) // 256`` (rows are sorted, so
        failing rows tend to sit together and few good ones are lost); the
        queries and the final rows are isolated exactly (``min_size=1``).

        Returns
        -------
        out : ndarray or None
            Outputs of the rows that succeeded (rows that failed hold zeros);
            None when every row failed.
        failed : ndarray of bool, shape (n_rows,)
        message : str
            The model's error message for the first failing row ("" if none).
        """
        n = X.shape[0]
        try:
            return np.asarray(method(X)), np.zeros(n, dtype=bool), ""
        except Exception as exc:  # any model error: isolate the bad rows
            if n <= max(min_size, 1):
                return None, np.ones(n, dtype=bool), f"{type(exc).__name__}: {exc}"
        half = n // 2
        parts = [_safe_indexing(X, slice(0, half)), _safe_indexing(X, slice(half, n))]
        outs, fails, msgs = zip(*(self.safe(method, part, min_size) for part in parts))
        failed = np.concatenate(fails)
        message = next((m for m in msgs if m), "")
        good = [o for o in outs if o is not None]
        if not good:
            return None, failed, message
        shape = (n,) + good[0].shape[1:]
        out = np.zeros(shape, dtype=good[0].dtype)
        start = 0
        for o, f in zip(outs, fails):
            if o is not None:
                out[start : start + len(f)] = o
            start += len(f)
        return out, failed, message

    def predict(self, X, min_size=1):
        """``predict`` with failing rows isolated: (labels, failed, message)."""
        return self.safe(self.model.predict, X, min_size)

    def scores(self, X, return_failed=False, min_size=1):
        """Class scores of the model: probabilities where available.

        With ``return_failed``, rows on which the model raises are isolated
        (see :meth:`safe`) and ``(scores, failed, message)`` is returned;
        failed rows hold NaN scores.
        """
        if return_failed:
            out, failed, msg = self.safe(self._scores, X, min_size)
            if out is None:
                out = np.full((X.shape[0], len(self.classes)), np.nan)
            out = np.asarray(out, dtype=float)
            out[failed] = np.nan
            return out, failed, msg
        return self._scores(X)

    def _scores(self, X):
        model = self.model
        if hasattr(model, "predict_proba"):
            return np.asarray(model.predict_proba(X), dtype=float)
        if hasattr(model, "decision_function"):
            s = np.asarray(model.decision_function(X), dtype=float)
            if s.ndim == 1:
                s = np.column_stack([-s, s])
            return s
        pred = np.asarray(model.predict(X))
        return (pred[:, None] == self.classes[None, :]).astype(float)

    def __call__(self, Z, owner, goal):
        """Evaluate coded candidates while searching.

        Parameters
        ----------
        Z : ndarray of shape (m, n_features)
        owner : ndarray of int, shape (m,)
            Index (within ``goal``) of each candidate's query.
        goal : Problem or Queries
            Holds ``Zq``, ``target``, ``orig``, ``low`` and ``high`` of the
            queries.

        Returns
        -------
        valid : ndarray of bool, shape (m,)
        loss : ndarray of float, shape (m,)
            0 for valid candidates, else how far the model output is from
            the desired outcome (hinge on the score margin, or distance to
            the desired range in units of the target's MAD), plus 1 when a
            predicate fails.
        """
        out = self.outcome(Z, owner, goal)
        if out is None:
            return np.zeros(0, dtype=bool), np.zeros(0)
        loss = out["loss"]
        if out["predicates_ok"] is not None:
            loss = loss + (~out["predicates_ok"])
        if out["scm_ok"] is not None:
            loss = loss + (~out["scm_ok"])
        return out["valid"], loss

    def outcome(self, Z, owner, goal, exact=False):
        """Model outcome of coded rows: the one place validity is decided.

        ``valid`` means the model reaches the query's desired outcome on the
        row and, with predicates, every predicate admits it; a row on which
        the model raises is never valid.

        Parameters
        ----------
        Z : ndarray of shape (m, n_features)
        owner : ndarray of int, shape (m,)
        goal : Problem or Queries
            See :meth:`__call__`.
        exact : bool, default=False
            Isolate every failing row exactly (final rows, queries); while
            searching, parts of at most 1/256 of the batch are dropped whole
            (see :meth:`safe`).

        Returns
        -------
        outcome : dict or None
            None for no rows, else ``valid``, ``loss`` (0 where the outcome
            is reached, else the distance to it, see :meth:`__call__`;
            predicates not included), ``margin`` (classification: signed
            margin toward the desired outcome, positive where reached;
            regression: minus the scaled distance to the desired range),
            ``pred`` (classification: predicted class index, -1 where the
            model failed; regression: the prediction, NaN where it failed),
            ``proba`` (score of the predicted class; NaN for regression or a
            failed row), ``failed``, ``reached`` (the model reaches the
            desired outcome, predicates aside), ``predicates_ok`` (None
            without predicates), and with an SCM ``rows`` (the resulting
            rows, which the model, the predicates and the constraints
            judge) and ``scm_ok`` (their downstream cells keep the
            constraints; None without an SCM).
        """
        self.n_calls += 1
        m = Z.shape[0]
        if m == 0:
            return None
        result = Z
        scm_ok = None
        if self.scm is not None:
            Zq = goal.Zq[owner]
            result = self.scm.apply(Zq, Z)
            down = self.scm.downstream(Zq, Z, result)
            bad = self.constraints.cell_violations(Zq, result, frozen=False) & down
            scm_ok = ~bad.any(axis=1)
        # the model sees each distinct row once (candidates of different
        # queries, or of different moves, often coincide)
        uniq, _, inv = distinct_rows(result)
        X = self.to_model(self.space.decode(uniq))
        coarse = 1 if exact else len(uniq) // 256  # see safe()
        if self.task == "regression":
            y, failed, _ = self.predict(X, coarse)
            if y is None:
                y = np.zeros(len(uniq))
            y = np.asarray(y, dtype=float).ravel()
            y[failed] = np.nan
            failed = failed[inv]
            y = y[inv]
            low = goal.low[owner]
            high = goal.high[owner]
            # the search decides strictly, in its batch; the final judgement
            # (``exact``) up to rounding, so that a row found on a bound is
            # not reported invalid because another batch predicts it an ulp
            # outside
            valid = in_range(y, low, high) if exact else (y >= low) & (y <= high)
            dist = np.maximum(np.maximum(low - y, y - high), 0.0) / self.y_scale
            margin, pred, loss = -dist, y, dist
            proba = np.full(m, np.nan)
            desired = np.full(m, np.nan)
        else:
            S, failed, _ = self.scores(X, return_failed=True, min_size=coarse)
            S = S[inv]
            failed = failed[inv]
            rows = np.arange(m)
            target = goal.target[owner]
            orig = goal.orig[owner]
            specific = target >= 0
            t = np.where(specific, target, 0)
            masked = S.copy()
            masked[rows, t] = -np.inf
            other_t = masked.max(axis=1)
            masked = S.copy()
            masked[rows, orig] = -np.inf
            best_not_orig = masked.max(axis=1)
            margin = np.where(
                specific, S[rows, t] - other_t, best_not_orig - S[rows, orig]
            )
            # the desired class's own score (NaN for "any other class")
            desired = np.where(specific, S[rows, t], np.nan)
            if self.use_predict:
                labels, bad, _ = self.predict(X, coarse)
                pred = np.full(len(uniq), -1)
                if labels is not None:
                    pred = np.where(bad, -1, np.searchsorted(self.classes, labels))
                pred = pred[inv]
                failed = failed | bad[inv]
            else:
                pred = np.where(failed, -1, np.nan_to_num(S).argmax(axis=1))
            valid = np.where(specific, pred == t, pred != orig)
            if not self.use_predict:
                # a tie of the scores (a row exactly on the boundary, where
                # bisection ends) is not a flip: the model's own ``predict``
                # may break it either way
                valid &= margin > 0
            loss = np.where(valid, 0.0, np.maximum(-margin, 0.0) + 1e-3)
            proba = np.where(pred >= 0, S[rows, np.maximum(pred, 0)], np.nan)
        if failed.any():
            # candidates the model fails on are inadmissible (never valid),
            # and their loss says nothing about the way to the outcome
            valid = valid & ~failed
            loss = np.where(failed, _FAILED_LOSS, loss)
            margin = np.where(failed, -np.inf, margin)
        reached = valid
        ok = None
        if self.constraints.predicates:
            queries = self.space.decode(goal.Zq[owner])
            ok = self.constraints.predicate_mask(self.space.decode(result), queries)
            valid = valid & ok
        if scm_ok is not None:
            valid = valid & scm_ok
        return dict(
            valid=valid,
            reached=reached,
            loss=loss,
            margin=margin,
            desired=desired,
            pred=pred,
            proba=proba,
            failed=failed,
            predicates_ok=ok,
            rows=result,
            scm_ok=scm_ok,
        )
