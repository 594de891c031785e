"""Small real data sets bundled with skcfx (no download needed)."""

from skcfx.datasets._adult import DICE_COLUMNS, load_adult

__all__ = ["DICE_COLUMNS", "load_adult"]
