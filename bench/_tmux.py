"""A private tmux server watched through one control-mode client: panes of fixed size, their
screens read without forking a process per look, and every burst of output time-stamped.

Why control mode (``tmux -C``): polling ``tmux capture-pane`` spawns a client per look (a few ms
of CPU each, on a 2-core machine that is CPU taken from the app being measured), and says
nothing about *when* the screen changed. One control client attached to the measured session
gets a ``%output`` line the moment tmux reads the app's output from its terminal; the screen is
then captured through the same connection (a round trip on a socket), and a change is dated by
the output that brought it. Commands and keys go through the same connection too.

Each benchmark run has its own tmux server (``tmux -L i9-…``): nothing is shared with anybody
else's sessions, and closing it kills only what it started.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Output", "Pane", "Tmux", "require_tmux"]

_BARE = re.compile(r"[A-Za-z0-9_.,:/=+@%^-]+")
_OCTAL = re.compile(rb"\\([0-7]{3})")
_counter = itertools.count()


def require_tmux() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is required for this benchmark (apt-get install tmux)")


def quote(word: str) -> str:
    """One argument in tmux's command language."""
    if _BARE.fullmatch(word):
        return word
    if "'" in word or "\n" in word:
        raise ValueError(f"can't send {word!r} through the control connection")
    return f"'{word}'"


@dataclass(frozen=True, slots=True)
class Output:
    """One burst of pane output as tmux read it from the app's terminal."""

    at: float  # time.monotonic() when the control client received it
    data: bytes


class _Reply:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.lines: list[bytes] = []
        self.error = False


class Tmux:
    """A private tmux server with one control-mode client; use as a context manager."""

    def __init__(self, tag: str = "bench") -> None:
        require_tmux()
        self.socket = f"i9-{tag}-{os.getpid()}-{next(_counter)}"
        self._keeper = f"i9-keep-{os.getpid()}"
        self._client: subprocess.Popen[bytes] | None = None
        self._replies: list[_Reply] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._outputs: list[Output] = []
        self._reader: threading.Thread | None = None
        self._attached: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Tmux:
        # A session that lives as long as the server, so it never exits between two runs.
        self.tmux("new-session", "-d", "-s", self._keeper, "-x", "80", "-y", "24", "sleep 1000000")
        # When a measured session ends, the control client moves to the keeper, not away.
        self.tmux("set-option", "-g", "detach-on-destroy", "off")
        self._client = subprocess.Popen(
            ["tmux", "-L", self.socket, "-C", "attach-session", "-t", self._keeper],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._reader = threading.Thread(target=self._read, name="tmux-control", daemon=True)
        self._reader.start()
        self.command("display-message", "-p", "ready")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            if self._client.stdin:
                try:
                    self._client.stdin.close()
                except OSError:
                    pass
            try:
                self._client.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._client.kill()
            self._client = None
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False
        )

    def tmux(self, *args: str) -> str:
        """Run one tmux command as its own client process (only for starting sessions)."""
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    # ------------------------------------------------------------------ the control connection

    def _read(self) -> None:
        assert self._client is not None and self._client.stdout is not None
        current: _Reply | None = None
        for raw in self._client.stdout:
            now = time.monotonic()
            line = raw.rstrip(b"\n")
            if current is not None:
                if line.startswith((b"%end ", b"%error ")):
                    current.error = line.startswith(b"%error")
                    current.done.set()
                    current = None
                else:
                    current.lines.append(line)
                continue
            if line.startswith(b"%begin "):
                flags = line.split(b" ")[-1]
                if flags == b"1":  # a reply to a command of ours; others are unsolicited
                    with self._lock:
                        current = self._replies.pop(0)
                else:
                    current = _Reply()
                continue
            if line.startswith(b"%output "):
                _, _, rest = line.partition(b" ")
                _, _, data = rest.partition(b" ")
                decoded = _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), data)
                with self._changed:
                    self._outputs.append(Output(now, decoded))
                    self._changed.notify_all()
        with self._changed:
            for reply in self._replies:
                reply.error = True
                reply.done.set()
            self._changed.notify_all()

    def send_command(self, *words: str) -> tuple[float, _Reply]:
        """Write one command; return the time just before it went out and its reply handle."""
        assert self._client is not None and self._client.stdin is not None
        reply = _Reply()
        line = (" ".join(quote(word) for word in words) + "\n").encode()
        with self._lock:
            self._replies.append(reply)
            sent = time.monotonic()
            self._client.stdin.write(line)
            self._client.stdin.flush()
        return sent, reply

    def command(self, *words: str, timeout: float = 10.0) -> list[str]:
        """Run one command through the control connection; its output lines."""
        _, reply = self.send_command(*words)
        if not reply.done.wait(timeout):
            raise TimeoutError(f"tmux did not answer {' '.join(words)}")
        if reply.error:
            raise RuntimeError(f"tmux {' '.join(words)}: {b' '.join(reply.lines).decode()}")
        return [line.decode("utf-8", "replace") for line in reply.lines]

    # ------------------------------------------------------------------ output

    def output_count(self) -> int:
        with self._lock:
            return len(self._outputs)

    def outputs(self, start: int = 0) -> list[Output]:
        with self._lock:
            return self._outputs[start:]

    def wait_output(self, count: int, timeout: float) -> int:
        """Block until there are more than ``count`` outputs (or ``timeout``); the new count."""
        with self._changed:
            if len(self._outputs) <= count:
                self._changed.wait(timeout)
            return len(self._outputs)

    # ------------------------------------------------------------------ panes

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        width: int = 100,
        height: int = 30,
    ) -> Pane:
        """Start ``command`` in a new detached ``width``×``height`` session named ``name``.

        The command is exec'd (by a tiny ``sh`` gate), so the pane's process is the app's.
        ``Pane.started`` is the time just before the gate was opened.
        """
        name = re.sub(r"[^A-Za-z0-9_-]", "_", name)  # tmux reads "." and ":" as targets
        # Python as users run it: byte-code cached (a developer's shell may have turned it off).
        argv = ["env", "-u", "PYTHONDONTWRITEBYTECODE",
                *(f"{key}={value}" for key, value in (env or {}).items()), *command]
        # The pane waits for a line before it execs the command, so that the control client is
        # attached (and sees every byte) before the command starts.
        gate = ["sh", "-c", 'read -r _ && exec "$@"', "sh"]
        self.tmux(
            "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), "--",
            *gate, *argv,
        )
        self.attach(name)
        started, reply = self.send_command("send-keys", "-t", name, "Enter")
        if not reply.done.wait(10):
            raise TimeoutError("tmux did not start the pane")
        return Pane(self, name, started)

    def attach(self, name: str) -> None:
        """Watch ``name``'s output (one session's at a time)."""
        if self._attached != name:
            self.command("switch-client", "-t", name)
            self._attached = name


