"""The command line reads the same whichever parser reads it: a line naming no command opens
the app and is read by the app's flags alone (faster to build), anything else by the whole
parser, which also says what is wrong with a line the app's parser can't read."""

from __future__ import annotations

import pytest

from tui.__main__ import COMMANDS, EXIT_USAGE, build_parser, parse_args


def test_the_commands_are_the_parsers_commands() -> None:
    subparsers = build_parser()._subparsers
    assert subparsers is not None
    assert set(subparsers._group_actions[0].choices) == COMMANDS  # type: ignore[attr-defined]


@pytest.mark.parametrize("argv", [
    [],
    ["--offline"],
    ["--prompt", "a fox at dawn", "--size", "1024_1536", "--graphics", "halfcell"],
    ["--image", "https://example.com/a.png", "--image", "https://example.com/b.png"],
    ["--colors", "16", "--poll-interval", "0.5", "--output", "json"],
    ["--prompt", "history"],  # a command's name as a flag's value
    ["--prompt=run", "--api-base", "http://127.0.0.1:9/v1"],
    ["history", "--limit", "1"],
    ["run", "a fox", "--json"],
])
def test_a_line_is_read_as_the_whole_parser_reads_it(argv: list[str]) -> None:
    assert parse_args(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize("argv", [["histroy"], ["--offline", "--size"], ["--colors", "millions"]])
def test_a_line_the_app_cannot_read_gets_the_whole_parsers_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as whole:
        build_parser().parse_args(argv)
    expected = capsys.readouterr().err
    with pytest.raises(SystemExit) as read:
        parse_args(argv)
    assert read.value.code == whole.value.code == EXIT_USAGE
    assert capsys.readouterr().err == expected
    assert "error:" in expected


def test_the_collector_is_on_again_whichever_way_the_command_line_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The entry point turns garbage collection off for the app's start; a line that opens
    no app (here: no terminal to open it in), a usage error or --help leave it on again."""
    import gc

    from tui.__main__ import main
    from tui.ui.launch import EXIT_NO_TERMINAL

    monkeypatch.setenv("TERM", "dumb")  # the full-screen app can't run here
    assert main([]) == EXIT_NO_TERMINAL
    assert gc.isenabled()
    for argv in (["--colors", "millions"], ["--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert gc.isenabled()
    assert "interactive terminal" in capsys.readouterr().err
