"""Messages a user sees when an optional dependency is missing."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


_BLOCK = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {0!r}:
            raise ImportError("No module named " + repr(name))
sys.meta_path.insert(0, _Block())
"""


def _run(code, block):
    return subprocess.run(
        [sys.executable, "-c", _BLOCK.format(block) + code],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_testing_without_hypothesis_names_the_extra():
    out = _run(
        "import skcfx  # works without hypothesis\nimport skcfx.testing",
        "hypothesis",
    )
    assert out.returncode != 0
    assert "ImportError" in out.stderr
    assert "skcfx[test]" in out.stderr and "hypothesis" in out.stderr


def test_missing_torch_points_to_the_cpu_build():
    out = _run(
        "import skcfx\nfrom skcfx import L2XSelector\n"
        "import numpy as np\n"
        "L2XSelector(k=1).fit(np.zeros((20, 3)), np.arange(20) % 2)",
        "torch",
    )
    assert out.returncode != 0
    assert "L2XSelector needs torch" in out.stderr
    assert "download.pytorch.org/whl/cpu" in out.stderr


def test_license_file_matches_metadata():
    text = (ROOT / "LICENSE").read_text()
    assert "BSD 3-Clause" in text or "Redistribution and use" in text
    meta = (ROOT / "pyproject.toml").read_text()
    assert 'license = "BSD-3-Clause"' in meta


@pytest.mark.parametrize("extra", ["docs"])
def test_docs_extra_can_build_the_gallery(extra):
    # 4 of the gallery scripts need torch and skorch
    meta = (ROOT / "pyproject.toml").read_text()
    block = meta.split(f"{extra} = [", 1)[1].split("]", 1)[0]
    assert "torch" in block and "skorch" in block and "sphinx-gallery" in block
