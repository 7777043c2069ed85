"""Where a loopback stand-in serves each part of the protocol, as the real hosts do: the Model
API under ``/v1``, the balance under ``/prod/v2`` (api.runcomfy.net's), device-code sign-in at
the origin (www.runcomfy.com's ``/api/cli-auth/...``). Shared by the in-process server and the
app's child-process server."""

from __future__ import annotations

import abc

__all__ = ["Addressed", "Addresses"]


class Addresses:
    """The URLs of a server listening on ``host:port`` (an IPv6 host is bracketed)."""

    def __init__(self, host: str, port: int) -> None:
        host = f"[{host}]" if ":" in host else host
        self.origin = f"http://{host}:{port}"
        self.base_url = f"{self.origin}/v1"
        self.serverless_base = f"{self.origin}/prod/v2"
        self.web_base = self.origin


class Addressed(abc.ABC):
    """A stand-in server known by its :class:`Addresses`; each URL is read from them."""

    @property
    @abc.abstractmethod
    def addresses(self) -> Addresses:
        """Every URL of this server (an error before it listens)."""

    @property
    def origin(self) -> str:
        return self.addresses.origin

    @property
    def base_url(self) -> str:
        """The Model API: ``http://127.0.0.1:PORT/v1``."""
        return self.addresses.base_url

    @property
    def serverless_base(self) -> str:
        """Where the balance lives: ``http://127.0.0.1:PORT/prod/v2`` (as api.runcomfy.net's)."""
        return self.addresses.serverless_base

    @property
    def web_base(self) -> str:
        """Where device-code sign-in lives (as www.runcomfy.com's ``/api/cli-auth/...``)."""
        return self.addresses.web_base
