"""Utilities shared by every skcfx estimator."""

from skcfx.utils.discovery import all_estimators

__all__ = ["all_estimators"]
