"""A small in-process cache for the text page's reads of a whole window.

Reading every scored text of a twelve-month window takes seconds on a store of a few
hundred thousand texts; the page is asked again for each click on a verbatim cell, a
page of verbatims or the language switch, over the same window. An entry is kept
while the store's version (how many texts, how many scored, the last scoring time)
is unchanged and for at most ``ttl_seconds`` (customer cuts can change without the
texts changing).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """Least-recently-used entries, each valid for one store version and a time."""

    def __init__(self, *, size: int = 8, ttl_seconds: float = 300.0) -> None:
        self._size = size
        self._ttl = ttl_seconds
        self._entries: OrderedDict[Hashable, tuple[float, Hashable, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        """The value kept for ``key`` at ``version``, else ``compute()`` (and keep it)."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[1] == version and now - entry[0] < self._ttl:
                self._entries.move_to_end(key)
                return entry[2]
        value = compute()  # outside the lock: two first readers may both compute
        with self._lock:
            self._entries[key] = (now, version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
