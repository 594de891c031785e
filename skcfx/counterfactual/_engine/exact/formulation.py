"""One query's MILP: its variables, admissible box, cost and decision.

A varying numeric column ``j`` has a change indicator ``chg_j`` and, when it
has a grid (``10**-decimals``), an integer ``n_j`` with the value
``c_j = x_j (1 - chg_j) + step * n_j`` (the query's own value, whatever its
precision, or a grid value inside the query's box); a direction binary
makes a change a real one (at least the distance to the nearest other grid
value). A varying categorical column has one binary per allowed category.
The objective is the explainer's cost exactly:
``(1/d) [pw * sum |c_j - x_j| / MAD_j + (pw + sw) * sum_cat chg_j +
sw * sum_num chg_j]``.

With ``relax_grid`` (seeds, which the real model checks later) a gridded
column's value is continuous over the hull of its box's grid values, at
least one grid step from the query's when it changes, and :meth:`row`
rounds it away from the query's value: one cheap program (HiGHS spends
~60 ms at the root of a 30-column program with general integers, ~10 ms
without them) whose optimum is the grid program's up to a rounding, and
whose infeasibility still proves the grid program's (it holds every grid
row).
"""

import numpy as np

from skcfx.counterfactual._engine.exact.milp import MILP, Expr
from skcfx.counterfactual._engine.feature_space import ceil_to, floor_to

__all__ = ["QueryFormulation"]


