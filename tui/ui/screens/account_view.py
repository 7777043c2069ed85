"""The main screen's account side, as a mixin: which backend new jobs go to, prices, the
balance and this session's spend. Workers wrap one core call each (:func:`tui.services.graph.fetch_prices`,
:func:`tui.services.graph.fetch_balance`); their results are handed to the widgets that show them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from textual.worker import Worker, WorkerState

from ...api.balance import Balance
from ...api.catalog import format_usd
from ...models import Job
from ...storage.spend import billed_cost, is_billed
from ...trust.sanitize import clean_text
from ..widgets.backend_bar import BackendBar
from ..widgets.composer import Composer
from .sweep import SweepConfirmScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from ...jobs.events import JobEvent

    class _Host(Screen[None]):
        """What the mixin uses of :class:`~tui.ui.screens.main.MainScreen`."""

        services: Any
        engine: Any
        history: Any

        def _job(self, job_id: int | None) -> Job | None: ...
        def _on_engine_event(self, event: JobEvent) -> None: ...
        def _follow(self, job_id: int) -> None: ...
else:
    _Host = object

__all__ = ["AccountView"]


class AccountView(_Host):
    """Mixed into :class:`MainScreen` (``self`` is the screen)."""

    def init_account_view(self) -> None:
        self._engines: list[Any] = []  # engines of earlier backends, still following their jobs
        self._unsubscribe_more: list[Callable[[], None]] = []
        self._session_start = time.time()
        self._session_costs: dict[int, Decimal | None] = {}  # billed jobs of this session
        self.balance: Balance | None = None  # last known, from the palette or a sweep confirm
        self._announce_balance = False

    def _engine_for(self, job_id: int) -> Any:
        """The engine in charge of a job: the one following it, else the one of its backend."""
        engines = [self.engine, *self._engines]
        for engine in engines:
            if engine.is_following(job_id):
                return engine
        job = self._job(job_id)
        backend = job.backend if job is not None else None
        return next((e for e in engines if e.backend == backend), self.engine)

    def use_services(self, services: Any) -> None:
        """Send new jobs to ``services`` (after signing in); earlier engines go on following.

        Unfinished jobs this backend has from earlier sessions are resumed, as a restart would.
        """
        self._engines.append(self.engine)
        self.services, self.engine, self.history = services, services.engine, services.history
        self._unsubscribe_more.append(self.engine.subscribe(self._on_engine_event))
        self.query_one(BackendBar).show_backend(
            services.settings.offline, services.signed_in, services.backend_label
        )
        self.balance = None
        self._show_spend()
        self._load_prices()
        resumed = self.engine.recover()
        for job in resumed:
            self._follow(job.id)
        if resumed:
            self.notify(f"resumed {len(resumed)} job(s) sent to the API in an earlier session",
                        markup=False)

    def _load_prices(self) -> None:
        from ...services.graph import fetch_prices

        self.run_worker(fetch_prices(self.services), name="prices", group="prices",
                        exclusive=True, exit_on_error=False)

    def refresh_balance(self, *, announce: bool = False) -> None:
        """Fetch the balance; ``announce`` says it (the palette), else it only feeds warnings."""
        from ...services.graph import fetch_balance

        self._announce_balance = self._announce_balance or announce
        self.run_worker(fetch_balance(self.services), name="balance", group="balance",
                        exclusive=True, exit_on_error=False)

    def account_worker_done(self, name: str, event: Worker.StateChanged) -> None:
        """The prices or balance worker ended: hand its result to whatever shows it."""
        worker = event.worker
        if name == "prices" and event.state == WorkerState.SUCCESS:
            self.query_one(Composer).set_prices(worker.result)  # type: ignore[arg-type]
        elif name == "balance" and event.state == WorkerState.SUCCESS:
            balance: Balance = worker.result  # type: ignore[assignment]
            self.balance = balance
            for screen in self.app.screen_stack:
                if isinstance(screen, SweepConfirmScreen):
                    screen.show_balance(balance)
            if self._announce_balance:
                self._announce_balance = False
                self.notify(f"balance: {balance.describe()}", markup=False)
        elif name == "balance" and event.state == WorkerState.ERROR and self._announce_balance:
            self._announce_balance = False
            reason = clean_text(worker.error or "unexpected error", limit=200)
            self.notify(f"couldn't read the balance: {reason}", severity="warning", markup=False)

    def _count_spend(self, job: Job) -> None:
        """A job of this session that the server completed adds its price to the header."""
        if job.id in self._session_costs or job.created_at < self._session_start:
            return
        if is_billed(job):
            self._session_costs[job.id] = billed_cost(job)
            self._show_spend()

    def _show_spend(self) -> None:
        bar = self.query_one(BackendBar)
        if self.services.settings.offline and not self._session_costs:
            bar.show_spend("")
            return
        total = sum((c for c in self._session_costs.values() if c is not None), Decimal(0))
        unpriced = sum(1 for c in self._session_costs.values() if c is None)
        extra = f" +{unpriced} unpriced" if unpriced else ""
        bar.show_spend(f"session {format_usd(total)}{extra}")
