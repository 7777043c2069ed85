"""What an image costs: the model catalog's price, read — never guessed.

``GET {model base}/models/{model_id}`` (bearer token) answers with the model's catalog entry:
``display_name``, ``categories``, ``base_price_usd`` (a number) and ``price_unit`` (e.g.
``image``). Either price field may be missing; then the price is *unknown* and everything that
would use it says so. Money is :class:`~decimal.Decimal` throughout, so 24 × $0.04 is $0.96.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .money import format_usd, parse_usd

if TYPE_CHECKING:
    from .catalog_entry import CatalogEntry
    from .service import JsonChannel

__all__ = [
    "CatalogClient",
    "CatalogEntry",
    "Price",
    "estimate",
    "format_usd",
    "parse_usd",
]

PER_IMAGE_UNITS = frozenset({"image"})  # the unit the catalog uses for image models


@dataclass(frozen=True, slots=True)
class Price:
    """The catalog price of one endpoint: ``usd`` per ``unit``; either may be unknown.

    ``offline`` marks the embedded offline backend's catalog (price 0, nothing billed).
    """

    usd: Decimal | None = None
    unit: str | None = None
    offline: bool = False

    @classmethod
    def unknown(cls) -> Price:
        return cls()

    @property
    def per_image(self) -> Decimal | None:
        """The price of one image, or None when the catalog did not say so in those terms."""
        if self.usd is None or self.unit is None:
            return None
        return self.usd if self.unit.strip().lower() in PER_IMAGE_UNITS else None

    @property
    def is_known(self) -> bool:
        return self.per_image is not None

    def describe(self) -> str:
        """``≈ $0.04 per image`` · ``offline · $0, nothing billed`` · ``price unknown``."""
        if self.offline:
            return "offline · $0, nothing billed"
        if self.per_image is not None:
            return f"≈ {format_usd(self.per_image)} per image"
        if self.usd is not None and self.unit:
            return f"{format_usd(self.usd)}/{self.unit} (not per image: no estimate)"
        return "price unknown"


def estimate(prices: list[Price]) -> Decimal | None:
    """The total for one image at each price, or None when any of them is unknown."""
    total = Decimal(0)
    for price in prices:
        if price.per_image is None:
            return None
        total += price.per_image
    return total


class CatalogClient:
    """``GET {model base}/models/{model_id}`` with the bearer token, through :class:`JsonChannel`."""

    def __init__(self, channel: JsonChannel) -> None:
        self._channel = channel

    @property
    def base_url(self) -> str:
        return self._channel.base_url

    async def entry(self, model_id: str) -> CatalogEntry:
        """The catalog entry of ``model_id`` (raises the :mod:`tui.api.errors` tree)."""
        from .catalog_entry import CatalogEntry  # a pydantic model: built by the first call

        path = "/models/" + quote(model_id, safe="/")
        return await self._channel.get_json("catalog", path, CatalogEntry)

    async def price(self, model_id: str) -> Price:
        return (await self.entry(model_id)).price()

    async def aclose(self) -> None:
        await self._channel.aclose()


def load_catalog_request(base_url: str) -> None:
    """Import what a catalog request needs — httpx, the answer's pydantic model — and build the
    TLS context for ``base_url``. Blocking (~100 ms of imports the first time, nothing after):
    the app runs it in a thread, so its screen never waits for these imports."""
    import httpx  # noqa: F401

    from . import catalog_entry  # noqa: F401
    from .tls import context_for

    context_for(base_url)


def __getattr__(name: str) -> Any:
    """``CatalogEntry`` (a pydantic model) is built when first asked for, not at start-up."""
    if name == "CatalogEntry":
        from .catalog_entry import CatalogEntry

        return CatalogEntry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
