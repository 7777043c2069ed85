"""Prices where decisions are made: the catalog, asked at most once a day, never guessed.

:class:`PriceBook` answers "what does one image of this endpoint cost on this backend?" from
memory, then the day-old disk cache, then the catalog. It never raises: when the catalog can't
say, the answer is :meth:`Price.unknown` and every caller shows "price unknown". The engine asks
it right before each submit and records the answer with the job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from ..api.catalog import CatalogClient, Price, format_usd
from ..errors import GptImageError
from ..models import Endpoint
from ..storage.catalog_cache import CatalogCache

__all__ = [
    "PriceBook",
    "PriceSource",
    "estimate_text",
    "price_columns",
]

LOOKUP_DEADLINE = 10.0  # seconds a lookup may take before the answer is "unknown"
FAILURE_MEMORY = 60.0  # seconds a failed lookup is remembered, so a batch doesn't hammer


class PriceSource(Protocol):
    async def price(self, endpoint: Endpoint) -> Price: ...


def price_columns(price: Price) -> dict[str, Any]:
    """The job columns recording ``price`` (nothing when the catalog gave no amount)."""
    if price.usd is None:
        return {}
    return {
        "price_usd": price.usd,
        "price_unit": price.unit,
        "price_source": "offline" if price.offline else "catalog",
    }


def estimate_text(count: int, price: Price) -> str:
    """``24 jobs ≈ $0.96`` · ``24 jobs, offline: nothing billed`` · ``24 jobs, price unknown``."""
    noun = "job" if count == 1 else "jobs"
    if price.offline:
        return f"{count} {noun}, offline: nothing billed"
    if price.per_image is None:
        return f"{count} {noun}, price unknown"
    return f"{count} {noun} ≈ {format_usd(price.per_image * count)}"


def total_for(count: int, price: Price) -> Decimal | None:
    return None if price.per_image is None else price.per_image * count


class PriceBook:
    """Prices of this backend's endpoints: memory → disk cache (a day) → catalog."""

    def __init__(
        self,
        catalog: CatalogClient,
        cache: CatalogCache,
        *,
        backend: str,
        offline: bool = False,
        clock: Callable[[], float] = time.monotonic,
        deadline: float = LOOKUP_DEADLINE,
    ) -> None:
        self.catalog = catalog
        self.cache = cache
        self.backend = backend
        self.offline = offline
        self._clock = clock
        self._deadline = deadline
        self._memory: dict[Endpoint, Price] = {}
        self._failed_at: dict[Endpoint, float] = {}
        self._lock: asyncio.Lock | None = None

    def _key(self, endpoint: Endpoint) -> str:
        return f"{self.backend}|{endpoint.model_id}"

    def known(self, endpoint: Endpoint) -> Price | None:
        """The price without asking the network (memory or the disk cache), or None."""
        found = self._memory.get(endpoint)
        if found is None:
            found = self.cache.get(self._key(endpoint))
            if found is not None:
                found = self._label(found)
                self._memory[endpoint] = found
        return found

    async def price(self, endpoint: Endpoint) -> Price:
        """The price of one image of ``endpoint``; :meth:`Price.unknown` when nobody can say."""
        found = self.known(endpoint)
        if found is not None:
            return found
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            found = self.known(endpoint)
            if found is not None:
                return found
            failed = self._failed_at.get(endpoint)
            if failed is not None and self._clock() - failed < FAILURE_MEMORY:
                return Price.unknown()
            try:
                async with asyncio.timeout(self._deadline):
                    fetched = self._label(await self.catalog.price(endpoint.model_id))
            except (GptImageError, TimeoutError):
                self._failed_at[endpoint] = self._clock()
                return Price.unknown()
            self._failed_at.pop(endpoint, None)
            self._memory[endpoint] = fetched
            self.cache.put(self._key(endpoint), fetched)
            return fetched

    def _label(self, price: Price) -> Price:
        if self.offline and not price.offline:
            return Price(usd=price.usd, unit=price.unit, offline=True)
        return price

    async def aclose(self) -> None:
        await self.catalog.aclose()
