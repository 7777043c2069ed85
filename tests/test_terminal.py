"""Terminal detection: recorded answers in, decisions out; the probe's I/O; late answers.

The byte strings below were recorded from real terminals with tui.ui.terminal.probe (Debian 12:
xterm 379 in VT340 mode, mlterm 3.9.0, kitty 0.26.5, tmux 3.3a inside xterm and kitty, via
term-shot). A few are edited from those recordings where no such terminal is installed here
(kitty ≥ 0.28); each says so.
"""

from __future__ import annotations

import dataclasses
import os
import pty
import subprocess
import threading
import time

import pytest

from tui.ui.terminal.choice import ColorChoice, GraphicsChoice
from tui.ui.terminal.decide import (
    PASSTHROUGH_HINT,
    QueryPlan,
    TerminalFacts,
    TmuxInfo,
    decide,
    facts_from_env,
    plan_queries,
)
from tui.ui.terminal.probe import build_query, probe_terminal, tmux_info
from tui.ui.terminal.replies import (
    KITTY_QUERY_ID,
    KITTY_TMUX_QUERY_ID,
    ReplyFilter,
    TerminalReplies,
    parse_replies,
)

XTERM_SIXEL = b"\x1bP>|XTerm(379)\x1b\\\x1bP1$r0;38:2::1:2:3m\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c"
XTERM = b"\x1bP>|XTerm(379)\x1b\\\x1bP1$r0;38:2::1:2:3m\x1b\\\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c"
MLTERM = b"\x1bP1$r0;38;5;16m\x1b\\\x1bP0+r\x1b\\\x1b[?63;1;2;3;4;6;7;15;18;22;29c"
KITTY_026 = (
    b"\x1b_Gi=31;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1bP1$r38:2:1:2:3m\x1b\\"
    b"\x1bP0+r524742\x1b\\\x1bP0+r5463\x1b\\\x1b[?62;c"
)
KITTY_035 = KITTY_026.replace(b"0.26.5", b"0.35.2")  # edited: no kitty >= 0.28 here
# tmux 3.3a (ssh from inside tmux: TMUX unset, TERM=xterm-256color): tmux answers for itself.
TMUX_HIDDEN = b"\x1bP>|tmux 3.3a\x1b\\\x1b[?1;2c"
# Inside tmux with allow-passthrough on, kitty 0.26.5 behind it answering through tmux.
TMUX_PASSTHROUGH_KITTY_026 = (
    b"\x1bP>|tmux 3.3a\x1b\\\x1b[?1;2c\x1b_Gi=32;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1b[?62;c"
)
TMUX_PASSTHROUGH_KITTY_035 = TMUX_PASSTHROUGH_KITTY_026.replace(b"0.26.5", b"0.35.2")  # edited
TMUX_KITTY_CLIENT = TmuxInfo(
    "3.3a", True, frozenset({"bpaste", "ccolour", "clipboard", "cstyle", "focus", "title"}),
    "xterm-kitty", "kitty(0.26.5)",
)
TMUX_XTERM_CLIENT = TmuxInfo(
    "3.3a", False, frozenset({"256", "RGB", "bpaste", "clipboard", "focus", "title"}),
    "xterm", "XTerm(379)",
)


def facts(**overrides: object) -> TerminalFacts:
    values: dict[str, object] = {"term": "xterm-256color"}
    values.update(overrides)
    return TerminalFacts(**values)  # type: ignore[arg-type]


def choose(answer: bytes | None, **fact_values: object) -> GraphicsChoice:
    return decide(facts(**fact_values), None if answer is None else parse_replies(answer))


# --- parsing ---------------------------------------------------------------------------------


def test_parse_recorded_answers():
    xterm = parse_replies(XTERM_SIXEL)
    assert xterm.sixel and xterm.direct_colour is True and xterm.versions == ("XTerm(379)",)
    assert xterm.rgb_capability is None and xterm.kitty_ok == frozenset()
    kitty = parse_replies(KITTY_026)
    assert kitty.kitty_ok == {KITTY_QUERY_ID} and not kitty.sixel
    assert kitty.direct_colour is True and kitty.rgb_capability is False
    mlterm = parse_replies(MLTERM)
    assert mlterm.sixel and mlterm.direct_colour is False and mlterm.palette_256
    through = parse_replies(TMUX_PASSTHROUGH_KITTY_026)
    assert through.tmux_version == "3.3a" and through.outer_version == "kitty(0.26.5)"
    assert through.kitty_ok == {KITTY_TMUX_QUERY_ID} and len(through.da1) == 2
    assert not parse_replies(b"").answered
    assert parse_replies(b"typed keys").answered is False


