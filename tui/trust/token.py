"""The bearer token: held as a secret type, and checked before it goes near a header.

:class:`Token` keeps the value in a :class:`pydantic.SecretStr`, so no repr, log line or error
message ever shows it; ``source`` says where it came from (``RUNCOMFY_TOKEN`` or a token.json
path). :func:`check_token_text` refuses a token httpx would echo in an error message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic is loaded by whoever makes a token, not by this module
    from pydantic import SecretStr

__all__ = ["Token", "UnsafeToken", "check_token_text"]


class UnsafeToken(ValueError):
    """A token (or a value sent like one) was refused; ``str()`` says why, never the value."""


@dataclass(frozen=True, slots=True)
class Token:
    """The bearer token and where it came from (``RUNCOMFY_TOKEN`` or a token.json path)."""

    value: SecretStr
    source: str


def check_token_text(value: str, *, source: str = "the token") -> str:
    """Return ``value`` if it is printable ASCII without spaces; raise :class:`UnsafeToken`.

    httpx puts the whole header value into the message of the error it raises for a token with
    a stray CR/LF, so a bad token is refused here — and the message never repeats it.
    """
    if not value:
        raise UnsafeToken(f"{source} is empty")
    for position, char in enumerate(value, start=1):
        if not 0x21 <= ord(char) <= 0x7E:
            kind = "whitespace" if char.isspace() else "a non-printable or non-ASCII character"
            raise UnsafeToken(
                f"{source} contains {kind} at position {position} of {len(value)}; "
                "a token is printable ASCII without spaces"
            )
    return value
