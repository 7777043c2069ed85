"""Which process follows a job: an owner string that survives pid reuse, and whether it lives.

An owner is ``"<pid>:<start>"`` where ``start`` is the process's start time in clock ticks since
boot (Linux ``/proc/<pid>/stat``), so a pid recycled by an unrelated process after the owner died
does not count as the owner. Where the start time can't be read the owner is ``"<pid>"`` and only
the pid is checked.
"""

from __future__ import annotations

import os

from .files import pid_alive

__all__ = ["owner_alive", "owner_for", "owner_pid"]


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    _, _, rest = text.rpartition(")")
    fields = rest.split()
    # rest starts at field 3 (state); starttime is field 22.
    return fields[19] if len(fields) > 19 else None


def owner_for(pid: int | None = None) -> str:
    """The owner string of process ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    start = _start_ticks(pid)
    return f"{pid}:{start}" if start else str(pid)


def owner_pid(owner: str | None) -> int | None:
    """The pid inside an owner string, or None when it is not one."""
    if not owner:
        return None
    head = owner.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def owner_alive(owner: str | None) -> bool:
    """True when the process behind ``owner`` still runs (the same process, not a reused pid)."""
    pid = owner_pid(owner)
    if pid is None or not pid_alive(pid):
        return False
    assert owner is not None
    _, _, start = owner.partition(":")
    if not start:
        return True
    now = _start_ticks(pid)
    return now is None or now == start