def test_hostile_version_text_is_sanitised():
    replies = parse_replies(b"\x1bP>|evil\x9b31m\xe2\x80\xaename\x1b\\\x1b[?1c")
    assert replies.versions and "\x9b" not in replies.versions[0]
    assert "\u202e" not in replies.versions[0]


# --- graphics decisions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, fact_values, mode, words",
    [
        (XTERM_SIXEL, {"term": "xterm"}, "sixel", "Sixel support"),
        (MLTERM, {"term": "mlterm"}, "sixel", "Sixel support"),
        (XTERM, {"term": "xterm"}, "halfcell", "no Kitty graphics or Sixel"),
        (KITTY_035, {"term": "xterm-kitty"}, "kitty", "Kitty graphics query"),
        (KITTY_026, {"term": "xterm-kitty"}, "halfcell", "kitty(0.26.5) has no Unicode placeholders"),
        (KITTY_026.replace(b"\x1bP>|kitty(0.26.5)\x1b\\", b""), {}, "halfcell", "not its version"),
        (TMUX_HIDDEN, {}, "halfcell", "inside tmux 3.3a (the terminal says so)"),
        (b"", {}, "halfcell", "no answer"),
        (None, {"tty_out": False}, "halfcell", "output is not a terminal"),
        (None, {"term": "dumb"}, "halfcell", "TERM is dumb"),
        (TMUX_HIDDEN, {"in_screen": True}, "halfcell", "GNU screen"),
    ],
)
def test_graphics_from_recorded_answers(answer, fact_values, mode, words):
    choice = choose(answer, **fact_values)
    assert choice.mode == mode
    assert words in choice.reason and choice.reason.startswith("auto: ")


def test_kitty_with_no_color_falls_back_to_halfcell():
    choice = choose(KITTY_035, term="xterm-kitty", no_color=True)
    assert choice.mode == "halfcell" and "NO_COLOR" in choice.reason
    assert choice.colors is not None and choice.colors.label == "colours: none (NO_COLOR is set)"


def test_tmux_passthrough_decisions():
    base = {"term": "tmux-256color", "in_tmux": True, "lib_passthrough": True}
    rgb_client = TmuxInfo("3.3a", True, frozenset({"RGB"}), "xterm-kitty", "kitty(0.35.2)")
    ok = choose(TMUX_PASSTHROUGH_KITTY_035, tmux=rgb_client, **base)
    assert ok.mode == "kitty" and ok.tmux_passthrough and "allow-passthrough on" in ok.reason
    old = choose(TMUX_PASSTHROUGH_KITTY_026, tmux=rgb_client, **base)
    assert old.mode == "halfcell" and "0.28" in old.reason
    off = choose(TMUX_HIDDEN, tmux=TMUX_XTERM_CLIENT, **base)
    assert off.mode == "halfcell" and "allow-passthrough off" in off.reason
    assert PASSTHROUGH_HINT in off.hints and "allow-passthrough on" in off.help_text
    no_rgb = choose(TMUX_PASSTHROUGH_KITTY_035, tmux=TMUX_KITTY_CLIENT, **base)
    assert no_rgb.mode == "halfcell" and "24-bit" in no_rgb.reason
    old_lib = choose(TMUX_PASSTHROUGH_KITTY_035, tmux=rgb_client, **{**base, "lib_passthrough": False})
    assert old_lib.mode == "halfcell" and "Python ≥ 3.12" in old_lib.reason
    no_kitty = choose(TMUX_HIDDEN + b"\x1b[?62;c", tmux=rgb_client, **base)
    assert no_kitty.mode == "halfcell" and "no Kitty graphics" in no_kitty.reason


# --- colour decisions ------------------------------------------------------------------------


def depth(answer: bytes | None, **fact_values: object) -> ColorChoice:
    colors = choose(answer, **fact_values).colors
    assert colors is not None
    return colors


