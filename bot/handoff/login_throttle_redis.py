"""The login throttle in Redis (when REDIS_URL is set), so that its counts hold across replicas.

Each reservation is one Lua script, which Redis runs atomically: it checks both keys, then counts
the attempt on both, with the same rules and back-off as the SQL throttle
(bot/handoff/login_throttle.py). Keys expire once a run is quiet past any wait.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis

from bot.handoff.login_throttle import ACCOUNT, ADDRESS, ThrottleRules, throttle_keys

# KEYS: address, account. ARGV: now, per_address, per_account, backoff, max_backoff, quiet (times in
# whole milliseconds: Lua's numbers are doubles, printed with 14 digits), ttl_s. Returns the
# milliseconds to wait, 0 when the attempt is reserved.
_RESERVE = """
local now = tonumber(ARGV[1])
local base, cap, quiet = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
for _, key in ipairs(KEYS) do
  local blocked = tonumber(redis.call('HGET', key, 'blocked') or '0')
  if blocked > now then return blocked - now end
end
for i, key in ipairs(KEYS) do
  local row = redis.call('HMGET', key, 'attempts', 'last', 'delay')
  local attempts, last = tonumber(row[1] or '0'), tonumber(row[2] or '0')
  local delay = tonumber(row[3] or base)
  if last <= now - quiet then attempts, delay = 0, base end
  attempts = attempts + 1
  local blocked = 0
  if attempts >= limits[i] then blocked, delay = now + delay, math.min(delay * 2, cap) end
  redis.call('HSET', key, 'attempts', attempts, 'last', now, 'blocked', blocked, 'delay', delay)
  redis.call('EXPIRE', key, tonumber(ARGV[7]))
end
return 0
"""

# KEYS: address, account. ARGV: per_address, backoff (ms).
_SUCCEEDED = """
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts > 0 then
  attempts = attempts - 1
  redis.call('HSET', KEYS[1], 'attempts', attempts)
  if attempts < tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[1], 'blocked', '0', 'delay', ARGV[2])
  end
end
redis.call('DEL', KEYS[2])
return 0
"""


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


class RedisLoginThrottle:
    """`LoginThrottle` over Redis hashes `<prefix><scope>:<digest>`."""

    def __init__(
        self, url: str, rules: ThrottleRules | None = None, prefix: str = "govbot:login:"
    ) -> None:
        self.rules = rules or ThrottleRules()
        self._redis: Any = redis.Redis.from_url(url)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._succeeded = self._redis.register_script(_SUCCEEDED)

    def _keys(self, username: str, ip: str) -> list[str]:
        keys = dict(throttle_keys(username, ip))
        return [f"{self._prefix}{scope}:{keys[scope]}" for scope in (ADDRESS, ACCOUNT)]

    def reserve(self, username: str, ip: str, now: dt.datetime) -> float:
        """See `LoginThrottle.reserve`."""
        rules = self.rules
        ttl_s = int(rules.quiet_s + rules.max_backoff_s) + 1
        wait_ms = self._reserve(
            keys=self._keys(username, ip),
            args=[
                _ms(now.timestamp()),
                rules.per_address,
                rules.per_account,
                _ms(rules.backoff_s),
                _ms(rules.max_backoff_s),
                _ms(rules.quiet_s),
                ttl_s,
            ],
        )
        return max(int(wait_ms) / 1000, 1.0) if int(wait_ms) > 0 else 0.0

    def succeeded(self, username: str, ip: str, now: dt.datetime) -> None:
        """See `LoginThrottle.succeeded`."""
        del now  # keys expire by themselves
        self._succeeded(
            keys=self._keys(username, ip),
            args=[self.rules.per_address, _ms(self.rules.backoff_s)],
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
