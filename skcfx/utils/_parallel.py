"""Local process parallelism that shares the caller's memory.

joblib's default ``loky`` workers are fresh interpreters: every task's
arguments are pickled to them, and a fitted model (a forest's trees, a
torch module) is rebuilt in each worker, so two workers cost about three
times the memory of one process. On Linux, :func:`fork_map` instead forks
its workers from the calling process after the tasks are laid out: the
workers inherit the model, the training summary and the queries
copy-on-write, only task numbers travel to them and only results come
back. Each worker limits BLAS, OpenMP and torch to one thread (the tasks
are the parallel work, and a thread pool of the parent cannot be reused
after a fork).

:func:`local_processes` says when explain uses it: ``n_jobs > 1`` under
joblib's default back end (no back end chosen with
:func:`joblib.parallel_config`) on a platform with ``fork``. Any back end a
user names (``"loky"``, ``"threading"``, ``"dask"``, ``"ray"``) is used as
named.
"""

import gc
import itertools
import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

__all__ = ["fork_map", "local_processes"]

_TASKS = {}
_TOKENS = itertools.count()
_LOCK = threading.Lock()


def _backend_chosen():
    """Whether a joblib back end was chosen with ``parallel_config`` (or
    ``parallel_backend``) around this call."""
    try:
        from joblib.parallel import _backend

        chosen = getattr(_backend, "config", {}).get("backend")
    except ImportError:  # pragma: no cover - a joblib without this layout
        return True
    return chosen is not None and type(chosen).__name__ != "_Sentinel"


def local_processes(n_jobs):
    """Whether ``n_jobs`` jobs run in forked local processes (Linux, joblib's
    default back end, not itself inside a daemonic worker)."""
    return (
        n_jobs > 1
        and sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
        and not _backend_chosen()
    )


def _single_threaded():
    """Worker start-up: one thread for BLAS, OpenMP and torch."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _release_free_heap():
    """Return the C heap's free pages to the system before forking (glibc's
    ``malloc_trim``; nothing elsewhere). A worker's allocations reuse the
    heap it inherits: landing in pages the parent freed but still holds (the
    buffers of unpickling a model, say), each write copies a page nobody
    needs. README forest loaded from a pickle, 1,000 queries, n_jobs=2: peak
    memory of both processes 557-563 MB without, 475-477 MB with (434 MB for
    n_jobs=1)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, say)
        pass


def _run(token, i):
    func, tasks = _TASKS[token]
    return func(*tasks[i])


def fork_map(func, tasks, n_jobs):
    """``func(*task)`` for each task, in ``n_jobs`` forked processes.

    Parameters
    ----------
    func : callable
    tasks : list of tuple
        Argument tuples; they are inherited by the workers, never pickled.
    n_jobs : int
        Worker processes (at most ``len(tasks)``).

    Yields
    ------
    result
        ``func``'s results (pickled back), in the order of ``tasks``, each
        as soon as it and those before it are done. A task's exception is
        raised here; a worker that dies raises
        :class:`~concurrent.futures.process.BrokenProcessPool`.
    """
    with _LOCK:
        token = next(_TOKENS)
        _TASKS[token] = (func, tasks)
    try:
        context = multiprocessing.get_context("fork")
        workers = max(1, min(n_jobs, len(tasks)))
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_single_threaded
        ) as pool:
            # the workers are forked at the first submit; objects the
            # collector would otherwise visit (and so copy) stay shared, and
            # the heap's free pages go back to the system first
            _release_free_heap()
            gc.freeze()
            try:
                futures = [pool.submit(_run, token, i) for i in range(len(tasks))]
            finally:
                gc.unfreeze()
            for future in futures:
                yield future.result()
    finally:
        with _LOCK:
            _TASKS.pop(token, None)