def test_colours_from_recorded_answers():
    # SSH doesn't forward COLORTERM: xterm and kitty say themselves that they do 24-bit colour.
    assert depth(XTERM_SIXEL, term="xterm", over_ssh=True).depth == "truecolor"
    assert depth(KITTY_026, term="xterm-kitty").depth == "truecolor"
    # mlterm answers with a 256-colour index, so it has those 256 colours whatever TERM says
    mlterm = depth(MLTERM, term="mlterm")
    assert mlterm.depth == "256" and "256-colour palette" in mlterm.reason
    palette_16 = depth(b"\x1bP1$r0;30m\x1b\\\x1b[?1c", term="xterm")
    assert palette_16.depth == "16" and "maps 24-bit colour to its palette" in palette_16.reason
    hidden_tmux = depth(TMUX_HIDDEN, term="xterm-256color")
    assert hidden_tmux.depth == "truecolor" and "tmux 3.3a" in hidden_tmux.reason
    silent = depth(b"", term="xterm-256color")
    assert silent.depth == "256" and "didn't confirm" in silent.reason
    assert depth(b"", term="xterm").depth == "16"
    assert depth(None, colorterm="truecolor").depth == "truecolor"
    assert depth(b"\x1bP1+r524742\x1b\\\x1b[?1c", term="xterm").depth == "truecolor"


def test_colours_inside_tmux_follow_its_client():
    in_tmux = {"term": "tmux-256color", "in_tmux": True}
    assert depth(TMUX_HIDDEN, tmux=TMUX_XTERM_CLIENT, **in_tmux).depth == "truecolor"
    choice = choose(TMUX_HIDDEN, tmux=TMUX_KITTY_CLIENT, **in_tmux)
    assert choice.colors is not None and choice.colors.depth == "256"
    assert any("terminal-features ',xterm-kitty:RGB'" in hint for hint in choice.hints)


def test_colour_override_and_bad_values():
    choice = decide(facts(), parse_replies(XTERM_SIXEL), colors="16")
    assert choice.colors == ColorChoice("16", "--colors 16")
    assert choice.colors.color_system == "standard"
    with pytest.raises(ValueError):
        decide(facts(), None, colors="millions")


# --- what is asked ---------------------------------------------------------------------------


def test_plans():
    assert plan_queries(facts(tty_in=False)) is None
    assert plan_queries(facts(term="dumb")) is None
    assert plan_queries(facts(colorterm="truecolor"), "halfcell") is None
    assert plan_queries(facts(), "halfcell", "256") is None
    plain = plan_queries(facts())
    assert plain == QueryPlan(kitty=True, passthrough=False, cell_size=True, timeout=0.3)
    ssh = plan_queries(facts(over_ssh=True, cell_size=(8, 16)))
    assert ssh is not None and ssh.timeout == 1.0 and not ssh.cell_size
    tmux = facts(in_tmux=True, tmux=TMUX_KITTY_CLIENT, lib_passthrough=True)
    through = plan_queries(tmux)
    assert through is not None and through.passthrough and not through.kitty
    assert through.expected_da1 == 2
    assert plan_queries(facts(in_screen=True)) == QueryPlan(kitty=False)


def test_query_bytes():
    query = build_query(QueryPlan())
    # The Kitty query sits between a title push and pop (tmux would keep it as the pane title).
    push, pop = query.index(b"\x1b[22;0t"), query.index(b"\x1b[23;0t")
    assert push < query.index(b"\x1b_Gi=31,") < pop
    assert query.endswith(b"\x1b[c") and b"\x1b[38;2;1;2;3m\x1bP$qm\x1b\\\x1b[m" in query
    through = build_query(QueryPlan(kitty=False, passthrough=True, cell_size=False))
    assert b"\x1b_G" not in through.replace(b"\x1b\x1b_G", b"")  # only the wrapped one
    assert through.endswith(b"\x1b[c\x1bPtmux;\x1b\x1b[c\x1b\\")
    assert b"\x1b[16t" not in through


def test_facts_from_env():
    found = facts_from_env(
        {"TERM": "screen-256color", "TMUX": "/tmp/t,1,0", "SSH_TTY": "/dev/pts/1", "NO_COLOR": ""},
        tty_in=True,
        tty_out=True,
    )
    assert found.in_tmux and not found.in_screen and found.over_ssh and found.no_color
    assert facts_from_env({"STY": "1.pts"}, tty_in=True, tty_out=True).in_screen


# --- tmux ------------------------------------------------------------------------------------


def test_tmux_info_parses_display_message():
    calls: list[list[str]] = []

    def run(args, **kwargs):
        calls.append(args)
        out = "3.3a|1|256,RGB,title|xterm-kitty|kitty(0.26.5)\x1b]0;x\x07\n"
        return subprocess.CompletedProcess(args, 0, out, "")

    info = tmux_info({"TMUX": "/tmp/t,1,0"}, run=run)
    assert info == TmuxInfo("3.3a", True, frozenset({"256", "RGB", "title"}), "xterm-kitty",
                            "kitty(0.26.5)")
    assert calls and calls[0][:2] == ["tmux", "display-message"]
    assert tmux_info({}, run=run) is None


