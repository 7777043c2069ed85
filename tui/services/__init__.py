"""What both front ends are built from.

``graph``: the object graph — settings → offline server → client → history → engine — built
once by :func:`~tui.services.graph.open_services`. ``backends``: the backend new jobs go to and
those left behind by signing in. ``account``: prices, the wallet balance and device-code sign-in
of a backend. ``browser``: handing a URL to a graphical browser (never a text one).
"""

from __future__ import annotations
