"""The model catalog's answer, as a pydantic model: imported by the first price request (the app
starts without pydantic; :mod:`tui.api.catalog` re-exports it lazily)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ..trust.sanitize import clean_text
from .catalog import Price
from .money import parse_usd

__all__ = ["CatalogEntry"]


class CatalogEntry(BaseModel):
    """A model's catalog entry; only the price fields are used. Odd shapes are tolerated."""

    model_config = ConfigDict(extra="allow")

    display_name: Any = None
    base_price_usd: Any = None
    price_unit: Any = None
    offline: Any = None

    def price(self) -> Price:
        unit = self.price_unit
        text = clean_text(unit, limit=30).strip() if isinstance(unit, str) else ""
        return Price(
            usd=parse_usd(self.base_price_usd),
            unit=text or None,
            offline=self.offline is True,
        )