def test_tmux_info_failures_are_none():
    def failing(args, **kwargs):
        raise subprocess.TimeoutExpired(args, 1.0)

    assert tmux_info({"TMUX": "x"}, run=failing) is None

    def garbage(args, **kwargs):
        return subprocess.CompletedProcess(args, 1, "", "no server running")

    assert tmux_info({"TMUX": "x"}, run=garbage) is None


# --- the probe on a real pseudo-terminal -----------------------------------------------------


class FakeTerminal:
    """The far end of a pty: reads the app's questions, answers after ``delay`` (or never)."""

    def __init__(self, answer: bytes | None, delay: float = 0.0) -> None:
        self.master, self.slave = pty.openpty()
        self.answer, self.delay = answer, delay
        self.asked = b""
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.asked.endswith((b"\x1b[c", b"\x1b[c\x1b\\")):  # DA1 ends the questions
            try:
                self.asked += os.read(self.master, 4096)
            except OSError:
                return
        if self.answer is not None and not self._closing.wait(self.delay):
            os.write(self.master, self.answer)

    def close(self) -> None:
        self._closing.set()  # a late answer that is still waiting is never written
        self._thread.join(timeout=5)
        os.close(self.master)
        os.close(self.slave)


# The bounds below come from what a failure would look like, not from this machine's speed: a
# probe that ignored an answer would wait out its whole timeout (PATIENT, far longer than any
# scheduling delay); one that ignored its timeout would wait for the late answer (LATE), or for
# ever. So a loaded machine cannot fail these, and a broken probe cannot pass them.
PATIENT = 30.0
LATE = 60.0


@pytest.mark.parametrize(
    "answer, delay, timeout, expect_answer",
    [(XTERM_SIXEL, 0.0, PATIENT, True), (XTERM_SIXEL, LATE, 0.3, False), (None, 0.0, 0.3, False)],
    ids=["prompt", "late", "missing"],
)
def test_probe_waits_for_da1_and_never_longer_than_its_timeout(
    answer, delay, timeout, expect_answer
):
    terminal = FakeTerminal(answer, delay)
    try:
        started = time.monotonic()
        raw = probe_terminal(terminal.slave, terminal.slave, QueryPlan(timeout=timeout))
        elapsed = time.monotonic() - started
        assert (raw == XTERM_SIXEL) is expect_answer
        if expect_answer:
            assert elapsed < PATIENT / 2  # the DA1 answer ended the wait, not the timeout
        else:
            assert timeout <= elapsed < 10.0  # the timeout ended it, long before the answer
        assert terminal.asked.startswith(b"\x1b[22;0t\x1b_Gi=31,")
    finally:
        terminal.close()


def test_probe_through_tmux_waits_for_both_answers():
    terminal = FakeTerminal(TMUX_PASSTHROUGH_KITTY_026)
    try:
        plan = QueryPlan(kitty=False, passthrough=True, cell_size=False, timeout=PATIENT)
        started = time.monotonic()
        raw = probe_terminal(terminal.slave, terminal.slave, plan)
        assert parse_replies(raw).kitty_ok == {KITTY_TMUX_QUERY_ID}
        assert time.monotonic() - started < PATIENT / 2  # the second DA1 ended the wait
    finally:
        terminal.close()


# --- late answers never become keys ----------------------------------------------------------

LATE_DA1 = "\x1b[?63;1;2;4;6;9;15;16;22;28c"


@pytest.mark.parametrize(
    "chunks, keys",
    [
        ([LATE_DA1], ""),
        (["hi" + LATE_DA1 + "yo"], "hiyo"),
        (["\x1b[?63;1;2;4", ";6;9;15;16;22;28cok"], "ok"),  # cut between two reads
        (["\x1bP>|XTerm(379)\x1b", "\\x"], "x"),  # cut inside the string terminator
        (["\x1b_Gi=31;OK\x1b\\\x1b[6;19;8t\x1bP1$r0;38:2::1:2:3m\x1b\\"], ""),
        (["\x1bP0+r524742\x1b\\\x1bP>|tmux 3.3a\x1b\\a"], "a"),
        (["\x1b[A\x1b", "[6;5~"], "\x1b[A\x1b[6;5~"),  # keys (up, ctrl+page-down) pass
        (["\x1b"], "\x1b"),  # a lone Escape key is never held back
    ],
)
def test_reply_filter(chunks, keys):
    answers = ReplyFilter()
    typed = "".join(answers.feed(chunk, now=0.0) for chunk in chunks)
    assert typed + answers.flush(now=10.0) == keys


