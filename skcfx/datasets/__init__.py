"""Small real data sets bundled with skcfx (no download needed)."""

from skcfx.datasets._adult import load_adult

__all__ = ["load_adult"]
