"""The one rate limiter: named rules ("address", "chat_session", ...) counted per key with the
`limits` library, in memory on the embedded default, in Redis when REDIS_URL is set (so the
replicas share their counts).

A sliding-window counter per rule and key decides; a second, fixed window of one per rule and key
says whether a refusal is the first of its window, so a citizen is asked to slow down once, not
once per message. If Redis fails, this replica counts in memory meanwhile (limits per replica
rather than none, and no request fails for it).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from redis.exceptions import RedisError

from bot.settings import Settings

log = logging.getLogger(__name__)
REDIS_PREFIX = "govbot-limits"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a hit is allowed; if not, when to retry and whether to say so (first refusal)."""

    allowed: bool
    retry_after: int = 0
    first_refusal: bool = False


ALLOWED = Verdict(True)


def rules_from(settings: Settings) -> dict[str, str]:
    """The rules of these settings, by name."""
    return {
        "address": settings.rate_limit_per_address,
        "chat_address": settings.rate_limit_chat_per_address,
        "chat_session": settings.rate_limit_chat_per_session,
        "sender": settings.rate_limit_per_sender,
        "account": settings.rate_limit_per_account,
        "preview": settings.rate_limit_preview,
    }


class _Counter:
    """One storage and its two strategies."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.window = SlidingWindowCounterRateLimiter(storage)
        self.once = FixedWindowRateLimiter(storage)


class RateLimiter:
    """Counts hits per rule and key; `hit` says whether one more is allowed."""

    def __init__(self, rules: Mapping[str, str], redis_url: str | None = None) -> None:
        self._items: dict[str, list[RateLimitItem]] = {
            name: parse_many(rate) for name, rate in rules.items()
        }
        # the notice window of a rule: its longest window, so one notice covers the whole refusal
        self._notice = {
            name: RateLimitItemPerSecond(1, max(i.get_expiry() for i in items))
            for name, items in self._items.items()
        }
        self._memory = _Counter(MemoryStorage())
        self._shared: _Counter | None = None
        if redis_url:
            storage = storage_from_string(
                f"async+{redis_url}", implementation="redispy", key_prefix=REDIS_PREFIX
            )
            assert isinstance(storage, Storage)
            self._shared = _Counter(storage)
        self._warned_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """The limiter of these settings (Redis when REDIS_URL is set)."""
        return cls(rules_from(settings), settings.redis_url)

    async def hit(self, rule: str, key: str) -> Verdict:
        """Count one hit of `key` under `rule`; refused when any of the rule's windows is full."""
        if self._shared is not None:
            try:
                return await self._hit(self._shared, rule, key)
            except (RedisError, StorageError, OSError) as exc:  # per replica meanwhile
                if time.monotonic() - self._warned_at > 60:
                    self._warned_at = time.monotonic()
                    log.warning("rate limits counted in memory: Redis failed (%s)", exc)
        return await self._hit(self._memory, rule, key)

    async def _hit(self, counter: _Counter, rule: str, key: str) -> Verdict:
        for item in self._items[rule]:
            if not await counter.window.hit(item, rule, key):
                stats = await counter.window.get_window_stats(item, rule, key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                first = await counter.once.hit(self._notice[rule], "notice", rule, key)
                return Verdict(False, min(retry_after, item.get_expiry()), first)
        return ALLOWED