def test_reply_filter_releases_what_was_typed_after_a_while():
    answers = ReplyFilter(hold_seconds=0.3)
    assert answers.feed("\x1bP1$", now=0.0) == ""  # could be the start of a DECRQSS answer
    assert answers.holding and answers.flush(now=0.1) == ""
    assert answers.flush(now=0.4) == "\x1bP1$" and not answers.holding


def test_parser_swallows_late_answers_and_keeps_keys():
    from textual import events

    from tui.ui.terminal.driver import answer_filtering_parser

    parser = answer_filtering_parser()()
    produced = [*parser.feed("a" + LATE_DA1), *parser.feed("\x1b_Gi=31;OK\x1b\\b")]
    produced += [*parser.feed("\x1bP>|XTerm(379)\x1b\\c")]
    time.sleep(0.15)
    produced += list(parser.tick())
    keys = [event.key for event in produced if isinstance(event, events.Key)]
    assert keys == ["a", "b", "c"]
    assert parser.answers.swallowed[0] == LATE_DA1


def test_driver_reads_keys_through_the_filtering_parser():
    from tui.ui.terminal.driver import answer_filtering_driver, answer_filtering_parser

    driver = answer_filtering_driver()
    assert driver is not None
    assert driver.run_input_thread.__globals__["XTermParser"] is answer_filtering_parser()


def test_replies_default_is_silence():
    assert TerminalReplies() == parse_replies(b"")


# --- the choices reach the user and Textual -------------------------------------------------


def test_help_shows_mode_colours_and_tips():
    from tui.ui.screens.help import help_content

    client = dataclasses.replace(TMUX_KITTY_CLIENT, allow_passthrough=False)
    choice = choose(TMUX_HIDDEN, term="tmux-256color", in_tmux=True, tmux=client)
    text = help_content([("f1", "help")], backend="b", graphics=choice.help_text, signin=None).plain
    images = text[text.index("Images") :]
    assert "  graphics: auto: inside tmux with allow-passthrough off → half-cell blocks" in images
    assert "  colours: 256 colours (tmux doesn't know its terminal shows 24-bit colour)" in images
    assert "  tip: tmux can pass Kitty graphics through" in images
    assert "  tip: if xterm-kitty shows 24-bit colour" in images


def test_chosen_depth_is_what_textual_draws_with(monkeypatch):
    from textual import constants
    from textual.app import App

    from tui.ui.terminal.driver import use_color_system

    monkeypatch.setattr(constants, "COLOR_SYSTEM", constants.COLOR_SYSTEM)  # restored after
    for depth, system in (("truecolor", "truecolor"), ("256", "256"), ("16", "standard")):
        use_color_system(ColorChoice(depth, "test"))  # type: ignore[arg-type]
        assert App().console.color_system == system


def test_colours_flag_and_setting(tmp_path):
    from tui.__main__ import build_parser
    from tui.config import ConfigError, load_settings
    from tui.locations import Locations

    assert build_parser().parse_args(["--colors", "16"]).colors == "16"
    assert build_parser().parse_args([]).colors is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--colors", "millions"])
    where = Locations.under(tmp_path)
    assert load_settings(env={}, offline=True, locations=where).colors == "auto"
    from_env = load_settings(env={"GPT_IMAGE_TUI_COLORS": "256"}, offline=True, locations=where)
    assert from_env.colors == "256"
    flag_wins = load_settings(env={"GPT_IMAGE_TUI_COLORS": "256"}, offline=True, locations=where,
                              colors="truecolor")
    assert flag_wins.colors == "truecolor"
    with pytest.raises(ConfigError, match="GPT_IMAGE_TUI_COLORS must be one of"):
        load_settings(env={"GPT_IMAGE_TUI_COLORS": "lots"}, offline=True, locations=where)


def test_keys_typed_among_the_answers_are_kept_as_typed() -> None:
    kitty = b"\x1b_Gi=31;OK\x1b\\"
    data = b"a re" + b"\x1bP>|XTerm(379)\x1b\\" + b"d f" + kitty + b"\x1b[?63;4c" + b"ox\x1b[A"
    replies = parse_replies(data)
    assert replies.typed == "a red fox\x1b[A"  # an arrow key typed stays a key
    assert replies.versions == ("XTerm(379)",) and replies.sixel
    assert parse_replies(b"\x1b[?62;4c").typed == ""
