"""Money as the catalog and the wallet state it: amounts read from JSON, and shown in USD.

Plain :class:`~decimal.Decimal` arithmetic, nothing else imported — so a local report (``spend``)
prints amounts without loading the API client.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["format_usd", "parse_usd"]


def parse_usd(value: Any, *, allow_negative: bool = False) -> Decimal | None:
    """A finite amount (non-negative unless allowed) from a JSON number or numeric string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or (amount < 0 and not allow_negative):
        return None
    return amount


def format_usd(amount: Decimal) -> str:
    """``$0.96``; more decimals only when they matter (``$0.035``), never fewer than two."""
    if amount == amount.quantize(Decimal("0.01")):
        return f"${amount:,.2f}"
    return f"${amount.normalize():,f}"