class Pane:
    """One app in one tmux session of the private server."""

    def __init__(self, tmux: Tmux, name: str, started: float) -> None:
        self.tmux = tmux
        self.name = name
        self.started = started
        self._pid: int | None = None

    @property
    def pid(self) -> int:
        """The app's process id (the pane runs it directly)."""
        if self._pid is None:
            self._pid = int(self.tmux.command("display-message", "-p", "-t", self.name,
                                              "#{pane_pid}")[0])
        return self._pid

    def alive(self) -> bool:
        """True while the session (and so the app in it) exists."""
        return self.name in self.tmux.command("list-sessions", "-F", "#{session_name}")

    def capture(self, *, escapes: bool = False) -> str:
        """The screen as text (``escapes``: with its colours as SGR sequences)."""
        words = ["capture-pane", "-p", "-t", self.name]
        if escapes:
            words.insert(2, "-e")
        return "\n".join(self.tmux.command(*words))

    def send(self, *keys: str, literal: bool = False) -> float:
        """Send keys (tmux key names, or ``literal`` text); the time just before they went."""
        words = ["send-keys", "-t", self.name, *(["-l"] if literal else []), *keys]
        sent, reply = self.tmux.send_command(*words)
        if not reply.done.wait(10):
            raise TimeoutError("tmux did not take the keys")
        return sent

    def wait_for(
        self,
        predicate: Callable[[str], bool],
        *,
        since: float | None = None,
        timeout: float = 30.0,
        escapes: bool = False,
    ) -> float:
        """Wait until the screen satisfies ``predicate``; return when it first could have.

        The screen is looked at after every burst of output. The time returned is that of the
        first output after the last look that did not satisfy ``predicate`` (and after
        ``since``): the moment tmux received what changed the screen. If the screen already
        satisfies it, the time of the first output after ``since`` (or ``since``) is returned.
        """
        since = self.started if since is None else since
        outputs = self.tmux.outputs()
        first_new = next((i for i, out in enumerate(outputs) if out.at >= since), len(outputs))
        deadline = time.monotonic() + timeout
        seen = first_new
        while True:
            count = self.tmux.output_count()
            if predicate(self.capture(escapes=escapes)):
                news = self.tmux.outputs(seen)
                if news:
                    return news[0].at
                return since if seen == first_new else time.monotonic()
            seen = count
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"pane {self.name} never showed what was expected; it shows:\n"
                    + self.capture()
                )
            self.tmux.wait_output(count, min(0.05, remaining))

    def quiet(self, seconds: float, *, timeout: float = 30.0) -> None:
        """Wait until the pane has written nothing for ``seconds`` (not for a busy app)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outputs = self.tmux.outputs()
            last = outputs[-1].at if outputs else 0.0
            idle = time.monotonic() - last
            if idle >= seconds:
                return
            time.sleep(seconds - idle)

    def kill(self) -> None:
        try:
            self.tmux.command("kill-session", "-t", self.name)
        except (RuntimeError, TimeoutError):
            pass
        if self.tmux._attached == self.name:
            self.tmux._attached = None
