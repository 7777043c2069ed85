"""Small doubles shared by the snapshot tests (which run no server): a fixed price list."""

from __future__ import annotations

from decimal import Decimal

from tui.api.catalog import Price
from tui.models import Endpoint


class FixedPrices:
    """What :class:`tui.jobs.pricing.PriceBook` answers, without a catalog: one price for all."""

    def __init__(self, price: Price | None = None) -> None:
        self.answer = price or Price(Decimal(0), "image", offline=True)

    async def price(self, endpoint: Endpoint) -> Price:
        return self.answer

    async def aclose(self) -> None:
        return None
