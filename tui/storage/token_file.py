"""The official CLI's ``token.json``: found, read and written exactly as ``runcomfy`` does.

Same place (``$RUNCOMFY_CONFIG_DIR/token.json``, else ``$XDG_CONFIG_HOME/runcomfy/token.json``,
else ``~/.config/runcomfy/token.json``), same fields (``access_token``, ``refresh_token``,
``expires_at``, ``user_email``; the last three null), same pretty JSON; written atomically
through a private temp file beside it (mode 0600 from the start, fsync'd, renamed into place),
so either tool signs in the other and a crash never leaves half a token behind. A file that
other users can read is refused, with the ``chmod 600`` fix spelled out.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TokenError
from ..trust.token import Token, UnsafeToken, check_token_text

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = [
    "read_token_file",
    "remove_token_file",
    "token_file_candidates",
    "token_file_path",
    "write_token_file",
]

_MAX_TOKEN_FILE_BYTES = 64 * 1024


def token_file_candidates(env: Mapping[str, str], home: Path) -> list[Path]:
    """Where the official CLI keeps token.json, in the order it looks."""
    candidates: list[Path] = []
    for variable in ("RUNCOMFY_CONFIG_DIR", "XDG_CONFIG_HOME"):
        value = env.get(variable, "").strip()
        if value:
            base = Path(value).expanduser()
            candidates.append(
                base / "token.json"
                if variable == "RUNCOMFY_CONFIG_DIR"
                else base / "runcomfy" / "token.json"
            )
    candidates.append(home / ".config" / "runcomfy" / "token.json")
    return candidates


def read_token_file(path: Path) -> Token:
    """The token in ``path``; :class:`~tui.errors.TokenError` when it is unusable or unsafe."""
    try:
        info = path.stat()
    except OSError as exc:
        raise TokenError(f"can't read the token file {path}: {exc.strerror}") from None
    if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
        mode = oct(stat.S_IMODE(info.st_mode))[2:]
        raise TokenError(
            f"the token file {path} can be read by other users (mode {mode}); "
            f"fix it with: chmod 600 {path}"
        )
    if info.st_size > _MAX_TOKEN_FILE_BYTES:
        raise TokenError(f"the token file {path} is too large to be a token file")
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise TokenError(f"can't read the token file {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise TokenError(
            f"the token file {path} is not valid JSON; run `runcomfy login` again"
        ) from None
    access = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(access, str):
        raise TokenError(f"the token file {path} has no access_token; run `runcomfy login` again")
    try:
        value = check_token_text(access.strip(), source=f"the token in {path}")
    except UnsafeToken as exc:
        raise TokenError(str(exc)) from None
    from pydantic import SecretStr  # only when there is a token: no pydantic to start without

    return Token(SecretStr(value), str(path))


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
    import secrets  # (loaded on a sign-in only: it brings OpenSSL's hashes)

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
