"""Decisions about the terminal, as pure functions of what is known and what it answered.

:class:`TerminalFacts` is what the environment says (variables, TTYs, tmux's own view of its
client); :func:`plan_queries` says what to ask the terminal; :func:`decide` turns the facts and
the answers (:class:`~tui.ui.terminal.replies.TerminalReplies`, or None when nothing was asked)
into a :class:`~tui.ui.terminal.choice.GraphicsChoice`. No I/O here, so every branch is tested by
feeding recorded answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .choice import (
    COLOR_DEPTHS,
    DEFAULT_CELL_SIZE,
    GRAPHICS_MODES,
    ColorChoice,
    ColorDepth,
    GraphicsChoice,
    GraphicsMode,
)
from .replies import KITTY_QUERY_ID, KITTY_TMUX_QUERY_ID, TerminalReplies

__all__ = [
    "KITTY_PLACEHOLDERS_SINCE",
    "QueryPlan",
    "TerminalFacts",
    "TmuxInfo",
    "decide",
    "decide_colors",
    "facts_from_env",
    "plan_queries",
]

KITTY_PLACEHOLDERS_SINCE = (0, 28)  # kitty drew no Unicode placeholders before 0.28
_KITTY_VERSION = re.compile(r"kitty\((\d+)\.(\d+)(?:\.(\d+))?\)")
PASSTHROUGH_HINT = (
    "tmux can pass Kitty graphics through to a terminal that shows them (kitty ≥ 0.28, "
    "Ghostty, WezTerm): `tmux set -g allow-passthrough on` (add it to ~/.tmux.conf)"
)


@dataclass(frozen=True, slots=True)
class TmuxInfo:
    """What the local tmux server says about itself and the client the user sees."""

    version: str = ""
    allow_passthrough: bool = False
    client_features: frozenset[str] = frozenset()
    client_termname: str = ""
    client_termtype: str = ""

    @property
    def client_rgb(self) -> bool:
        """tmux sends 24-bit colour to the client (its terminal-features include RGB)."""
        return "RGB" in self.client_features


@dataclass(frozen=True, slots=True)
class TerminalFacts:
    """What is known before asking the terminal anything."""

    tty_in: bool = True
    tty_out: bool = True
    term: str = ""
    colorterm: str = ""
    no_color: bool = False
    over_ssh: bool = False
    in_tmux: bool = False  # TMUX is set or TERM says tmux: the tmux server is local
    in_screen: bool = False
    tmux: TmuxInfo | None = None  # asked from the local tmux server when in_tmux
    cell_size: tuple[int, int] | None = None  # from the tty's pixel size, when it has one
    lib_passthrough: bool = False  # the installed textual-image wraps Kitty graphics for tmux


def facts_from_env(
    env: Mapping[str, str],
    *,
    tty_in: bool,
    tty_out: bool,
    tmux: TmuxInfo | None = None,
    cell_size: tuple[int, int] | None = None,
    lib_passthrough: bool = False,
) -> TerminalFacts:
    term = env.get("TERM", "")
    return TerminalFacts(
        tty_in=tty_in,
        tty_out=tty_out,
        term=term,
        colorterm=env.get("COLORTERM", "").lower(),
        no_color="NO_COLOR" in env,
        over_ssh=any(env.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")),
        in_tmux=bool(env.get("TMUX")) or term.startswith("tmux"),
        in_screen=bool(env.get("STY")) or (term.startswith("screen") and not env.get("TMUX")),
        tmux=tmux,
        cell_size=cell_size,
        lib_passthrough=lib_passthrough,
    )


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """What to ask: always DA1 last (every terminal answers it, in order, so it ends the wait)."""

    kitty: bool = True  # the Kitty graphics query, wrapped in a title push/pop for tmux's sake
    passthrough: bool = False  # also ask the terminal behind tmux (allow-passthrough is on)
    cell_size: bool = True
    timeout: float = 0.3

    @property
    def expected_da1(self) -> int:
        return 2 if self.passthrough else 1


def _known_truecolor(facts: TerminalFacts) -> bool:
    return facts.colorterm in ("truecolor", "24bit")


def plan_queries(
    facts: TerminalFacts, graphics: str = "auto", colors: str = "auto"
) -> QueryPlan | None:
    """What to ask the terminal, or None when nothing needs asking (or nothing can be asked)."""
    if not (facts.tty_in and facts.tty_out) or facts.term in ("", "dumb"):
        return None
    need_answer = graphics == "auto"
    need_cell = graphics != "halfcell" and facts.cell_size is None
    need_colors = colors == "auto" and not _known_truecolor(facts)
    if not (need_answer or need_cell or need_colors):
        return None
    tmux = facts.tmux if facts.in_tmux else None
    return QueryPlan(
        # tmux never answers the Kitty query itself; screen and tmux would show it as a title.
        kitty=need_answer and not facts.in_tmux and not facts.in_screen,
        passthrough=bool(
            need_answer and tmux and tmux.allow_passthrough and facts.lib_passthrough
        ),
        cell_size=need_cell,
        timeout=1.0 if facts.over_ssh else 0.3,
    )


# --- graphics --------------------------------------------------------------------------------


def _kitty_version(text: str | None) -> tuple[int, int] | None:
    match = _KITTY_VERSION.search(text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _placeholder_problem(version_text: str | None) -> str | None:
    """Why Kitty images (drawn with Unicode placeholders) won't show, or None when they will."""
    version = _kitty_version(version_text)
    if version is not None and version < KITTY_PLACEHOLDERS_SINCE:
        return (
            f"{version_text} has no Unicode placeholders (kitty added them in 0.28), which "
            "textual-image draws Kitty images with"
        )
    if version_text is None:
        return (
            "the terminal answered the Kitty graphics query but not its version, and Kitty "
            "images need Unicode placeholders (kitty ≥ 0.28); --graphics kitty forces them"
        )
    return None


