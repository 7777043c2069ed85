"""The wallet balance: ``GET {serverless base}/balance`` with the same bearer token.

One wallet funds every RunComfy product. The serverless base is
``https://api.runcomfy.net/prod/v2`` (``RUNCOMFY_SERVERLESS_API_BASE`` overrides it) and gets
the same trust rules as the Model API host: https (plain http on loopback only), no redirects.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..trust.sanitize import clean_text
from .catalog import format_usd, parse_usd
from .errors import ProtocolError
from .service import JsonChannel

__all__ = ["Balance", "BalanceClient"]


@dataclass(frozen=True, slots=True)
class Balance:
    """What is left in the wallet. ``offline`` marks the offline backend's pretend wallet."""

    usd: Decimal
    currency: str = "USD"
    offline: bool = False

    def describe(self) -> str:
        text = f"{format_usd(self.usd)} {self.currency}"
        return f"{text} (offline backend: a pretend wallet)" if self.offline else text


class BalanceClient:
    """Reads the balance through :class:`JsonChannel` (deadlines, no redirects, token redacted)."""

    def __init__(self, channel: JsonChannel) -> None:
        self._channel = channel

    @property
    def base_url(self) -> str:
        return self._channel.base_url

    async def balance(self) -> Balance:
        # pydantic is loaded by the first answer read, not by whoever only needs a Balance
        # (the sweep grid shows one: imported with it, pydantic cost ~100 ms at start).
        from .balance_answer import BalanceAnswer

        answer = await self._channel.get_json("balance", "/balance", BalanceAnswer)
        amount = parse_usd(answer.balance_usd, allow_negative=True)
        if amount is None:
            raise ProtocolError("the balance answer carries no usable balance_usd")
        currency = answer.currency if isinstance(answer.currency, str) else "USD"
        return Balance(
            usd=amount,
            currency=clean_text(currency, limit=8).strip() or "USD",
            offline=answer.offline is True,
        )

    async def aclose(self) -> None:
        await self._channel.aclose()
