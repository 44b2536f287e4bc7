"""What the dashboard shows: the filters read from the query string (a bad one is answered 422)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import system_clock
from bot.knowledge.faq import LANGUAGES

DEFAULT_DAYS = 30
MAX_DAYS = 732
# Dates the dashboard accepts: far enough inside Python's 1-9999 years that a day in any time zone,
# a day after the range or the weeks before it (gap trends) never overflow (a 422, not a 500).
EARLIEST = dt.date(1970, 1, 1)
LATEST = dt.date(9998, 12, 31)
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_AGENCY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ZONE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")


class FilterError(ValueError):
    """A filter value that cannot be used; the message says which and why (answered 422)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What the dashboard shows: a date range (inclusive, in `tz`) and optional agency, channel,
    language."""

    start: dt.date
    end: dt.date
    agency: str | None = None
    channel: str | None = None
    language: str | None = None
    tz: str = "UTC"
    min_n: int = 3

    @classmethod
    def parse(
        cls,
        params: Mapping[str, str],
        agencies: Iterable[str] | None = None,
        today: dt.date | None = None,
    ) -> Filters:
        """Filters from query parameters `from`, `to` (YYYY-MM-DD), `agency`, `channel`, `language`,
        `tz` and `min_n`; empty or absent means the default (the last 30 days, everything, UTC,
        3)."""

        def value(name: str) -> str | None:
            raw = params.get(name)
            return raw.strip() if raw and raw.strip() else None

        tz = value("tz") or "UTC"
        zone = _zone(tz)
        today = today or system_clock().astimezone(zone).date()
        end = _date("to", value("to")) or today
        start = _date("from", value("from")) or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise FilterError(f"from ({start}) is after to ({end})")
        if (end - start).days + 1 > MAX_DAYS:
            raise FilterError(
                f"the date range is {(end - start).days + 1} days; at most {MAX_DAYS}"
            )
        agency, channel, language = value("agency"), value("channel"), value("language")
        if agency is not None:
            _check_agency(agency, agencies)
        if channel is not None and not _CHANNEL.match(channel):
            raise FilterError(
                f"invalid channel {channel[:64]!r} (lowercase letters, digits, - _ .)"
            )
        if language is not None and language not in LANGUAGES:
            raise FilterError(f"unknown language {language[:16]!r} (use {', '.join(LANGUAGES)})")
        min_n = _min_n(value("min_n") or "3")
        return cls(start, end, agency, channel, language, tz, min_n)

    @property
    def zone(self) -> ZoneInfo:
        """The display time zone."""
        return ZoneInfo(self.tz)

    def midnight(self, day: dt.date) -> dt.datetime:
        """The start of `day` in the display zone, in UTC."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone).astimezone(dt.UTC)

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as [start, end) in UTC."""
        return self.midnight(self.start), self.midnight(self.end + dt.timedelta(days=1))

    def days(self) -> list[dt.date]:
        """Every day of the period, in order."""
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def query(self) -> dict[str, str]:
        """The filters as query parameters (what the page's links carry)."""
        found = {"from": self.start.isoformat(), "to": self.end.isoformat(), "tz": self.tz}
        for name in ("agency", "channel", "language"):
            if getattr(self, name):
                found[name] = getattr(self, name)
        if self.min_n != 3:
            found["min_n"] = str(self.min_n)
        return found


def _zone(name: str) -> ZoneInfo:
    if len(name) > 64 or not _ZONE.match(name) or ".." in name:
        raise FilterError(
            f"unknown time zone {name[:64]!r} (use an IANA name such as America/Toronto)"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FilterError(
            f"unknown time zone {name!r} (use an IANA name such as America/Toronto)"
        ) from None


def _date(name: str, raw: str | None) -> dt.date | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise FilterError(f"{name}: {raw[:32]!r} is not a date (YYYY-MM-DD)")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise FilterError(f"{name}: {raw!r} is not a valid date") from None
    if not EARLIEST <= day <= LATEST:
        raise FilterError(f"{name}: {raw} is out of range ({EARLIEST} to {LATEST})")
    return day


def _check_agency(agency: str, agencies: Iterable[str] | None) -> None:
    """A well-formed agency id, and one of `agencies` when they are given."""
    known = set(agencies) if agencies is not None else None
    if not _AGENCY.match(agency) or (known is not None and agency not in known):
        raise FilterError(
            f"unknown agency {agency[:64]!r}"
            + (f" (known: {', '.join(sorted(known))})" if known else "")
        )


def _min_n(raw: str) -> int:
    """The fewest votes for a FAQ to be ranked among the least helpful."""
    if not re.fullmatch(r"\d{1,6}", raw):
        raise FilterError(f"min_n must be a whole number, not {raw[:16]!r}")
    min_n = int(raw)
    if not 1 <= min_n <= 100_000:
        raise FilterError("min_n must be between 1 and 100000")
    return min_n
