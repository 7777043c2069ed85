"""The app in real processes: refused without a terminal; in a pseudo-terminal that answers the
probe late, the answer never reaches the prompt; the Kitty query never renames a tmux pane.

The test plays the terminal on the master side of a pty: it reads what the app writes, answers
the probe with bytes recorded from xterm (after a delay, like a slow SSH link), types keys.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.iterate.draft import ComposerDraft
from tui.storage.history import History
from tui.ui.screens.main import DRAFT_KEY

XTERM_ANSWER = b"\x1bP>|XTerm(379)\x1b\\\x1bP1$r0;38:2::1:2:3m\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c"
APP = [sys.executable, "-m", "tui"]


def app_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "COLORTERM", "NO_COLOR"))}
    env.update(GPT_IMAGE_TUI_HOME=str(home), TERM="xterm-256color", PYTHONUNBUFFERED="1")
    env.pop("RUNCOMFY_TOKEN", None)
    env.update(extra)
    return env


# --- no terminal: refuse clearly -------------------------------------------------------------


def refuse(home: Path, *, stdin: int | None, stdout: int | None, stderr: int | None,
           **extra: str) -> tuple[int, str, str]:
    process = subprocess.run(
        [*APP, "--offline"], env=app_env(home, **extra), stdin=stdin,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=stderr if stderr is not None else subprocess.PIPE, timeout=60,
    )
    out = process.stdout.decode() if isinstance(process.stdout, bytes) else ""
    err = process.stderr.decode() if isinstance(process.stderr, bytes) else ""
    return process.returncode, out, err


def test_stdin_from_dev_null_and_output_redirected_is_refused(tmp_path: Path) -> None:
    code, out, err = refuse(tmp_path, stdin=subprocess.DEVNULL, stdout=None, stderr=None)
    assert code == 64
    assert out == ""
    assert err.count("\n") == 1 and "needs an interactive terminal" in err
    assert "headless commands" in err and "gpt-image-tui run" in err
    assert "\x1b" not in err  # no UI drawn anywhere
    assert not (tmp_path / "data").exists()  # nothing started


def test_output_into_a_pipe_is_refused_even_from_a_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:  # stdin and stderr a terminal, stdout `| cat`
        code, out, _ = refuse(tmp_path, stdin=slave, stdout=None, stderr=slave)
    finally:
        os.close(slave)
    assert code == 64 and out == ""
    screen = read_available(master, 1.0).decode()
    os.close(master)
    assert "its output is not a terminal" in screen and "\x1b[" not in screen


def test_dumb_terminal_is_refused(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:
        code, _, _ = refuse(tmp_path, stdin=slave, stdout=slave, stderr=slave, TERM="dumb")
    finally:
        os.close(slave)
    screen = read_available(master, 1.0).decode()
    os.close(master)
    assert code == 64 and "TERM is dumb" in screen and "\x1b[" not in screen


def test_headless_commands_keep_working_in_pipes(tmp_path: Path) -> None:
    env = app_env(tmp_path, TERM="dumb")
    run = subprocess.run(
        [*APP, "run", "a cube", "--offline", "--json"], env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert '"status":"completed"' in run.stdout.replace(" ", "")
    history = subprocess.run(
        f"{sys.executable} -m tui history --offline --json < /dev/null | cat", shell=True,
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert history.returncode == 0 and '"a cube"' in history.stdout


# --- a real pseudo-terminal that answers late ------------------------------------------------


def read_available(fd: int, seconds: float) -> bytes:
    data = b""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_until(fd: int, needle: bytes, seconds: float, seen: bytes = b"") -> bytes:
    deadline = time.monotonic() + seconds
    while needle not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; last output: {seen[-400:]!r}")
        seen += read_available(fd, 0.1)
    return seen


@contextlib.contextmanager
def app_in_pty(home: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The app in a 100x30 pseudo-terminal over "SSH"; the test plays the terminal on ``master``.
    Whatever happens, the app is killed and the terminal closed at the end."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    os.set_blocking(master, True)
    env = app_env(home, SSH_CONNECTION="10.0.0.2 5000 10.0.0.1 22", COLUMNS="100", LINES="30")
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        [*APP, "--offline"], env=env, stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    try:
        yield master, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)


def quit_in_pty(master: int, process: subprocess.Popen[bytes]) -> None:
    """ctrl+q, then read the app's output until it has ended (cleanly)."""
    os.write(master, b"\x11")
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        read_available(master, 0.2)
    assert process.returncode == 0


