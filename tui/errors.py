"""The base of every error the app raises on purpose, and the errors about the user's own input.

Every error carries the process exit code the headless commands use (sysexits, as the official
``runcomfy`` CLI) and a message that is already safe to show (sanitised, token-free). The tree,
and where each part lives::

    GptImageError                   exit 1    (here)
    ├── InputError                  exit 65   bad prompt / size / references; nothing sent (here)
    ├── TokenError                  exit 77   no token, unreadable or unsafe token file (here)
    ├── ConfigError                 exit 64   an unusable setting or config.toml (tui.config)
    ├── ApiError …                            talking to the Model API (tui.api.errors)
    ├── DownloadError, GenerationFailed       an output could not be had (tui.api.errors)
    ├── StorageError …              exit 74   the history database or output folder (tui.storage.errors)
    └── JobFollowedElsewhere        exit 75   another process follows the job (tui.jobs)

It lives below every layer (only :mod:`tui.trust` is lower), so settings, models, storage and
the API client all raise from one tree without importing one another.
"""

from __future__ import annotations

from .trust.sanitize import clean_text

__all__ = ["GptImageError", "InputError", "InputProblem", "TokenError"]


class GptImageError(Exception):
    """Base of every error this package raises on purpose. ``str()`` is safe to display."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        self.message = clean_text(message, limit=2000)
        super().__init__(self.message)


class InputProblem:
    """One problem with one field of the user's input."""

    __slots__ = ("field", "message")

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = clean_text(message)

    def __repr__(self) -> str:
        return f"InputProblem({self.field!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, InputProblem)
            and (self.field, self.message) == (other.field, other.message)
        )

    def __hash__(self) -> int:
        return hash((self.field, self.message))


class InputError(GptImageError):
    """The user's input is invalid; nothing was sent. ``problems`` lists each field's reason."""

    exit_code = 65

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems) or "invalid input")

    def for_field(self, field: str) -> list[str]:
        """Messages for ``field`` and its items (``images`` matches ``images[2]``)."""
        return [
            p.message
            for p in self.problems
            if p.field == field or p.field.startswith(field + "[")
        ]


class TokenError(GptImageError):
    """No usable token: missing, malformed, or in a file others can read."""

    exit_code = 77
