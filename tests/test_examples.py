"""The gallery examples run end to end (no download, CPU only).

Marked slow: ``python -m pytest --run-slow`` runs them (CI does).
"""

import os
import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").rglob("plot_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(path.parent)
    runpy.run_path(os.fspath(path), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip()  # the example printed its findings
