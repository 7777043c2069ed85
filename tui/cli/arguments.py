"""Argument types the command-line parser uses — light, so building the parser imports no
command's implementation."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

__all__ = ["parse_budget"]


def parse_budget(text: str) -> Decimal:
    """``--budget`` in USD: a non-negative amount (argparse type)."""
    try:
        amount = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount in USD: {text!r}") from None
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"not an amount in USD: {text!r}")
    return amount
