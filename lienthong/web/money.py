"""Amounts of money in Vietnamese text: ``1.234.567 đồng``."""

from __future__ import annotations


def vnd(amount: int | None) -> str:
    """``amount`` đồng with '.' as the thousands separator; '' for ``None``."""
    return "" if amount is None else f"{amount:,}".replace(",", ".") + " đồng"
