"""Small statistics and the one line every benchmark prints per row."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

__all__ = ["percentile", "spread", "verdict"]


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), nearest-rank: a value that was actually measured."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def spread(samples: Sequence[float], scale: float = 1.0, digits: int = 0) -> str:
    """``median (min–max, n=N)`` in the given scale."""
    median = statistics.median(samples) * scale
    low, high = min(samples) * scale, max(samples) * scale
    return f"{median:.{digits}f} (min {low:.{digits}f}, max {high:.{digits}f}, n={len(samples)})"


def verdict(value: float, limit: float) -> str:
    """``meets`` when ``value <= limit``; else ``MISSES`` with how far over."""
    if value <= limit:
        return f"meets (≤ {limit:g})"
    return f"MISSES ({value / limit:.1f}× the limit {limit:g})"
