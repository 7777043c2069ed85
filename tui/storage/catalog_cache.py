"""The catalog prices, cached on disk for a day (``<cache dir>/catalog.json``).

A price is looked up before every decision and recorded with every submit; the catalog is asked
at most once a day per backend and endpoint. The file is a cache: unreadable or damaged, it is
ignored and rewritten; it can't hold a token (there is no field for one). Writes are atomic.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..api.catalog import Price, parse_usd

__all__ = ["CACHE_VERSION", "MAX_AGE_SECONDS", "CatalogCache"]

CACHE_VERSION = 1
MAX_AGE_SECONDS = 24 * 3600.0


class CatalogCache:
    """Prices by key (backend and model id), each with the time it was fetched."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        max_age: float = MAX_AGE_SECONDS,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self.max_age = max_age

    def get(self, key: str) -> Price | None:
        """The cached price if it is younger than a day; None otherwise."""
        entry = self._entries().get(key)
        if not isinstance(entry, dict):
            return None
        fetched = entry.get("fetched_at")
        if not isinstance(fetched, (int, float)) or not 0 <= self._clock() - fetched < self.max_age:
            return None
        unit = entry.get("unit")
        return Price(
            usd=parse_usd(entry.get("usd")),
            unit=unit if isinstance(unit, str) and unit else None,
            offline=entry.get("offline") is True,
        )

    def put(self, key: str, price: Price) -> None:
        """Remember ``price`` as fetched now (a failure to write is not an error: it's a cache)."""
        entries = self._entries()
        entries[key] = {
            "fetched_at": self._clock(),
            "usd": None if price.usd is None else str(price.usd),
            "unit": price.unit,
            "offline": price.offline,
        }
        data = json.dumps({"version": CACHE_VERSION, "entries": entries}, indent=1)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(data, encoding="utf-8")
            os.replace(temp, self.path)
        with contextlib.suppress(OSError):
            temp.unlink()

    def _entries(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        entries = data.get("entries")
        return dict(entries) if isinstance(entries, dict) else {}
