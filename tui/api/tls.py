"""The TLS contexts every HTTP client of the app is built with.

Loading the CA bundle costs tens of milliseconds, so it is done once, by the first client that
can speak HTTPS, and shared (httpx would load it again for every client). A client that only
ever talks plain ``http://`` — to the offline server on loopback — gets a context that loads
nothing and verifies everything, so it could not talk TLS to anyone unchecked.
"""

from __future__ import annotations

import functools
import ssl

__all__ = ["context_for", "no_tls_context", "tls_context"]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's own default (certifi, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), built once."""
    import httpx

    return httpx.create_ssl_context()


def no_tls_context() -> ssl.SSLContext:
    """For a client that never speaks TLS: certificates and host names still required, no CA
    loaded — any HTTPS connection through it fails verification."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def context_for(url: str) -> ssl.SSLContext:
    """The context for a client that only talks to ``url``'s origin (its scheme decides)."""
    return tls_context() if url.lower().startswith("https:") else no_tls_context()