class QueryFormulation:
    """The MILP of query ``i`` of ``problem`` for the linear model
    ``exact`` (``eps``: the margin of strict inequalities; ``relax_grid``:
    gridded columns continuous, rounded by :meth:`row`)."""

    def __init__(self, exact, problem, i, eps, relax_grid=False):
        self.exact, self.problem, self.i, self.eps = exact, problem, i, eps
        self.relax_grid = relax_grid
        self.relaxed = set()
        self.milp = MILP()
        self.x = problem.Zq[i]
        self.value, self.chg, self.z = {}, {}, {}
        self.num, self.grid, self.on_grid = {}, {}, set()
        self._phi = {}
        space = problem.space
        d = space.n_features
        self.pw = problem.proximity_weight / d
        self.sw = problem.sparsity_weight / d
        self.infeasible = False
        for j in space.numeric:
            self._numeric(j)
        for j in space.categorical:
            self._categorical(j)

    # ---------------------------------------------------------- variables
    def _numeric(self, j):
        space, b, i, x = self.problem.space, self.problem.bounds, self.i, self.x[j]
        lo, hi = b.lo[i, j], b.hi[i, j]
        inside = lo - 1e-12 <= x <= hi + 1e-12
        self.value[j] = Expr(const=x)
        self.chg[j] = Expr(const=0.0)
        if not b.varying[i, j]:
            return
        m = self.milp
        dec = space.decimals[j]
        w = self.pw / space.mad[j]
        chg = m.binary(cost=self.sw)
        if not inside:  # a permitted range excludes the query's value
            m.lb[chg] = 1.0
        move = None  # an integral grid's move; else a continuous value's
        delta = 1e-9 * max(1.0, abs(x))
        if dec is not None:
            step = 10.0**-dec
            n_lo = int(np.ceil(lo / step - 1e-9))
            n_hi = int(np.floor(hi / step + 1e-9))
            n_x = round(x / step)
            if self.relax_grid and n_lo <= n_hi:
                # the hull of the grid values in the box, and the query's own
                lo, hi = n_lo * step, n_hi * step
                if inside:
                    lo, hi = min(lo, x), max(hi, x)
                self.relaxed.add(j)
            else:
                if inside and abs(x / step - n_x) < 1e-9 and n_lo <= n_x <= n_hi:
                    self._on_grid(j, chg, step, n_lo, n_hi, n_x, w)
                    return
                if n_lo > n_hi:
                    m.ub[chg] = 0.0
                    self.infeasible |= not inside
                    n_lo = n_hi = 0
                n = m.var(min(n_lo, 0), max(n_hi, 0), integer=True)
                m.add(Expr({n: 1.0, chg: -n_lo}), lo=0.0)
                m.add(Expr({n: 1.0, chg: -n_hi}), hi=0.0)
                move = Expr({n: step, chg: -x})
                self.grid[j] = (n, step, n_lo, n_hi)
                span = (max(abs(n_lo), abs(n_hi)) + 1) * step + abs(x)
            near = np.abs(np.array([np.floor(x / step), np.ceil(x / step)]) * step - x)
            others = near[near > 1e-12 * max(1.0, abs(x))]
            delta = min(others.min() if len(others) else step, step)
        if move is None:  # a continuous value in [lo, hi]
            c = m.var(lo, hi)
            move = Expr({c: 1.0}) - x
            # the largest move (from a query outside a permitted range too)
            span = max(hi - x, x - lo, hi - lo)
            m.add(move - Expr({chg: span}), hi=0.0)
            m.add(move + Expr({chg: span}), lo=0.0)
        t = m.var(0.0, np.inf, cost=w)
        m.add(Expr({t: 1.0}) - move, lo=0.0)
        m.add(Expr({t: 1.0}) + move, lo=0.0)
        # a change is a real one: at least ``delta`` up or down
        up = m.binary()
        M = 2 * span + 2 * delta
        m.add(move - Expr({chg: delta, up: M}), lo=-M)
        m.add(move + Expr({chg: delta, up: -M}), hi=0.0)
        self.num[j] = (chg, up)
        self.value[j] = Expr(const=x) + move
        self.chg[j] = Expr.var(chg)

    def _on_grid(self, j, chg, step, n_lo, n_hi, n_x, w):
        """A query value on its column's grid: ``c = step * n`` always, with
        ``n - n_x = up - down`` and the move's cost on ``up + down``."""
        m = self.milp
        n = m.var(n_lo, n_hi, integer=True)
        up = m.var(0, n_hi - n_x, cost=w * step)
        down = m.var(0, n_x - n_lo, cost=w * step)
        m.add(Expr({n: 1.0, up: -1.0, down: 1.0}), n_x, n_x)
        span = max(n_hi - n_lo, 1)
        m.add(Expr({up: 1.0, down: 1.0, chg: -span}), hi=0.0)  # moved => chg
        m.add(Expr({up: 1.0, down: 1.0, chg: -1.0}), lo=0.0)  # chg => moved
        self.grid[j] = (n, step, n_lo, n_hi)
        self.on_grid.add(j)
        self.num[j] = (chg, None)
        self.value[j] = Expr({n: step})
        self.chg[j] = Expr.var(chg)

    def _categorical(self, j):
        b, i = self.problem.bounds, self.i
        q = int(self.x[j])
        K = len(self.problem.space.categories[j])
        self.z[j] = {k: Expr(const=float(k == q)) for k in range(K)}
        self.chg[j] = Expr(const=0.0)
        if not b.varying[i, j]:
            return
        allowed = np.flatnonzero(b.allowed[j][i])
        if len(allowed) == 0:
            self.infeasible = True
            return
        if len(allowed) == 1 and allowed[0] == q:
            return
        m = self.milp
        z = {int(k): m.binary() for k in allowed}
        m.add(Expr({v: 1.0 for v in z.values()}), 1.0, 1.0)
        self.z[j] = {k: (Expr.var(z[k]) if k in z else Expr()) for k in range(K)}
        chg = m.binary(cost=self.pw + self.sw)
        m.add(Expr({chg: 1.0}) + self.z[j][q], 1.0, 1.0)
        self.chg[j] = Expr.var(chg)

    # ------------------------------------------------------ model inputs
    def phi(self, f):
        """Model input ``f`` as an expression."""
        if f not in self._phi:
            im = self.exact.input_map
            out = Expr(const=im.base[f])
            for j in np.flatnonzero(im.A[f]):
                out = out + self.value[j] * im.A[f, j]
            for j, T in im.tables.items():
                col = T[:, f]
                if np.any(col != 0):
                    for k, zk in self.z[j].items():
                        if col[k] != 0:
                            out = out + zk * col[k]
            self._phi[f] = out
        return self._phi[f]

    # ---------------------------------------------------------- solution
    def no_good(self, Z):
        """Exclude every solution that changes all the features the coded
        row ``Z`` changes, its categorical ones to the same categories: the
        same changes, or those with more. A next solution keeps at least one
        of the numeric ones at the query's value (``chg_j = 0`` pins it
        there) or gives one of the categorical ones another category
        (``z_jk = 0`` for ``Z``'s category ``k``: moving to another zip
        code is another answer, where moving a continuous column elsewhere
        is not); without the supersets' exclusion the next-best solution of
        a continuous column is ``Z`` plus a change of another column by a
        rounding error (a different set in name only)."""
        changed = self.problem.space.changed(self.x[None, :], Z[None, :])[0]
        cut = Expr()
        for j, e in self.chg.items():
            if not changed[j] or e.is_constant:
                continue
            if j in self.z:  # not this category
                cut = cut + (Expr(const=1.0) - self.z[j][int(Z[j])])
            else:  # not changed
                cut = cut + (Expr(const=1.0) - e)
        self.milp.add(cut, lo=1.0)

    def row(self, x):
        """The coded row of a solution vector."""
        Z = self.x.copy()
        decimals = self.problem.space.decimals
        for j, e in self.value.items():
            if j in self.grid:
                n, step = self.grid[j][:2]
                moved = j in self.on_grid or x[self.num[j][0]] > 0.5
                if moved:  # integral up to the solver's tolerance: round
                    Z[j] = np.round(round(x[n]) * step, decimals[j])
            elif not e.is_constant:
                Z[j] = e.const + sum(c * x[v] for v, c in e.coef.items())
                if j in self.relaxed and x[self.num[j][0]] > 0.5:
                    # onto the grid, away from the query's value (the
                    # program moved it toward the desired outcome)
                    up = Z[j] > self.x[j]
                    Z[j] = (ceil_to if up else floor_to)(Z[j], decimals[j])
        for j, zs in self.z.items():
            vals = {
                k: e.const + sum(c * x[v] for v, c in e.coef.items())
                for k, e in zs.items()
            }
            Z[j] = float(max(vals, key=vals.get))
        return Z