def saved_draft(home: Path) -> str | None:
    with History(home / "data" / "history.sqlite3") as history:
        return history.load_draft(DRAFT_KEY)


@pytest.mark.slow
def test_late_probe_answer_is_never_typed_into_the_prompt(tmp_path: Path) -> None:
    with app_in_pty(tmp_path) as (master, process):
        seen = read_until(master, b"\x1b[c", 60)  # the probe's last question
        asked = time.monotonic()
        seen = read_until(master, b"Prompt", 60, seen)  # the probe gave up; the app is up
        time.sleep(max(0.0, 1.5 - (time.monotonic() - asked)) + 0.5)
        os.write(master, XTERM_ANSWER)  # a slow SSH link: the answer arrives now
        time.sleep(0.3)  # the keys come in a later read (in the same one they'd pass too)
        os.write(master, b"hi zebra")
        # Drawn in the prompt (after the answer, read first): only then quit, however long the
        # app took over the keys.
        read_until(master, b"hi zebra", 60)
        quit_in_pty(master, process)
    draft = saved_draft(tmp_path)
    # not "[?63;1;2;4;6;9;15;16;22;28chi zebra"
    assert ComposerDraft.from_text(draft).prompt == "hi zebra"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_kitty_query_keeps_the_tmux_pane_title_when_tmux_is_out_of_sight(tmp_path: Path) -> None:
    """ssh from inside tmux looks like this: TMUX unset, TERM=xterm-256color, tmux answering."""
    socket = str(tmp_path / "tmux.sock")
    out = tmp_path / "out.txt"
    probe = (  # stdout stays the pane's terminal; the decision goes to a file
        "from tui.ui.imaging import detect_graphics; import pathlib; choice = detect_graphics(); "
        f"pathlib.Path({str(out)!r}).write_text(choice.reason)"
    )
    command = f"env -u TMUX TERM=xterm-256color {sys.executable} -c \"{probe}\"; sleep 120"
    tmux = ["tmux", "-S", socket, "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "80", "-y", "10", command],
                   check=True, env={**app_env(tmp_path), "PYTHONPATH": os.getcwd()}, timeout=30)
    try:
        deadline = time.monotonic() + 90
        while not out.exists() or not out.read_text():
            assert time.monotonic() < deadline, "the probe never finished"
            time.sleep(0.1)
        title = subprocess.run([*tmux, "display", "-p", "-t", "t", "#{pane_title}"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        host = subprocess.run([*tmux, "display", "-p", "-t", "t", "#{host}"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        assert "Gi=" not in title and title == host
        # the terminal was asked (tmux answered who it is), and the title is still the host name
        assert "inside tmux 3." in out.read_text() and "(the terminal says so)" in out.read_text()
    finally:
        subprocess.run([*tmux, "kill-server"], timeout=10, check=False)


@pytest.mark.slow
def test_keys_typed_while_the_app_starts_reach_the_prompt(tmp_path: Path) -> None:
    """Typed during the probe (read with its answers), then before the first screen is up:
    every key lands in the prompt, in order."""
    with app_in_pty(tmp_path) as (master, process):
        seen = read_until(master, b"\x1b[c", 60)  # the probe asked: keys typed now are read by it
        os.write(master, b"a red ")
        os.write(master, XTERM_ANSWER)  # the terminal answers after the keys
        os.write(master, b"fox")  # typed before the first screen is drawn
        seen = read_until(master, b"Prompt", 60, seen)
        drawn = seen[seen.index(b"Prompt"):]  # not the terminal's echo before the app took over
        read_until(master, b"a red fox", 30, drawn)  # the prompt shows every key, in order
        quit_in_pty(master, process)
    draft = saved_draft(tmp_path)
    assert ComposerDraft.from_text(draft).prompt == "a red fox"