_Auto = tuple[GraphicsMode, str, tuple[str, ...], bool]  # mode, reason, hints, passthrough


def _halfcell(why: str, *hints: str) -> _Auto:
    return "halfcell", f"auto: {why} → half-cell blocks", hints, False


def _graphics(
    facts: TerminalFacts, replies: TerminalReplies | None, colors: ColorChoice
) -> _Auto:
    """(mode, reason, hints, passthrough) for ``--graphics auto``."""
    if not facts.tty_out:
        return _halfcell("output is not a terminal")
    if not facts.tty_in:
        return _halfcell("input is not a terminal, so it can't be asked")
    if facts.term in ("", "dumb"):
        return _halfcell(f"TERM is {facts.term or 'unset'}")
    where = "over SSH, " if facts.over_ssh else ""
    replies = replies or TerminalReplies()
    if facts.in_screen:
        return _halfcell("inside GNU screen")
    if facts.in_tmux:
        return _tmux_graphics(facts, replies, colors)
    if replies.tmux_version:  # tmux on the far side of ssh: it says so, though TMUX is unset
        return _halfcell(
            f"{where}inside tmux {replies.tmux_version} (the terminal says so)", PASSTHROUGH_HINT
        )
    kitty = KITTY_QUERY_ID in replies.kitty_ok
    if replies.sixel:
        # Terminals that answer both (WezTerm, Konsole) draw textual_image's Sixel correctly but
        # not its Kitty placeholders; textual_image prefers Sixel for the same reason.
        return "sixel", f"auto: {where}terminal reports Sixel support → Sixel", (), False
    if kitty:
        problem = _placeholder_problem(replies.outer_version)
        if problem:
            return _halfcell(f"{where}{problem}")
        if colors.no_color:
            return _halfcell("NO_COLOR is set, and Kitty placeholders carry the image in colour")
        return "kitty", f"auto: {where}terminal answered the Kitty graphics query → Kitty graphics", (), False
    if not replies.answered:
        return _halfcell(f"{where}no answer from the terminal")
    return _halfcell(f"{where}terminal has no Kitty graphics or Sixel")


