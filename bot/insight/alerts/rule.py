"""The surge rule: a group's count in a window against its usual rate (statistics only).

The usual rate (`expected`), per window
---------------------------------------
- hour: the largest of (a) the group's average per hour over the 7 days before the window (flat
  rate), (b) its average over the same clock hour on each of the previous 7 days (so a group that is
  always busy at 9:00 is not a surge at 9:00 every day), and (c) a floor of FLOOR_PER_HOUR;
- day: the larger of its average per day over the 7 days before the window, and the floor x 24.
The floor lets a brand-new group (no history: a new rumour) surge. With less than 7 days of history
the averages are taken over the history there is; with less than MIN_HISTORY, nothing is detected (a
new deployment would otherwise call every first busy FAQ a surge). The usual rates move on in steps
of BASELINE_STEP (10 minutes): their windows end at `now` rounded down to it rather than at `now`
exactly (a few minutes out of a week change nothing), so a detector keeps them for 10 minutes
(`Baselines`) instead of re-reading the week every pass.

The rule
--------
A window surges when its count reaches `threshold`, the smallest count that is all of:
  - >= ALERT_MIN_COUNT (too few questions are never an issue),
  - >= ALERT_RATIO x expected (much faster than usual),
  - unlikely by chance (at most ALPHA, 1 in 100,000) against each baseline: had the group's rate not
    changed, of the window's questions and the baseline's together, each would have fallen in the
    window with probability 1 / (baseline windows + 1), so the count is a binomial tail (the exact
    test comparing two Poisson rates). Unlike a Poisson test against `expected`, it allows for a
    baseline of a few questions being a rough estimate: 12 in an hour against 16 in the same hour
    over the last 7 days (2.3 an hour) is not a surge, 12 against 0 is. It only decides for groups
    with a few questions per window; elsewhere the first two do.
With the defaults (8, x4) a new group (nothing before) surges at 8 citizens in an hour or 24 in a
day; a group usually at 5 an hour surges at 20 in an hour. The hour window is tested first and
reported when both surge.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from bot.settings import Settings

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
BASELINE_DAYS = 7  # the usual rate: the 7 days before the window
FLOOR_PER_HOUR = 0.25  # the usual rate of a group never seen before (6 a day)
ALPHA = 1e-5  # a surge must be this unlikely by chance, had the rate not changed
MIN_HISTORY = dt.timedelta(days=2)  # less history than this: nothing is detected
BASELINE_STEP = dt.timedelta(minutes=10)  # the usual rates move on in steps of this


def binomial_tail(count: int, trials: int, p: float) -> float:
    """P(X >= count) for X ~ Binomial(trials, p), summed from `count` upwards (no cancellation
    error)."""
    if count <= 0 or p >= 1:
        return 1.0
    if count > trials or p <= 0:
        return 0.0
    term = math.exp(
        math.lgamma(trials + 1)
        - math.lgamma(count + 1)
        - math.lgamma(trials - count + 1)
        + count * math.log(p)
        + (trials - count) * math.log1p(-p)
    )
    total, j = 0.0, count
    while j <= trials:
        total += term
        if term <= total * 1e-15 and j > trials * p:
            break
        term *= (trials - j) / (j + 1) * p / (1 - p)
        j += 1
    return min(1.0, total)


def chance(count: int, seen: int, windows: float) -> float:
    """How likely `count` or more of the `count + seen` questions of the window and of its baseline
    (`seen` in `windows` windows of the same length) fall in the window, had the rate not
    changed."""
    return binomial_tail(count, count + seen, 1 / (windows + 1))


def threshold(
    min_count: int,
    ratio: float,
    expected: float,
    baselines: Iterable[tuple[int, float]] = (),
    alpha: float = ALPHA,
) -> int:
    """The smallest count that is a surge: at least `min_count`, at least `ratio` x `expected`, and
    for every baseline (`seen` questions in `windows` windows) no more likely than `alpha` by
    chance."""
    baselines = tuple(baselines)
    count = max(min_count, math.ceil(round(ratio * expected, 9)))
    while any(chance(count, seen, windows) > alpha for seen, windows in baselines):
        count += 1
    return count


def day_floor(settings: Settings) -> int:
    """The lowest day threshold there is (the floor's): a group under it in a day cannot surge
    there."""
    return max(
        settings.alert_min_count, math.ceil(round(settings.alert_ratio * FLOOR_PER_HOUR * 24, 9))
    )


@dataclass(slots=True)
class GroupRate:
    """One group's counts (citizens) in the last hour and day, their usual values, and the baselines
    behind those: (citizens seen, in how many windows of the same length)."""

    key: str
    hour: int
    day: int
    expected_hour: float = FLOOR_PER_HOUR
    expected_day: float = FLOOR_PER_HOUR * 24
    hour_baselines: tuple[tuple[int, float], ...] = ()
    day_baselines: tuple[tuple[int, float], ...] = ()

    def thresholds(self, settings: Settings) -> tuple[int, int]:
        """The hour's and the day's surge thresholds."""
        return (
            threshold(
                settings.alert_min_count,
                settings.alert_ratio,
                self.expected_hour,
                self.hour_baselines,
            ),
            threshold(
                settings.alert_min_count,
                settings.alert_ratio,
                self.expected_day,
                self.day_baselines,
            ),
        )


def anchor_of(now: dt.datetime) -> dt.datetime:
    """`now` rounded down to BASELINE_STEP: where the usual rates' windows end."""
    step = BASELINE_STEP.total_seconds()
    return dt.datetime.fromtimestamp(math.floor(now.timestamp() / step) * step, dt.UTC)


BaselineCounts = tuple[int, int, int]
"""A group's citizens in: the 7 days before the hour, the 7 days before the day, the same hour."""


class Baselines:
    """The raw counts behind the usual rates, kept for the current BASELINE_STEP (one per detector;
    a pass reads the week only for groups it has not seen in this step)."""

    def __init__(self) -> None:
        self.anchor: dt.datetime | None = None
        self.counts: dict[str, BaselineCounts] = {}

    def at(self, anchor: dt.datetime) -> dict[str, BaselineCounts]:
        """The counts kept for `anchor`: emptied when the anchor has moved on."""
        if anchor != self.anchor:
            self.anchor, self.counts = anchor, {}
        return self.counts
