"""Keys that type text never act while the user is typing.

A binding on a key that types a character (``h``, ``r``, ``?``, ``/``, space) is an action only
where nothing takes text: :class:`TypingSafeScreen` disables such bindings (``check_action``
returns False, so the footer hides them too) while a text field has focus. A screen can widen
what "typing" means (the main screen: anywhere in the composer, whose size picker and reference
list sit between text fields and look like them).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, TypeVar

from textual.actions import parse
from textual.binding import Binding, BindingType
from textual.keys import key_to_character
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea

__all__ = ["TypingSafeScreen", "in_text_field", "typed_actions", "types_text"]


def types_text(keys: str) -> bool:
    """Whether every one of the comma-separated ``keys`` types a character (``h``,
    ``question_mark``, ``space``); ``ctrl+…``, ``f1``, ``escape``, arrows don't. (An action
    also bound to such a key stays available: a text field keeps the letters it is typed.)"""
    return all(_printable(key_to_character(key.strip())) for key in keys.split(","))


def _printable(character: str | None) -> bool:
    return character is not None and character.isprintable()  # "escape" maps to "\x1b"


def in_text_field(widget: Widget | None) -> bool:
    """Whether ``widget`` takes typed text (an editable input or text area)."""
    if isinstance(widget, TextArea):
        return not widget.read_only
    return isinstance(widget, Input)


def _binding_keys_and_action(binding: BindingType) -> tuple[str, str]:
    if isinstance(binding, Binding):
        return binding.key, binding.action
    return binding[0], binding[1]


def typed_actions(bindings: Iterable[BindingType]) -> frozenset[tuple[str, tuple[Any, ...]]]:
    """The ``(action, parameters)`` of every binding on a key that types text."""
    found: set[tuple[str, tuple[Any, ...]]] = set()
    for binding in bindings:
        keys, action = _binding_keys_and_action(binding)
        if types_text(keys):
            _, name, parameters = parse(action)
            found.add((name, tuple(parameters)))
    return frozenset(found)


ResultType = TypeVar("ResultType")


class TypingSafeScreen(Screen[ResultType]):
    """A screen whose letter-key bindings wait while the user types (see the module doc)."""

    def typing(self) -> bool:
        """Whether keys typed now are text, not commands."""
        return in_text_field(self.focused)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Focus changes refresh the footer, which asks here: letter keys show only where they act.
        if self.typing() and (action, tuple(parameters)) in _typed_actions_of(type(self)):
            return False
        return super().check_action(action, parameters)


@lru_cache(maxsize=64)
def _typed_actions_of(screen_class: type[Screen[Any]]) -> frozenset[tuple[str, tuple[Any, ...]]]:
    bindings: list[BindingType] = []
    for cls in screen_class.__mro__:
        bindings.extend(cls.__dict__.get("BINDINGS", []))
    return typed_actions(bindings)
