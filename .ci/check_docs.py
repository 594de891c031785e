"""Build the documentation offline and fail on any warning but the offline ones.

Without network access intersphinx cannot fetch the other projects'
inventories, and the docstrings that our estimators inherit from
scikit-learn (``set_output``, ``get_metadata_routing``) refer to labels that
only those inventories define. Those warnings are expected here; any other
warning fails the build.

Usage: python .ci/check_docs.py [extra sphinx arguments]
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = [
    re.compile(r"failed to reach any of the inventories"),
    re.compile(r"intersphinx inventory .* not fetchable"),
    re.compile(r"docstring of sklearn\..*(undefined label|term not in glossary)"),
]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "warnings.log"
        cmd = [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-q",
            "-D",
            "plot_gallery=0",
            "-w",
            str(log),
            *sys.argv[1:],
            str(ROOT / "doc"),
            str(Path(tmp) / "html"),
        ]
        done = subprocess.run(cmd, cwd=ROOT)
        lines = [ln for ln in log.read_text().splitlines() if "WARNING" in ln]
    unexpected = [ln for ln in lines if not any(p.search(ln) for p in OFFLINE)]
    print(f"docs: {len(lines)} warnings, {len(unexpected)} unexpected")
    for ln in unexpected:
        print("  " + ln)
    if done.returncode or unexpected:
        sys.exit(1)


if __name__ == "__main__":
    main()
