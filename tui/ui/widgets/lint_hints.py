"""Non-blocking prompt hints while typing: one line per hint, each naming its rule, each
dismissable; the list collapses to a single line so it fits an 80×24 terminal."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Button, Static

from ...iterate.lint import Hint, lint
from ...models import Endpoint
from ...trust.sanitize import clean_text

__all__ = ["HintRow", "LintHints"]


class HintRow(Horizontal):
    """One hint: ``rule-id · title: message`` and a ✕ button that dismisses the rule."""

    def __init__(self, hint: Hint) -> None:
        super().__init__(classes="hint-row")
        self.hint = hint

    def compose(self) -> ComposeResult:
        line = Text()
        line.append(clean_text(self.hint.rule), "bold")
        line.append(" · " + clean_text(f"{self.hint.title}: {self.hint.message}"))
        # Wrapped where there is room; where a row is cut to one line the tooltip has it all.
        text = Static(line, classes="hint-text")
        text.tooltip = line.plain
        yield text
        yield Button("✕", compact=True, classes="hint-dismiss", tooltip="don't show this hint")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(LintHints.Dismissed(self.hint.rule))


class LintHints(Widget):
    """Prompt advice from :func:`tui.iterate.lint.lint`; never blocks a submission.

    ``dismissed`` holds the rule ids the user turned off (passed to ``lint`` as ``disabled``).
    Posts :class:`LintHints.Dismissed` (bubbling) so the app may remember the choice. What is
    shown follows two reactives: ``hints`` (the rows, redrawn only when a hint's words change —
    typing before a hint moves its span, not the hint) and ``collapsed``.
    """

    DEFAULT_CSS = """
    LintHints { height: auto; display: none; }
    LintHints.-has-hints { display: block; }
    LintHints > #hints-header { height: 1; width: 1fr; color: $text-muted; }
    LintHints > #hints-rows { height: auto; max-height: 4; }
    LintHints.-collapsed > #hints-rows { display: none; }
    LintHints .hint-row { height: auto; width: 1fr; }
    LintHints .hint-text { width: 1fr; height: auto; }
    LintHints .hint-dismiss { width: 3; min-width: 3; height: 1; }
    """

    hints: var[tuple[Hint, ...]] = var(())
    """The hints shown now."""
    collapsed: var[bool] = var(False)
    """Only the header line shows."""

    class Dismissed(Message):
        """The user dismissed the hints of ``rule``."""

        def __init__(self, rule: str) -> None:
            super().__init__()
            self.rule = rule

    def __init__(
        self,
        *,
        dismissed: Iterable[str] = (),
        collapsed: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.dismissed: set[str] = set(dismissed)
        self._inputs: tuple[str, str, int] | None = None
        # The header's last text: hints move on most keystrokes (their spans do), and updating
        # a Static lays the screen out again, so an unchanged header is left alone.
        self._header: str | None = None
        self.set_reactive(LintHints.collapsed, collapsed)
        self.set_class(collapsed, "-collapsed")

    def compose(self) -> ComposeResult:
        yield Static(id="hints-header")
        yield VerticalScroll(id="hints-rows")

    def on_mount(self) -> None:
        self._show_header()
        self._show_rows()

    @property
    def rules_shown(self) -> list[str]:
        return list(dict.fromkeys(hint.rule for hint in self.hints))

    def update_hints(self, prompt: str, endpoint: Endpoint | str, reference_count: int = 0) -> None:
        """Re-run the rules on the current prompt (cheap; debouncing is the caller's business)."""
        self._inputs = (prompt, Endpoint(endpoint).value, reference_count)
        self._relint()

    def dismiss_rule(self, rule: str) -> None:
        """Stop showing hints of ``rule`` (until :meth:`restore_all`)."""
        self.dismissed.add(rule)
        self._relint()

    def restore_all(self) -> None:
        self.dismissed.clear()
        self._relint()

    def toggle(self) -> None:
        """Collapse the rows to the one header line, or expand them."""
        self.collapsed = not self.collapsed

    def on_click(self, event: object) -> None:
        widget = getattr(event, "widget", None)
        if widget is not None and widget.id == "hints-header":
            self.toggle()

    def on_lint_hints_dismissed(self, message: LintHints.Dismissed) -> None:
        if message.rule not in self.dismissed:
            self.dismiss_rule(message.rule)
        # let it bubble on to the app, which may remember the choice

    def _relint(self) -> None:
        if self._inputs is None:
            found: list[Hint] = []
        else:
            prompt, endpoint, references = self._inputs
            found = lint(
                prompt, endpoint=endpoint, reference_count=references, disabled=self.dismissed
            )
        self.hints = tuple(found)

    @staticmethod
    def _words(hints: tuple[Hint, ...]) -> tuple[tuple[str, str, str], ...]:
        return tuple((hint.rule, hint.title, hint.message) for hint in hints)

    def watch_hints(self, old: tuple[Hint, ...], new: tuple[Hint, ...]) -> None:
        self.set_class(bool(new), "-has-hints")
        if not self.is_mounted:  # drawn at mount
            return
        self._show_header()
        if self._words(old) != self._words(new):
            self._show_rows()

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")
        if self.is_mounted:
            self._show_header()

    def _show_header(self) -> None:
        count = len(self.hints)
        noun = "hint" if count == 1 else "hints"
        arrow = "▸" if self.collapsed else "▾"
        action = "click to show" if self.collapsed else "✕ dismisses a rule"
        header = f"{arrow} {count} prompt {noun} (advice only; {action})"
        if header != self._header:
            self._header = header
            self.query_one("#hints-header", Static).update(Text(header))

    def _show_rows(self) -> None:
        rows = self.query_one("#hints-rows", VerticalScroll)
        rows.remove_children()
        rows.mount_all(HintRow(hint) for hint in self.hints)
