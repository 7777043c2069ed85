"""The app's offline backend in a process of its own.

The app binds the listening socket itself — the URL is known at once and connections queue in
its backlog — and hands it to a child interpreter (``python -m tui.offline.embedded``). The
child sleeps, with no wakeups, until the first connection arrives, and only then loads aiohttp
and serves; the images it draws with Pillow are drawn there too. So the server's imports, its
memory and every render stay out of the app's process: they never compete with the screen for
the interpreter lock.

The child lives as long as the pipe on its stdin: :meth:`EmbeddedServer.stop` closes it, and so
does the app's death, however it dies (``kill -9`` included) — the child never outlives it. Its
output goes nowhere near the terminal the app draws on. Jobs in flight are journalled, as with
the in-process server (:class:`~tui.offline.server.OfflineServer`, which the headless commands
and the tests use).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import socket
import subprocess
import sys
from pathlib import Path

from .addresses import Addressed, Addresses

__all__ = ["EmbeddedServer", "main"]

_STOP_TIMEOUT = 5.0


class EmbeddedServer(Addressed):
    """The offline Model API on ``127.0.0.1``, served by a child process (see the module).

    POSIX only: the socket is handed over as a file descriptor."""

    def __init__(self, *, journal: Path | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.journal = journal
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._listener: socket.socket | None = None  # bound, not yet handed to a child

    def start(self, *, serving: bool = True) -> EmbeddedServer:
        """Bind and listen, and (``serving``) start the child; returns at once: ``base_url`` is
        known and connections queue in the backlog. Otherwise the child starts at
        :meth:`start_serving` (the app's, once its first frame is out: the child's own start
        then doesn't compete with the app's for the CPU); until then connections wait."""
        if self._process is not None or self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, 0))
            listener.listen(128)
        except BaseException:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self._listener = listener
        if serving:
            self.start_serving()
        return self

    def start_serving(self) -> None:
        """Start the child that serves the socket (idempotent)."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        try:
            fd = listener.fileno()
            command = [sys.executable, "-P", "-m", "tui.offline.embedded", "--fd", str(fd)]
            if self.journal is not None:
                command += ["--journal", str(self.journal)]
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(fd,),
                env=_child_env(),
            )
        finally:
            listener.close()  # the child holds it now (or, if it never started, nobody does)

    @property
    def addresses(self) -> Addresses:
        if not self.port:
            raise RuntimeError("the embedded server is not started")
        return Addresses(self.host, self.port)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        """End the child (idempotent): its stdin closes, it stops serving and exits."""
        listener, self._listener = self._listener, None
        if listener is not None:  # never served: nobody else holds the socket
            listener.close()
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _child_env() -> dict[str, str]:
    """The app's environment, with this copy of ``tui`` first on the child's path."""
    here = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": here + (os.pathsep + path if path else "")}


# --------------------------------------------------------------------------- the child


def _first_call(listener: socket.socket, parent: int) -> bool:
    """Sleep until a connection waits (True) or the parent is gone (False)."""
    while True:
        with contextlib.suppress(InterruptedError):
            readable, _, _ = select.select([listener.fileno(), parent], [], [])
            if parent in readable and not _drain(parent):
                return False
            if listener.fileno() in readable:
                return True


def _drain(parent: int) -> bool:
    """Read what the parent wrote; False once its end is closed."""
    try:
        return bool(os.read(parent, 4096))
    except OSError:
        return False


async def _serve(listener: socket.socket, journal: Path | None, parent: int) -> None:
    from .server import OfflineServer

    server = OfflineServer(journal=journal)
    server.adopt(listener)
    loop = asyncio.get_running_loop()
    gone = loop.create_future()

    def parent_spoke() -> None:
        if not _drain(parent) and not gone.done():
            gone.set_result(None)

    loop.add_reader(parent, parent_spoke)
    serving = asyncio.ensure_future(server.serve())
    try:
        await asyncio.wait({serving, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(parent)
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving


NICENESS = 10
"""How much lower the child's CPU priority is than the app's: drawing two dozen images for a
sweep must not make the keys typed meanwhile wait (on two cores, it did: up to 0.4 s)."""


def main(argv: list[str] | None = None) -> int:
    with contextlib.suppress(OSError):  # where priorities can't be lowered, serve as we are
        os.nice(NICENESS)
    parser = argparse.ArgumentParser(prog="python -m tui.offline.embedded")
    parser.add_argument("--fd", type=int, required=True, help="the listening socket")
    parser.add_argument("--journal", type=Path, default=None)
    args = parser.parse_args(argv)
    listener = socket.socket(fileno=args.fd)
    parent = sys.stdin.fileno()
    if not _first_call(listener, parent):
        listener.close()
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(listener, args.journal, parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
