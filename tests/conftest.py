import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("MPLBACKEND", "Agg")

settings.register_profile(
    "skcfx",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("skcfx-thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("SKCFX_HYPOTHESIS_PROFILE", "skcfx"))


@pytest.fixture(autouse=True)
def _seed_global_generators():
    """Safety net only: estimators must not rely on the global generators."""
    np.random.seed(0)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(0)


def pytest_addoption(parser):
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run tests marked slow (gallery scripts, long trainings)",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with python -m pytest --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
