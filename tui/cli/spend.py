"""``spend [--json] [--since DATE]``: what the history says was billed, by day and month.

Local only (no backend is contacted). Each billed job counts at the catalog price it was
submitted at; see :mod:`tui.storage.spend` for what counts as billed.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from ..api.money import format_usd
from ..locations import Locations
from ..storage.history import History
from ..storage.spend import SpendLine, SpendReport, history_spend
from .console import print_json
from .exits import EXIT_USAGE, CommandExit

__all__ = ["parse_since", "spend_command"]


def parse_since(text: str | None) -> float | None:
    """``YYYY-MM-DD`` (local midnight) as UNIX seconds; None when not given."""
    if text is None:
        return None
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise CommandExit(EXIT_USAGE, f"--since wants a date like 2025-06-01, not {text!r}") from None
    return time.mktime(day.timetuple())


def _line_json(line: SpendLine) -> dict[str, object]:
    return {"period": line.period, "jobs": line.jobs, "usd": float(line.usd),
            "unpriced_jobs": line.unpriced}


def _print_table(report: SpendReport) -> None:
    def row(line: SpendLine) -> str:
        noun = "job " if line.jobs == 1 else "jobs"
        unpriced = f"  ({line.unpriced} without a price)" if line.unpriced else ""
        return f"  {line.period:<11} {line.jobs:>5} {noun} {format_usd(line.usd):>10}{unpriced}"

    if not report.total.jobs:
        print("nothing billed in this history yet")
    else:
        print("by day (billed jobs at the price they were submitted at, USD)")
        for line in report.days:
            print(row(line))
        print("by month")
        for line in report.months:
            print(row(line))
        print(row(report.total))
    if report.total.unpriced:
        print(f"{report.total.unpriced} billed job(s) have no recorded price and are not in the "
              "sums (the catalog didn't say)")
    if report.maybe_billed:
        print(f"{report.maybe_billed} job(s) may have run and been billed (outcome unknown) and "
              "are not in the sums")


def spend_command(args: argparse.Namespace) -> int:
    """``spend``: what the local history says was billed (no backend is contacted)."""
    since = parse_since(args.since)
    database = Locations.default().history_db
    if not database.exists():
        report = SpendReport(days=[], months=[], total=SpendLine("total"), maybe_billed=0)
    else:
        with History(database) as history:
            report = history_spend(history, since=since)
    if args.json:
        print_json({
            "currency": "USD",
            "since": args.since,
            "total": _line_json(report.total),
            "days": [_line_json(line) for line in report.days],
            "months": [_line_json(line) for line in report.months],
            "maybe_billed_jobs": report.maybe_billed,
        })
    else:
        _print_table(report)
    return 0

