"""The official CLI's ``token.json``, written exactly as ``runcomfy login`` writes it.

Same place (``$RUNCOMFY_CONFIG_DIR/token.json``, else ``$XDG_CONFIG_HOME/runcomfy/token.json``,
else ``~/.config/runcomfy/token.json``), same fields (``access_token``, ``refresh_token``,
``expires_at``, ``user_email``; the last three null), same pretty JSON; written atomically
through a private temp file beside it (mode 0600 from the start, fsync'd, renamed into place),
so either tool signs in the other and a crash never leaves half a token behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from ..config import token_file_candidates

__all__ = ["remove_token_file", "token_file_path", "write_token_file"]


def token_file_path(env: Mapping[str, str] = os.environ, home: Path | None = None) -> Path:
    """Where ``runcomfy login`` writes the token (the first of the official CLI's places)."""
    return token_file_candidates(env, home if home is not None else Path.home())[0]


def write_token_file(path: Path, token: SecretStr) -> None:
    """Write ``token`` to ``path`` atomically, readable by the owner only (0600).

    The directory is created 0700 when missing. Raises OSError when it can't be written; the
    old file (if any) is then untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps(
        {
            "access_token": token.get_secret_value(),
            "refresh_token": None,
            "expires_at": None,
            "user_email": None,
        },
        indent=2,
    )
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)  # whatever the umask did
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def remove_token_file(path: Path) -> bool:
    """Delete the token file; False when there was none."""
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return False
    return True
