"""The balance endpoint's answer, as validated (pydantic; imported when a balance is read)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["BalanceAnswer"]


class BalanceAnswer(BaseModel):
    """``{"balance_usd": …, "currency": …, "offline": …}``; each field is checked by the reader."""

    model_config = ConfigDict(extra="allow")

    balance_usd: Any = None
    currency: Any = None
    offline: Any = None
