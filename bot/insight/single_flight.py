"""Compute once, share with everyone who asks meanwhile: the dashboard's page, data and six charts
all ask for the same figures at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any


class SingleFlight:
    """A small thread-safe cache: the first caller of a key computes it, callers meanwhile wait for
    that result, later ones reuse it for `ttl_s`. Failures are not kept."""

    def __init__(self, ttl_s: float, size: int) -> None:
        self._ttl_s, self._size = ttl_s, size
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Future[Any]]] = {}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value of `key`, computed by `make` once per `ttl_s` however many ask meanwhile."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self._ttl_s:
                future, owner = entry[1], False
            else:
                future, owner = Future(), True
                self._entries[key] = (now, future)
                for old in [k for k, (at, _) in self._entries.items() if now - at >= self._ttl_s]:
                    del self._entries[old]
                while len(self._entries) > self._size:
                    del self._entries[next(iter(self._entries))]
        if not owner:
            return future.result()
        try:
            result = make()
        except BaseException as exc:
            with self._lock:
                if self._entries.get(key, (0.0, None))[1] is future:
                    del self._entries[key]
            future.set_exception(exc)  # for the callers waiting on it
            raise
        future.set_result(result)
        return result

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
