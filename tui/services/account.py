"""A backend's account: what an image costs there, the wallet balance, and signing in.

Each is one call through the Model API client's request path (:class:`~tui.api.service.JsonChannel`);
the front ends run them (the app in a worker) and show the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..models import Endpoint
from .backends import Backends
from .graph import CATALOG_POLICY, Services

if TYPE_CHECKING:  # the answers are pydantic models: loaded by the first call, not at start
    from ..api.balance import Balance, BalanceClient
    from ..api.catalog import Price
    from ..api.signin import DeviceCode, SignInClient, SignInResult
    from ..config import Settings

__all__ = [
    "Wallet",
    "balance_client",
    "fetch_balance",
    "fetch_prices",
    "sign_in_at",
    "signin_client",
]


def balance_client(services: Services) -> BalanceClient:
    """A client of this backend's wallet balance (close it when done)."""
    from ..api.balance import BalanceClient
    from ..api.service import JsonChannel

    token = None if services.settings.offline else services.settings.token
    return BalanceClient(JsonChannel(services.serverless_base, token, policy=CATALOG_POLICY))


async def fetch_balance(services: Services) -> Balance:
    """The wallet balance of this backend (one call; raises the api error tree)."""
    client = balance_client(services)
    try:
        return await client.balance()
    finally:
        await client.aclose()


async def fetch_prices(services: Services) -> dict[Endpoint, Price]:
    """The price of one image of each endpoint (unknown ones included; never raises).

    When one must be asked for, the HTTP stack and the answer model are imported in a thread
    first: the caller's loop (the app's screen) never runs those imports.
    """
    prices = services.prices
    if any(prices.known(endpoint) is None for endpoint in Endpoint):
        from ..api.catalog import load_catalog_request

        await asyncio.to_thread(load_catalog_request, prices.catalog.base_url)
    return {endpoint: await services.prices.price(endpoint) for endpoint in Endpoint}


def signin_client(settings: Settings) -> SignInClient:
    """A client of device-code sign-in at ``settings.web_base`` (no token is ever sent there)."""
    from ..api.service import JsonChannel
    from ..api.signin import SignInClient

    return SignInClient(JsonChannel(settings.web_base, None, answer_statuses=frozenset({410})))


async def sign_in_at(
    settings: Settings,
    *,
    on_code: Callable[[DeviceCode], None],
    on_wait: Callable[[float, str | None], None],
) -> SignInResult:
    """Run the device-code flow at ``settings.web_base`` to its end; the client is closed
    however it ends (approved, denied, expired, failed or cancelled)."""
    from ..api.signin import sign_in

    client = signin_client(settings)
    try:
        return await sign_in(client, on_code=on_code, on_wait=on_wait)
    finally:
        await client.aclose()


class Wallet:
    """The wallet balance of the current backend: the last one read, and reading it again."""

    def __init__(self, backends: Backends) -> None:
        self._backends = backends
        self._last: tuple[Services, Balance] | None = None

    @property
    def last(self) -> Balance | None:
        """The last balance read on the current backend (None: not read since switching)."""
        if self._last is None or self._last[0] is not self._backends.current:
            return None
        return self._last[1]

    async def read(self) -> Balance:
        """Ask the current backend (one call; raises the api error tree)."""
        services = self._backends.current
        balance = await fetch_balance(services)
        self._last = (services, balance)
        return balance
