"""A small mixed-integer linear program builder over linear expressions."""

import ctypes
import os
import sys
import tempfile
import threading
from contextlib import contextmanager

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["MILP", "Expr", "without_highs_debug_line"]


class Expr:
    """A linear expression ``const + sum coef[v] * x_v``."""

    __slots__ = ("coef", "const")

    def __init__(self, coef=None, const=0.0):
        self.coef = dict(coef or {})
        self.const = float(const)

    @classmethod
    def var(cls, v, scale=1.0):
        return cls({v: float(scale)})

    def __add__(self, other):
        if not isinstance(other, Expr):
            return Expr(self.coef, self.const + float(other))
        coef = dict(self.coef)
        for v, c in other.coef.items():
            coef[v] = coef.get(v, 0.0) + c
        return Expr(coef, self.const + other.const)

    __radd__ = __add__

    def __mul__(self, k):
        k = float(k)
        return Expr({v: c * k for v, c in self.coef.items()}, self.const * k)

    __rmul__ = __mul__

    def __sub__(self, other):
        return self + (other * -1.0)

    def __neg__(self):
        return self * -1.0

    @property
    def is_constant(self):
        return not any(c != 0 for c in self.coef.values())


class MILP:
    """Variables with bounds, integrality and objective coefficients, and
    linear constraints ``lo <= expr <= hi``."""

    def __init__(self):
        self.lb, self.ub, self.integer, self.cost = [], [], [], []
        self.rows = []

    def var(self, lb, ub, *, integer=False, cost=0.0):
        """A new variable; returns its index."""
        self.lb.append(float(lb))
        self.ub.append(float(ub))
        self.integer.append(bool(integer))
        self.cost.append(float(cost))
        return len(self.lb) - 1

    def binary(self, cost=0.0):
        return self.var(0, 1, integer=True, cost=cost)

    def add(self, expr, lo=-np.inf, hi=np.inf):
        """``lo <= expr <= hi`` (the constant moves to the bounds)."""
        coef = {v: c for v, c in expr.coef.items() if c != 0}
        lo, hi = lo - expr.const, hi - expr.const
        if not coef:
            if lo > 1e-9 or hi < -1e-9:
                self.rows.append(({}, lo, hi))  # infeasible constant row
            return
        self.rows.append((coef, lo, hi))

    def solve(self, time_limit=None, mip_rel_gap=1e-6, presolve=False):
        """Solve with HiGHS; returns scipy's result (``x`` None when no
        solution was found)."""
        n = len(self.lb)
        rows, cols, vals, lo, hi = [], [], [], [], []
        for r, (coef, a, b) in enumerate(self.rows):
            rows.extend([r] * len(coef))
            cols.extend(coef.keys())
            vals.extend(coef.values())
            lo.append(a)
            hi.append(b)
        constraints = []
        if self.rows:
            A = sparse.csr_array((vals, (rows, cols)), shape=(len(self.rows), n))
            constraints = [LinearConstraint(A, lo, hi)]
        options = {"mip_rel_gap": mip_rel_gap, "presolve": presolve}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        with without_highs_debug_line():
            return milp(
                c=np.asarray(self.cost),
                constraints=constraints,
                integrality=np.asarray(self.integer, dtype=int),
                bounds=Bounds(np.asarray(self.lb), np.asarray(self.ub)),
                options=options,
            )


# a debug print left in the HiGHS that scipy bundles (1.17, 1.18), written
# with C's printf whenever a sub-MIP's solution is mapped back
# (ERGO-Code/HiGHS#2783), whatever the ``disp`` option
HIGHS_DEBUG_LINE = (
    b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();"
)
_redirect = threading.Lock()
_state = {"depth": 0}


def _reset_after_fork():
    """A forked child starts with no redirection of its own: another
    thread's redirection (or its lock) in the parent at the fork is not the
    child's to undo or wait for."""
    global _redirect
    _redirect = threading.Lock()
    saved = _state.get("saved") if _state["depth"] else None
    if saved is not None:
        os.dup2(saved, 1)
        os.close(saved)
    _state.clear()
    _state["depth"] = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _flush_c_stdout():
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # pragma: no cover - no C library
        pass


@contextmanager
def without_highs_debug_line():
    """While HiGHS solves, the process's standard output (file descriptor 1)
    goes to a temporary file; afterwards everything written there, by this
    thread or any other, is written to the real output in order, except
    HiGHS's stray debug line. POSIX only (elsewhere nothing is changed);
    nested and concurrent solves share one redirection."""
    if os.name != "posix":  # pragma: no cover - Windows
        yield
        return
    with _redirect:
        if _state["depth"] == 0:
            try:
                sys.stdout.flush()
            except (AttributeError, OSError, ValueError):
                pass
            _flush_c_stdout()
            try:
                saved = os.dup(1)
            except OSError:  # no standard output to protect
                saved = None
            if saved is not None:
                capture = tempfile.TemporaryFile()
                os.dup2(capture.fileno(), 1)
                _state.update(saved=saved, capture=capture)
            else:
                _state.update(saved=None, capture=None)
        _state["depth"] += 1
    try:
        yield
    finally:
        with _redirect:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["saved"] is not None:
                _flush_c_stdout()
                saved, capture = _state["saved"], _state["capture"]
                os.dup2(saved, 1)
                os.close(saved)
                capture.seek(0)
                text = capture.read()
                capture.close()
                kept = b"".join(
                    line
                    for line in text.splitlines(keepends=True)
                    if line.rstrip(b"\r\n") != HIGHS_DEBUG_LINE
                )
                while kept:
                    kept = kept[os.write(1, kept) :]
