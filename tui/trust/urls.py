"""URL rules: which request ids, reference URLs, download URLs and API bases are acceptable.

Four different trust questions, each answered in one place:

* :func:`validate_request_id` — a server-supplied id is safe to store and to put in a URL path.
* :func:`check_reference_url` — a user-supplied edit reference is something the RunComfy server
  may fetch: public ``https``, no credentials, no loopback/private literal hosts.
* :func:`check_download_url` — an output URL from a result may be fetched by this machine: only
  ``*.runcomfy.net`` / ``*.runcomfy.com`` over https, or the configured API base's own origin.
* :func:`normalise_base_url` — a configured API base may carry the token: https, or plain http
  on loopback only.

The URL checks parse once with httpx and return the parsed :class:`httpx.URL` that the caller
then sends, so the object checked is the object fetched. httpx is imported by the first check
that parses a URL, not with this module: a request id check (what a local history listing
needs) costs no HTTP stack.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = [
    "TRUSTED_DOWNLOAD_SUFFIXES",
    "UnsafeUrl",
    "check_download_url",
    "check_reference_url",
    "is_loopback",
    "normalise_base_url",
    "origin_of",
    "validate_request_id",
]

TRUSTED_DOWNLOAD_SUFFIXES = ("runcomfy.net", "runcomfy.com")
MAX_URL_LENGTH = 2048
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


class UnsafeUrl(ValueError):
    """A URL was refused; ``str()`` says why in a few plain words."""


def validate_request_id(value: object) -> str:
    """Return ``value`` if it is a plausible request id (``[A-Za-z0-9_-]``, ≤ 128 chars)."""
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise UnsafeUrl("not a valid request id")
    return value


def _parse(url: str) -> httpx.URL:
    if not isinstance(url, str) or not url:
        raise UnsafeUrl("empty URL")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"URL longer than {MAX_URL_LENGTH} characters")
    if _FORBIDDEN_CHARS.search(url):
        raise UnsafeUrl("URL contains spaces, backslashes or control characters")
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise UnsafeUrl("not a valid URL") from exc
    if not parsed.scheme or not parsed.host:
        raise UnsafeUrl("not a valid URL")
    if parsed.userinfo:
        raise UnsafeUrl("URL must not contain a user name or password")
    return parsed


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_reference_url(url: str) -> httpx.URL:
    """Accept an edit reference the RunComfy server may fetch, or raise :class:`UnsafeUrl`."""
    parsed = _parse(url.strip() if isinstance(url, str) else url)
    if parsed.scheme != "https":
        raise UnsafeUrl("reference URLs must start with https://")
    host = parsed.host.lower()
    address = _ip_literal(host)
    if address is not None and not address.is_global:
        raise UnsafeUrl("loopback, private and link-local addresses can't be fetched by the server")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise UnsafeUrl("local host names can't be fetched by the server")
    if "." not in host and address is None:
        raise UnsafeUrl("the host must be a public domain name")
    return parsed


def origin_of(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, port normalised to None when it is the default."""
    import httpx

    parsed = httpx.URL(url) if isinstance(url, str) else url
    port = parsed.port
    if (parsed.scheme, port) in {("https", 443), ("http", 80)}:
        port = None
    return parsed.scheme, parsed.host.lower(), port


def _is_runcomfy_host(host: str) -> bool:
    return any(host == s or host.endswith("." + s) for s in TRUSTED_DOWNLOAD_SUFFIXES)


def check_download_url(url: str, *, api_base: str | None = None) -> httpx.URL:
    """Accept an output URL this machine may download, or raise :class:`UnsafeUrl`.

    Trusted: https on a host equal to or ending in ``.runcomfy.net`` / ``.runcomfy.com``; or
    exactly the configured API base's origin (scheme, host and port), so a local base works.
    """
    parsed = _parse(url)
    host = parsed.host.lower()
    if parsed.scheme == "https" and _is_runcomfy_host(host) and _ip_literal(host) is None:
        return parsed
    same_origin = api_base is not None and origin_of(parsed) == origin_of(api_base)
    if same_origin and parsed.scheme in {"http", "https"}:
        return parsed
    raise UnsafeUrl(f"not a trusted download host: {host}")


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback address literals (``[::1]`` included)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(url: str) -> str:
    """Check an API base URL and return it without a trailing slash; raise :class:`UnsafeUrl`.

    It must be http(s) with a host and no credentials, query or fragment. Plain http is allowed
    only for loopback hosts (a local or offline server): elsewhere the token would cross the
    network in clear text.
    """
    text = (url or "").strip().rstrip("/")
    if not text:
        raise UnsafeUrl("the API base URL is empty")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in text):
        raise UnsafeUrl("the API base URL contains spaces, backslashes or control characters")
    if _is_plain_base(text):
        return text  # a shape the full check accepts unchanged: no need to load httpx for it
    return _checked_base(text)


# The usual bases — RunComfy's defaults, a local server — in a form so plain that the full check
# accepts each as it is: https on a host name of letters, digits and hyphens ending in a
# letter-led label (never an IP literal), or http on 127.0.0.1 / localhost; an optional port;
# a path of unreserved characters. (Tests hold the two paths to the same answers.)
_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_PLAIN_BASE = re.compile(
    rf"(?:https://(?:{_HOST_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?"
    r"|http://(?:127\.0\.0\.1|localhost))"
    r"(?::(?P<port>[0-9]{1,5}))?(?:/[A-Za-z0-9._~-]+)*"
)


def _is_plain_base(text: str) -> bool:
    plain = _PLAIN_BASE.fullmatch(text)
    return plain is not None and (plain["port"] is None or 0 < int(plain["port"]) < 65536)


def _checked_base(text: str) -> str:
    """:func:`normalise_base_url`'s full check, parsing with httpx."""
    import httpx

    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise UnsafeUrl("the API base URL is not a valid URL") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise UnsafeUrl("the API base URL must start with https:// and name a host")
    if parsed.userinfo:
        raise UnsafeUrl("the API base URL must not contain a user name or password")
    if parsed.query or parsed.fragment:
        raise UnsafeUrl("the API base URL must not contain a query or fragment")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise UnsafeUrl(
            "the API base URL must use https:// (plain http is only allowed for loopback hosts "
            "such as 127.0.0.1 or localhost)"
        )
    return text
