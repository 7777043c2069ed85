"""The footer every screen shows: Textual's, rebuilt only when what it shows has changed.

Textual's :class:`~textual.widgets.Footer` rebuilds all its keys (a recompose: a dozen widgets
removed, made, styled and laid out again, then the whole screen drawn anew) every time the
screen says its bindings *may* have changed — on every focus change and every return to the
screen. Coming back from the sweep grid, that rebuild landed right where the next key typed
had to wait for it, though the keys shown were the very ones shown before. :class:`SteadyFooter`
compares what it would show with what it shows and leaves itself alone when they are the same.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

__all__ = ["SteadyFooter"]


class SteadyFooter(Footer):
    """A :class:`~textual.widgets.Footer` that recomposes only when its keys would change."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: Hashable | None = None  # what the keys were made from, last time

    def _what_it_shows(self) -> Hashable:
        """Everything :meth:`Footer.compose` reads: the screen's shown bindings and the flags."""
        app = self.app
        return (
            self.show_command_palette,
            self.compact,
            tuple(
                (
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    binding.show,
                    None if binding.group is None else (binding.group.description,
                                                        binding.group.compact),
                    binding.tooltip,
                    enabled,
                    tooltip,
                )
                for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            ),
        )

    def compose(self) -> ComposeResult:
        if self._bindings_ready:  # (before, Footer.compose shows nothing)
            self._shown = self._what_it_shows()
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if self.is_attached and self._what_it_shows() != self._shown:
            await self.recompose()
