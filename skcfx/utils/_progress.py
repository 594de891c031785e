"""Optional progress bars (tqdm), driven by an estimator's ``verbose``."""

__all__ = ["progress"]


def progress(iterable, *, verbose, total=None, desc=None):
    """``iterable`` wrapped in a tqdm progress bar (on stderr) when
    ``verbose`` is truthy and tqdm is installed (the ``progress`` extra);
    ``iterable`` itself otherwise."""
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress bars are optional
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)
