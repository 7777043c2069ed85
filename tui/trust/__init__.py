"""What may be trusted, and how untrusted input is made safe: the rules everything else leans on.

``sanitize``: text for a terminal (server messages, prompts from history, file names) and JSON
that escapes every control character. ``urls``: which request ids, reference URLs, download URLs
and API base URLs are acceptable. ``token``: the bearer token as a secret type, and what a token
may look like. Each rule raises its own ``ValueError`` kind (:class:`~tui.trust.urls.UnsafeUrl`,
:class:`~tui.trust.token.UnsafeToken`) whose text says why in a few plain words; callers turn it
into their own error. Nothing here imports another part of the app.
"""

from __future__ import annotations
