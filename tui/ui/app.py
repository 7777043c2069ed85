"""The Textual app: owns the backends, the job workers and the one bridge from the engines.

It is handed built :class:`~tui.services.graph.Services`. It runs every job worker
(:class:`~tui.ui.workers.JobWorkers`) and handles how each ended in one place
(:meth:`GptImageApp.on_worker_state_changed`); its :class:`~tui.ui.bridge.JobFeed` carries
engine events to the screens that read them. After signing in it moves new jobs to the API
(:class:`~tui.services.backends.Backends`), feeds the new engine too, and tells the main screen.
The main screen and what it opens do the rest (:mod:`tui.ui.commands`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..config import signin_help
from ..iterate.draft import ComposerDraft
from ..services.account import Wallet, fetch_prices, sign_in_at
from ..services.backends import Backends
from ..services.graph import Services
from ..storage.token_file import token_file_path, write_token_file
from ..trust.sanitize import clean_text
from ..trust.token import Token
from .bridge import JobFeed
from .commands.sheets import compare_plan, export_sheet, sweep_plan
from .cursor_rest import REST_SECONDS, CursorRest
from .idle_gc import IdleCollector
from .imaging import GraphicsChoice, ImageKit, PreviewCache
from .messages import CompareRequested
from .screens.confirm import ConfirmQuit, quit_question
from .screens.main import DRAFT_KEY, HINTS_KEY, MainScreen, Prefill
from .terminal.driver import typed_events
from .widgets.backend_bar import BackendBar, BackendInfo
from .workers import JobWorkers

if TYPE_CHECKING:  # screens the first frame doesn't show are loaded when first opened
    from .screens.signin import SignInScreen
    from .screens.sweep import SweepGrid

__all__ = ["GptImageApp", "Prefill"]

DEFAULT_GRAPHICS = GraphicsChoice("halfcell", "not detected → half-cell blocks")
EXTERNAL_SYNC_SECONDS = 2.0  # how often changes made by other processes are looked for

KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+j", "submit the prompt (works inside the editor); {a|b|c} sweeps send one job each"),
    ("escape", "close what is open; in the composer: go to the job list; "
               "on the job list: cancel the highlighted job (named in the status line)"),
    ("tab / shift+tab", "move between prompt, size, references, jobs"),
    ("f2 / f3", "focus the prompt / the job list (the focused pane's title is reversed)"),
    ("f4", "edit the prompt in $VISUAL / $EDITOR (the app steps aside meanwhile)"),
    ("ctrl+n", "new prompt: a fresh draft with no parent (ctrl+z brings the old one back)"),
    ("ctrl+z", "in the prompt: undo; right after a load (iterate, re-run, a recipe, new "
               "prompt) it brings back what the load replaced"),
    ("", "on the job list (letters typed in the composer are always text):"),
    ("enter / f", "full-screen image; ←/→ there: previous / next image"),
    ("v", "open the image in the system viewer ($GPT_IMAGE_TUI_VIEWER, else xdg-open / open)"),
    ("i", "iterate: load the selected job into the composer as its child"),
    ("e", "edit this result: a new edit whose image 1 is the job's output"),
    ("c", "compare: mark a job, c on another compares; c twice: with its parent"),
    ("l", "lineage of the selected job (ancestors and descendants)"),
    ("h", "history browser: open, iterate, edit, re-run, delete (q / Esc: back)"),
    ("y", "copy menu: image path, URL, request id, prompt, runcomfy command"),
    ("j / k, g / G", "down / up, first / last job (also ↑ ↓ Home End); older jobs load as you go"),
    ("s", "star the selected job (★ on its card); * shows starred jobs only"),
    ("/", "filter the list by part of a prompt or label (Enter keeps it, Esc clears it)"),
    ("L / W", "only the selected job's lineage / sweep (again: every job)"),
    ("w", "the grid of the selected job's sweep, however old"),
    ("ctrl+t", "detach the composer from its parent: the next job starts a new lineage"),
    ("", "in the composer:"),
    ("\\{ \\} \\|", "literal braces and bar in a prompt (not a sweep)"),
    ("enter (URL field)", "add the reference URL; an image path restores that PNG's recipe"),
    ("delete / x", "remove the selected reference"),
    ("shift+↑ / shift+↓", "move the selected reference up / down (first = primary)"),
    ("click OFFLINE", "sign in (device code), then new jobs go to the API; also in ctrl+p"),
    ("ctrl+p", "command palette: every command (sizes, references, re-run, delete, contact "
               "sheet …)"),
    ("f1 / ?", "this help"),
    ("ctrl+q", "quit (jobs in flight are resumed next time)"),
)


def backend_info(services: Services) -> BackendInfo:
    return BackendInfo(services.settings.offline, services.signed_in, services.backend_label)


class GptImageApp(App[None]):
    """gpt-image-tui, over ``services`` (built by :func:`tui.services.graph.open_services`).

    ``kit`` fixes how images are drawn (tests and snapshots pass a fixed image widget class);
    ``clock`` is what the job cards measure time with; ``cursor_rest`` is how long without
    input before the cursor stops blinking (0: it never does); ``quick_start``: the first frame
    shows the composer alone, and the job list and details come right after it (the launch
    asks for it: the prompt is there sooner; keys typed meanwhile are kept); ``idle_gc``: full
    garbage collections only while input is quiet (:mod:`tui.ui.idle_gc`; the launch asks for
    it — it changes the collector of the whole process).
    """

    CSS_PATH = "app.tcss"
    TITLE = "gpt-image-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(
        self,
        services: Services,
        *,
        prefill: Prefill | None = None,
        graphics: GraphicsChoice | None = None,
        kit: ImageKit | None = None,
        clock: Callable[[], float] = time.time,
        cursor_rest: float = REST_SECONDS,
        quick_start: bool = False,
        idle_gc: bool = False,
    ) -> None:
        super().__init__()
        self.backends = Backends(services)
        self.feed = JobFeed()
        self.jobs = JobWorkers(self, self.backends)
        self.wallet = Wallet(self.backends)
        self.kit = kit or ImageKit(
            graphics or DEFAULT_GRAPHICS, PreviewCache(services.settings.locations.preview_cache)
        )
        self.clock = clock
        self.cursor_rest = CursorRest(self, cursor_rest)
        self.quick_start = quick_start
        self.idle_gc = IdleCollector(self) if idle_gc else None
        # Thumbnails and panel copies are made as each image is saved, from its decoded pixels.
        services.downloader.after_save = self.kit.cache.made_on_save
        self.prefill = prefill or Prefill()
        self._announce_balance = False
        self._main: MainScreen | None = None
        self._early_keys: list[events.Key] | None = []  # None once the prompt takes keys
        # Read now, before the app runs, rather than on its loop: the draft and dismissed hints.
        self._draft = ComposerDraft.from_text(services.history.load_draft(DRAFT_KEY))
        self._dismissed_hints = tuple(
            filter(None, (services.history.load_draft(HINTS_KEY) or "").split(","))
        )

    @property
    def services(self) -> Services:
        """The services new jobs go to."""
        return self.backends.current

    @property
    def main_screen(self) -> MainScreen:
        assert self._main is not None, "the main screen is made when the app starts"
        return self._main

    def get_default_screen(self) -> Screen[Any]:
        services = self.services
        self._main = MainScreen(
            history=services.history,
            jobs=self.jobs,
            feed=self.feed,
            kit=self.kit,
            wallet=self.wallet,
            backend=backend_info(services),
            output_dir=services.settings.output_dir,
            prefill=self.prefill,
            draft=self._draft,
            dismissed_hints=self._dismissed_hints,
            clock=self.clock,
            quick_start=self.quick_start,
        )
        return self._main

    def on_mount(self) -> None:
        self.feed.watch(self.services.engine)
        self._resume("resumed {count} job{s} from an earlier session")
        # Other processes (a second window, `resume`) change jobs too: show their changes.
        self.set_interval(EXTERNAL_SYNC_SECONDS, self._sync_external)
        self.cursor_rest.start()
        # After the first frame: the first request builds the HTTP client (and, offline, wakes
        # the embedded server, which only then loads aiohttp) — none of that delays the screen.
        # The offline backend's child starts once the first frame is out (calls made before,
        # like resumed jobs', wait in its socket's backlog), then the prices are asked for.
        if self.services.offline is not None:
            self.call_after_refresh(self.services.offline.start_serving)
        self.call_after_refresh(self._load_prices)
        # Keys typed early go to the screen once all of it is there (with quick_start, the job
        # list is built just after the first frame), then the sweep grid's styles are readied.
        self.main_screen.when_ready(lambda: self.call_after_refresh(self._listen))
        self.main_screen.when_ready(lambda: self.call_after_refresh(self._warm_styles))
        # The image widgets' module is imported now rather than when the first image is shown.
        self.main_screen.when_ready(lambda: self.call_after_refresh(self.kit.image_widget))
        if self.idle_gc is not None:  # what the start built is frozen once all of it is there
            idle_gc = self.idle_gc
            self.main_screen.when_ready(lambda: self.call_after_refresh(idle_gc.start))

    async def on_event(self, event: events.Event) -> None:
        self.cursor_rest.saw(event)
        if self.idle_gc is not None:
            self.idle_gc.saw(event)
        if self._early_keys is not None and isinstance(event, events.Key):
            self._early_keys.append(event)  # typed before the prompt was there to take it
            return
        await super().on_event(event)

    def _listen(self) -> None:
        """The prompt is drawn and focused: hand it what was typed before it was.

        First the keys typed while the terminal was asked what it can show (the probe read
        them), then those that came while the first screen was being built, in order.
        """
        early, self._early_keys = self._early_keys or [], None
        for event in [*typed_events(self.kit.graphics.typed), *early]:
            self.post_message(event)

    def _warm_styles(self) -> None:
        """Parse the styles of a sweep's grid now, while nothing waits.

        Textual parses the whole stylesheet again the first time a screen or widget class with
        its own CSS appears (~60 ms, and every node restyled); confirming a sweep must draw the
        grid within 100 ms of the key, so its CSS is in the stylesheet before then.
        """
        from .screens.sweep import SweepCell, SweepScreen
        from .widgets.thumbs import Thumb

        stylesheet = self.stylesheet
        grid = SweepScreen("", [], self.kit)
        for path in grid.css_path:
            if not stylesheet.has_source(str(path), ""):
                stylesheet.read(path)
        for node in (grid.grid, SweepCell(self.kit, label=""), Thumb(self.kit)):
            # What Textual adds when the first of each is mounted (Widget._post_register).
            for read_from, css, tie_breaker, scope in node._get_default_css():
                stylesheet.add_source(
                    css, read_from=read_from, is_default_css=True, tie_breaker=tie_breaker,
                    scope=scope,
                )
        # parse(), not reparse(): only the sources added here are parsed (the others are in
        # the stylesheet's parse cache); reparse() would parse all of them again from scratch.
        stylesheet.parse()

    async def on_unmount(self) -> None:
        """Close the HTTP clients on this app's own loop, which they belong to. The database
        and the offline server stay with whoever built the services (launch, or a test)."""
        self.feed.close()
        if self.idle_gc is not None:
            self.idle_gc.stop()
        await self.backends.close_clients()

    def _resume(self, text: str) -> None:
        resumed = self.jobs.recover()
        if resumed:
            count = len(resumed)
            self.notify(text.format(count=count, s="s" if count != 1 else ""), markup=False)

    def _sync_external(self) -> None:
        """Look for other processes' changes: a cheap check here, a worker only when there are
        some."""
        if not self.services.engine.may_have_external_changes():
            return
        self.run_worker(
            self.services.engine.sync_external(), name="external changes", group="external",
            exclusive=True, exit_on_error=False,
        )

    def _load_prices(self) -> None:
        self.run_worker(fetch_prices(self.services), name="prices", group="prices",
                        exclusive=True, exit_on_error=False)

    # ------------------------------------------------------------------ the one worker handler

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every app worker ends here: job workers, prices, the balance.

        What the main screen shows is handed to it through its own queue (``call_later``), so
        it arrives after the screen is composed even when a worker ends first, at start.
        """
        outcome = self.jobs.outcome(event)
        if outcome is not None:
            self.main_screen.call_later(self.main_screen.job_outcome, outcome.job_id, outcome.text)
            self.notify(f"job #{outcome.job_id}: {outcome.text}", severity=outcome.severity,
                        markup=False)
            return
        worker = event.worker
        if worker.group == "prices" and event.state == WorkerState.SUCCESS:
            prices = worker.result
            if isinstance(prices, dict):
                self.main_screen.call_later(self.main_screen.set_prices, prices)
        elif worker.group == "balance" and event.state == WorkerState.SUCCESS:
            balance = worker.result
            from ..api.balance import Balance  # the worker loaded it

            if isinstance(balance, Balance) and self._announce_balance:
                self._announce_balance = False
                self.notify(f"balance: {balance.describe()}", markup=False)
        elif worker.group == "balance" and event.state == WorkerState.ERROR:
            self._announce_balance = False
            reason = clean_text(worker.error or "unexpected error", limit=200)
            self.notify(f"couldn't read the balance: {reason}", severity="warning", markup=False)

    # ------------------------------------------------------------------ from the screens

    def on_sweep_grid_cancel_job(self, message: SweepGrid.CancelJob) -> None:
        self.main_screen.cancel(message.job_id)

    def on_sweep_grid_selected(self, message: SweepGrid.Selected) -> None:
        self.main_screen.select_job(message.job_id)
        self.main_screen.fullscreen()

    def on_compare_requested(self, message: CompareRequested) -> None:
        self.main_screen.compare_job(message.job_id)

    def on_backend_bar_sign_in_requested(self, message: BackendBar.SignInRequested) -> None:
        self.action_sign_in()

    # ------------------------------------------------------------------ the account

    @property
    def can_sign_in(self) -> bool:
        return self.services.can_sign_in

    def action_sign_in(self) -> None:
        """Open the sign-in screen; it runs the device-code flow."""
        if not self.can_sign_in:
            self.notify(f"already signed in ({clean_text(self.services.backend_label)})",
                        markup=False)
            return
        from .screens.signin import SignInScreen

        settings = self.services.settings
        self.push_screen(SignInScreen(settings.web_base, partial(sign_in_at, settings)))

    def on_sign_in_screen_authorized(self, message: SignInScreen.Authorized) -> None:
        """Keep the token as ``runcomfy login`` does, then send new jobs to the API."""
        path = token_file_path()
        saved = f"token saved to {path}"
        try:
            write_token_file(path, message.token)
        except OSError as exc:
            saved = f"the token could not be saved to {path} ({exc.strerror}): this session only"
        from pydantic import SecretStr  # signing in loaded it

        self.switch_to_api(Token(SecretStr(message.token.get_secret_value()), str(path)))
        message.screen.finish(True, f"Signed in; {saved}. New jobs go to the RunComfy API.")

    def switch_to_api(self, token: Token) -> None:
        """From now on new jobs go to the Model API; jobs in flight stay where they are.

        Unfinished jobs this backend has from earlier sessions are resumed, as a restart would.
        """
        services = self.backends.switch_to_api(token)
        services.downloader.after_save = self.kit.cache.made_on_save
        self.feed.watch(services.engine)
        self.main_screen.show_backend(backend_info(services))
        self._load_prices()
        self.notify(
            "signed in: new jobs go to the RunComfy API (billed); jobs already running on the "
            "offline backend finish there",
            markup=False,
        )
        self._resume("resumed {count} job(s) sent to the API in an earlier session")

    def action_show_balance(self) -> None:
        self._announce_balance = True
        self.run_worker(self.wallet.read(), name="balance", group="balance", exclusive=True,
                        exit_on_error=False)

    # ------------------------------------------------------------------ app-wide actions

    def action_help(self) -> None:
        from .screens.help import HelpScreen, help_content

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        signin = (
            None
            if not self.can_sign_in
            else "  Sign in from here: click OFFLINE, or ctrl+p → Sign in.\n" + signin_help()
        )
        self.push_screen(
            HelpScreen(
                help_content(
                    KEYS,
                    backend=self.services.backend_label,
                    graphics=self.kit.graphics.help_text,
                    signin=signin,
                    width=min(96, self.size.width * 9 // 10) - 7,  # inside the box: border, padding, bar
                )
            )
        )

    async def action_quit(self) -> None:
        """Quit; with jobs in flight, say they will be resumed and ask first."""
        if isinstance(self.screen, ConfirmQuit):
            self.screen.dismiss(True)
            return
        sent, unsent = self.main_screen.in_flight()
        if not sent and not unsent:
            # Keys typed just before ctrl+q reach the prompt first, so the draft has them.
            self.main_screen.after_typing(self._exit_keeping_draft)
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self._exit_keeping_draft()

        question = quit_question(sent + unsent)
        if unsent:
            question += f"\n({unsent} not sent yet will not be sent; nothing billed for those)"
        self.push_screen(ConfirmQuit(sent + unsent, question=question), answered)

    def _exit_keeping_draft(self) -> None:
        self.main_screen.hold_draft()
        self.exit()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from .screens.compare import CompareScreen
        from .screens.sweep import SweepScreen

        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            yield from screen.system_commands()
        elif isinstance(screen, CompareScreen):
            yield SystemCommand("Flip", "One box, A and B in turn (space / f)", screen.action_flip)
            plan = compare_plan(screen.left, screen.right)
            yield SystemCommand("Export contact sheet", "A and B as one labelled PNG",
                                partial(export_sheet, self.main_screen, plan))
        elif isinstance(screen, SweepScreen):
            yield SystemCommand("Export contact sheet", "The sweep as one labelled PNG",
                                partial(self._export_sweep, screen.sweep_id))

    def _export_sweep(self, sweep_id: str) -> None:
        main = self.main_screen
        main.read_then(lambda: main.history.sweep(sweep_id),
                       lambda jobs: export_sheet(main, sweep_plan(jobs)))