def _tmux_graphics(
    facts: TerminalFacts,
    replies: TerminalReplies,
    colors: ColorChoice,
) -> _Auto:
    tmux = facts.tmux
    if replies.sixel:  # a tmux built with Sixel says so in its own DA1 answer
        return "sixel", "auto: tmux reports Sixel support → Sixel", (), False
    if tmux is None:
        return _halfcell("inside tmux (it couldn't be asked about passthrough)")
    if not tmux.allow_passthrough:
        return _halfcell("inside tmux with allow-passthrough off", PASSTHROUGH_HINT)
    if not facts.lib_passthrough:
        return _halfcell(
            "inside tmux: Kitty graphics through tmux need textual-image 0.13+, "
            "which needs Python ≥ 3.12"
        )
    if KITTY_TMUX_QUERY_ID not in replies.kitty_ok:
        return _halfcell("inside tmux; the terminal behind it has no Kitty graphics")
    problem = _placeholder_problem(replies.outer_version)
    if problem:
        return _halfcell(f"inside tmux; {problem}")
    if colors.depth != "truecolor" or colors.no_color:
        return _halfcell(
            "inside tmux without 24-bit colour to the terminal, which Kitty placeholders need"
        )
    return (
        "kitty",
        "auto: tmux passes Kitty graphics through (allow-passthrough on) → Kitty graphics",
        (),
        True,
    )


# --- colours ---------------------------------------------------------------------------------


def _term_depth(term: str) -> ColorDepth:
    return "256" if "256color" in term or term.endswith("-direct") else "16"


def decide_colors(
    facts: TerminalFacts, replies: TerminalReplies | None, requested: str = "auto"
) -> tuple[ColorChoice, tuple[str, ...]]:
    """The colour depth for the app and its half-cell images, with hints for tmux users."""
    if requested not in COLOR_DEPTHS:
        raise ValueError(f"colors must be one of {', '.join(COLOR_DEPTHS)}")
    no_color = facts.no_color
    if requested != "auto":
        return ColorChoice(requested, f"--colors {requested}", no_color), ()  # type: ignore[arg-type]
    replies = replies or TerminalReplies()
    tmux = facts.tmux if facts.in_tmux else None
    if tmux is not None:
        if tmux.client_rgb:
            return ColorChoice("truecolor", "tmux passes 24-bit colour to its terminal", no_color), ()
        name = tmux.client_termname or "your terminal"
        return (
            ColorChoice(
                "256", "tmux doesn't know its terminal shows 24-bit colour", no_color
            ),
            (
                f"if {name} shows 24-bit colour, tell tmux: "
                f"`tmux set -as terminal-features ',{tmux.client_termname or 'xterm*'}:RGB'` "
                "(in ~/.tmux.conf), then reattach",
            ),
        )
    if _known_truecolor(facts):
        return ColorChoice("truecolor", f"COLORTERM={facts.colorterm}", no_color), ()
    if replies.direct_colour:
        return ColorChoice("truecolor", "the terminal confirmed 24-bit colour", no_color), ()
    if replies.rgb_capability:
        return ColorChoice("truecolor", "the terminal reports RGB colour", no_color), ()
    if replies.tmux_version:
        # tmux keeps 24-bit colour and converts it for whichever terminal is attached.
        return (
            ColorChoice("truecolor", f"tmux {replies.tmux_version} converts it for its terminal", no_color),
            (),
        )
    depth = _term_depth(facts.term)
    if replies.palette_256:
        depth, why = "256", "the terminal maps 24-bit colour to its 256-colour palette"
    elif replies.direct_colour is False:
        why = f"the terminal maps 24-bit colour to its palette; TERM={facts.term}"
    elif facts.term:
        why = f"TERM={facts.term}, and the terminal didn't confirm 24-bit colour"
    else:
        why = "TERM is unset"
    return ColorChoice(depth, why, no_color), ()


def decide(
    facts: TerminalFacts,
    replies: TerminalReplies | None,
    *,
    graphics: str = "auto",
    colors: str = "auto",
) -> GraphicsChoice:
    """Everything about drawing on this terminal, from the facts and the answers."""
    if graphics not in GRAPHICS_MODES:
        raise ValueError(f"graphics must be one of {', '.join(GRAPHICS_MODES)}")
    color_choice, hints = decide_colors(facts, replies, colors)
    cell_size = facts.cell_size or (replies.cell_size if replies else None) or DEFAULT_CELL_SIZE
    if graphics != "auto":
        return GraphicsChoice(
            graphics,  # type: ignore[arg-type]
            f"--graphics {graphics}",
            cell_size,
            color_choice,
            hints,
            tmux_passthrough=graphics == "kitty" and facts.in_tmux and facts.lib_passthrough,
        )
    mode, reason, graphics_hints, passthrough = _graphics(facts, replies, color_choice)
    return GraphicsChoice(
        mode, reason, cell_size, color_choice, graphics_hints + hints, passthrough
    )
