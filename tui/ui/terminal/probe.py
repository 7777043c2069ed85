"""The thin I/O around the decisions: ask tmux, ask the terminal (one round trip), decide.

Everything here either talks to a file descriptor or a subprocess; the choices themselves are
made by :mod:`tui.ui.terminal.decide` from what these functions return.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TextIO

from ...trust.sanitize import clean_text
from .choice import GraphicsChoice
from .decide import QueryPlan, TerminalFacts, TmuxInfo, decide, facts_from_env, plan_queries
from .replies import (
    KITTY_QUERY_ID,
    KITTY_TMUX_QUERY_ID,
    TerminalReplies,
    count_da1,
    parse_replies,
)

__all__ = [
    "build_query",
    "detect_terminal",
    "ioctl_cell_size",
    "isatty",
    "probe_terminal",
    "tmux_info",
]

_MAX_ANSWER_BYTES = 8192
_TMUX_FORMAT = (
    "#{version}|#{allow-passthrough}|#{client_termfeatures}|#{client_termname}|#{client_termtype}"
)


def _kitty_query(ident: int) -> bytes:
    """Kitty graphics query: a 1×1 RGB image, action "query" (nothing is stored or drawn)."""
    return b"\x1b_Gi=%d,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\" % ident


def _through_tmux(sequence: bytes) -> bytes:
    """Wrap ``sequence`` in tmux's passthrough envelope (ESCs doubled)."""
    return b"\x1bPtmux;" + sequence.replace(b"\x1b", b"\x1b\x1b") + b"\x1b\\"


def build_query(plan: QueryPlan) -> bytes:
    """Every question in one write, so the terminal answers in one round trip.

    The Kitty query is an APC string, which tmux (and screen) take as a pane title; saving and
    restoring the title around it (XTWINOPS 22/23) keeps the title when tmux is out of sight
    (ssh from inside tmux). Direct colour is asked by setting an RGB foreground and reading it
    back (DECRQSS), then resetting it. DA1 comes last: every terminal answers it, in order.
    """
    parts = []
    if plan.kitty:
        parts += [b"\x1b[22;0t", _kitty_query(KITTY_QUERY_ID), b"\x1b[23;0t"]
    if plan.cell_size:
        parts.append(b"\x1b[16t")
    parts += [
        b"\x1b[>0q",  # XTVERSION
        b"\x1b[38;2;1;2;3m\x1bP$qm\x1b\\\x1b[m",  # DECRQSS of an RGB foreground, then reset
        b"\x1bP+q524742;5463\x1b\\",  # XTGETTCAP RGB, Tc
    ]
    if plan.passthrough:
        parts += [
            _through_tmux(_kitty_query(KITTY_TMUX_QUERY_ID)),
            _through_tmux(b"\x1b[>0q"),
        ]
    parts.append(b"\x1b[c")
    if plan.passthrough:
        parts.append(_through_tmux(b"\x1b[c"))
    return b"".join(parts)


def probe_terminal(stdin_fd: int, stdout_fd: int, plan: QueryPlan) -> bytes:
    """Ask, and read answers until every DA1 came back or ``plan.timeout`` passed.

    Puts stdin in cbreak mode (no echo) for at most the timeout and always restores it. Returns
    the raw bytes read (keys typed in that instant are among them: see ``TerminalReplies.typed``).
    """
    import termios
    import tty

    try:
        saved = termios.tcgetattr(stdin_fd)
    except termios.error:
        return b""
    buffer = b""
    try:
        tty.setcbreak(stdin_fd, termios.TCSANOW)
        os.write(stdout_fd, build_query(plan))
        deadline = time.monotonic() + plan.timeout
        while count_da1(buffer) < plan.expected_da1 and len(buffer) < _MAX_ANSWER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            readable, _, _ = select.select([stdin_fd], [], [], remaining)
            if not readable:
                break
            chunk = os.read(stdin_fd, 1024)
            if not chunk:
                break
            buffer += chunk
    except OSError:
        pass
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(stdin_fd, termios.TCSANOW, saved)
    return buffer


def tmux_info(
    env: Mapping[str, str], run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
) -> TmuxInfo | None:
    """Ask the local tmux server about passthrough and its client, or None when it can't say."""
    if not env.get("TMUX") or shutil.which("tmux") is None:
        return None
    try:
        result = run(
            ["tmux", "display-message", "-p", _TMUX_FORMAT],
            capture_output=True,
            text=True,
            timeout=1.0,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    fields = result.stdout.strip().split("|")
    if result.returncode != 0 or len(fields) != 5:
        return None
    version, passthrough, features, termname, termtype = fields
    return TmuxInfo(
        version=version,
        allow_passthrough=passthrough in ("1", "on", "all"),
        client_features=frozenset(f for f in features.split(",") if f),
        client_termname=clean_text(termname, limit=60),
        client_termtype=clean_text(termtype, limit=60),
    )


def isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def ioctl_cell_size(stream: TextIO | None) -> tuple[int, int] | None:
    """Pixels per cell from TIOCGWINSZ, when the terminal fills in the pixel fields."""
    try:
        import fcntl
        import struct
        import termios

        packed = fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8)  # type: ignore[union-attr]
        rows, columns, width, height = struct.unpack("HHHH", packed)
    except (ImportError, AttributeError, OSError, ValueError):
        return None
    if rows and columns and width and height:
        return max(1, width // columns), max(1, height // rows)
    return None


def detect_terminal(
    graphics: str = "auto",
    colors: str = "auto",
    env: Mapping[str, str] = os.environ,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    probe: Callable[[int, int, QueryPlan], bytes] = probe_terminal,
    ask_tmux: Callable[[Mapping[str, str]], TmuxInfo | None] = tmux_info,
    lib_passthrough: bool = False,
) -> tuple[GraphicsChoice, TerminalReplies | None]:
    """Find out what this terminal can show — call before ``App.run()``, which takes stdin.

    At most one round trip to the terminal (none when flags decide everything), plus one quick
    ``tmux display-message`` inside a local tmux. Returns the choice and the parsed answers.
    """
    stdin = sys.__stdin__ if stdin is None else stdin
    stdout = sys.__stdout__ if stdout is None else stdout
    tty_in, tty_out = isatty(stdin), isatty(stdout)
    facts: TerminalFacts = facts_from_env(
        env,
        tty_in=tty_in,
        tty_out=tty_out,
        cell_size=ioctl_cell_size(stdout) if tty_out else None,
        lib_passthrough=lib_passthrough,
    )
    if facts.in_tmux and tty_out:
        facts = replace(facts, tmux=ask_tmux(env))
    plan = plan_queries(facts, graphics, colors)
    replies = None
    if plan is not None:
        raw = probe(stdin.fileno(), stdout.fileno(), plan)  # type: ignore[union-attr]
        replies = parse_replies(raw)
    choice = decide(facts, replies, graphics=graphics, colors=colors)
    if replies is not None and replies.typed:
        choice = replace(choice, typed=replies.typed)  # typed during the probe: still the user's
    return choice, replies
