"""HiGHS's stray debug line (a printf left in the solver that scipy
bundles) never reaches the caller's standard output; everything else
written during a solve does, in order."""

import ctypes
import os
import sys
import threading
import time

import numpy as np
import pytest

from skcfx.counterfactual._engine.exact.milp import (
    HIGHS_DEBUG_LINE,
    MILP,
    Expr,
    without_highs_debug_line,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file descriptors")


def _printf(text):
    """Write through C's stdio buffer, as HiGHS does."""
    libc = ctypes.CDLL(None)
    libc.printf(b"%s", text)


def test_the_debug_line_is_dropped_and_the_rest_kept_in_order(capfd):
    os.write(1, b"before\n")
    with without_highs_debug_line():
        os.write(1, b"mine 1\n")
        _printf(HIGHS_DEBUG_LINE + b"\n")
        _printf(b"solver says 2\n")
        with without_highs_debug_line():  # nested solves share it
            os.write(1, HIGHS_DEBUG_LINE + b"\n")
            os.write(1, b"mine 3\n")
        os.write(1, b"mine 4, no newline")
    os.write(1, b"\nafter\n")
    out = capfd.readouterr().out
    assert HIGHS_DEBUG_LINE.decode() not in out
    assert out == "before\nmine 1\nsolver says 2\nmine 3\nmine 4, no newline\nafter\n"


def test_other_threads_output_survives_and_errors_restore_stdout(capfd):
    started, release = threading.Event(), threading.Event()

    def talk():
        started.wait()
        os.write(1, b"from another thread\n")
        release.set()

    thread = threading.Thread(target=talk)
    thread.start()
    with pytest.raises(RuntimeError, match="solver failed"):
        with without_highs_debug_line():
            started.set()
            release.wait(5)
            raise RuntimeError("solver failed")
    thread.join()
    print("printed afterwards")
    sys.stdout.flush()
    out = capfd.readouterr().out
    assert out == "from another thread\nprinted afterwards\n"


def test_a_solve_still_solves(capfd):
    """A knapsack through the builder: the optimum, and no debug line."""
    m = MILP()
    values, weights = [6.0, 5.0, 4.0, 3.0], [4.0, 3.0, 2.0, 1.0]
    x = [m.binary(cost=-v) for v in values]
    m.add(sum((Expr.var(v, w) for v, w in zip(x, weights)), Expr()), hi=6.0)
    res = m.solve()
    np.testing.assert_allclose(res.x, [0, 1, 1, 1], atol=1e-9)
    assert HIGHS_DEBUG_LINE.decode() not in capfd.readouterr().out


def test_a_forked_child_is_not_held_by_the_parents_redirection(capfd):
    """Forked while another thread holds the redirection's lock and while a
    solve's redirection is on, a child can still solve, and writes straight
    to the real standard output."""
    from skcfx.counterfactual._engine.exact import milp as module

    with without_highs_debug_line():
        with module._redirect:
            pid = os.fork()
            if pid == 0:  # the child: must not wait for the parent's lock
                try:
                    with without_highs_debug_line():
                        os.write(1, HIGHS_DEBUG_LINE + b"\n")
                    os.write(1, b"child done\n")
                finally:
                    os._exit(0)
        for _ in range(500):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.01)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child waited on the parent's lock")
        # written by the child to the real output already, not captured here
        assert b"child done" not in _captured_so_far(module)
    out = capfd.readouterr().out
    assert out.count("child done") == 1
    assert HIGHS_DEBUG_LINE.decode() not in out


def _captured_so_far(module):
    capture = module._state["capture"]
    capture.flush()
    return os.pread(capture.fileno(), 1 << 16, 0)
