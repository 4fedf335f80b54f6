"""Who made the pool kill its workers: a client that keeps doing so is told to wait (429), others are not.

A worker killed for overrunning the deadline or the memory bound, one that crashed, and one whose client hung up
mid-query (its late answer cannot be told from the next one's) are each replaced by a fresh process that must
load the dataset again; a stream of such queries would keep the pool cold for everyone. So the pool counts the
kills each client caused over a sliding window, and turns that client away once it reaches the limit, until its
oldest kill in the window has aged out. Clients are told apart by address: an IPv6 client by its /64, the block
one host is usually given. Behind a reverse proxy every client has the proxy's address, and the limit would
apply to all of them at once.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable

MAX_CLIENTS = 10_000  # past this many remembered clients, the ones without a recent kill are forgotten


def client_key(host: str) -> str:
    """The key a client's kills are counted under: its IPv4 address, or the /64 of its IPv6 address.

    >>> client_key("127.0.0.1"), client_key("::ffff:127.0.0.1")
    ('127.0.0.1', '127.0.0.1')
    >>> client_key("2001:db8::1"), client_key("2001:db8::ffff:2")
    ('2001:db8::/64', '2001:db8::/64')
    >>> client_key("testclient")
    'testclient'
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class KillRecord:
    """The kills each client caused in the last ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.kills: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self.kills.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def note(self, host: str) -> None:
        """``host`` caused a kill now."""
        now = self.clock()
        key = client_key(host)
        times = self._recent(key, now)
        times.append(now)
        self.kills[key] = times
        if len(self.kills) > MAX_CLIENTS:
            self.kills = {k: t for k, t in self.kills.items() if self._recent(k, now)}

    def wait(self, host: str) -> int:
        """Whole seconds until ``host`` may run an ad-hoc query again; 0 when it may now.

        >>> now = [0.0]
        >>> record = KillRecord(2, 60, clock=lambda: now[0])
        >>> record.note("10.0.0.1"); record.wait("10.0.0.1")
        0
        >>> now[0] = 15.0; record.note("10.0.0.1"); record.wait("10.0.0.1"), record.wait("10.0.0.2")
        (45, 0)
        >>> now[0] = 60.0; record.wait("10.0.0.1")
        0
        """
        now = self.clock()
        key = client_key(host)
        times = self._recent(key, now)
        if not times:
            self.kills.pop(key, None)
        if len(times) < self.limit:
            return 0
        return max(1, math.ceil(times[len(times) - self.limit] + self.window - now))
