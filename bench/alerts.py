"""Emerging-issue alerts: how long after a surge starts the alert opens, what a detection pass
costs, and how many false alerts ordinary traffic raises.

In simulated time, on a temporary SQLite database (and PostgreSQL when reachable):
- ordinary traffic: a week (about 50,000 turns) and then some, over FAQS FAQ groups (Zipf-like
  rates), GAPS knowledge-gap groups and unclustered questions, Poisson counts per hour with a daily
  cycle (quiet nights, busy office hours) and quiet weekends; every question from a
  different citizen;
- false alerts: `detect` every `insight_interval_s` (30 s) of simulated time over ORDINARY_DAYS days
  of ordinary traffic (the week before each of them in the database), every alert counted;
- surges: SCENARIOS (a new rumour, a known gap growing, an outage's FAQ, a busy FAQ, a slow rumour),
  each REPEATS times (the slow one twice) one after another at different hours, arriving as a
  Poisson process on top of the ordinary traffic; `detect` every `insight_interval_s` (30 s) of
  simulated time from the surge's start until its alert opens (missed: none by 30 minutes after the
  surge's end): the delay is the simulated minutes from the first surge question to that pass. Any
  alert opened for another group meanwhile is counted as false.
- each pass's wall time is measured (all passes: ordinary and surge replays).
The rule itself is described in bot/insight/alerts/rule.py. In the running app, a gap group's
questions count once the background clusterer has grouped them, which adds up to one more pass to a
gap surge's delay.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from bench.channels import fresh_database
from bench.common import say
from bot.insight.alerts import Baselines, detect
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import GapCluster, Turn
from tests.integration.conftest import POSTGRES_URL

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)  # a Monday
HOUR, DAY, MINUTE = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(minutes=1)
FAQS = 40
GAPS = 60
FAQ_PER_HOUR = 260.0  # all FAQ groups together, on an average weekday hour
GAP_PER_HOUR = 45.0
UNCLUSTERED_PER_HOUR = 45.0
HISTORY_DAYS = 7  # ordinary traffic before the first pass
ORDINARY_DAYS = (
    7  # days of ordinary traffic replayed for false alerts, a pass every insight_interval_s
)
REPEATS = 4  # each scenario, at different hours
SEED = 20260302


@dataclass(frozen=True, slots=True)
class Scenario:
    """A surge: which kind of group (and its usual rate), then questions per minute, changing
    over time."""

    name: str
    group: str  # "new-gap" | "gap" | "faq"
    usual_per_hour: float  # pick groups near this rate (0: a brand-new group)
    phases: tuple[tuple[float, float], ...]  # (minutes, questions per minute)
    repeats: int = REPEATS

    @property
    def length(self) -> dt.timedelta:
        return sum(minutes for minutes, _ in self.phases) * MINUTE

    @property
    def cap(self) -> dt.timedelta:
        """Missed when no alert opened by 30 minutes after the surge's end."""
        return self.length + 30 * MINUTE

    @property
    def rate(self) -> str:
        return ", then ".join(
            f"{per_min:g}/min for {minutes:g} min" for minutes, per_min in self.phases
        )


SCENARIOS = (
    Scenario("rumour, new gap group", "new-gap", 0.0, ((60, 1.0),)),
    Scenario("rumour, known gap group", "gap", 0.5, ((15, 1.0), (45, 3.0))),
    Scenario("outage, its FAQ", "faq", 2.0, ((10, 1.0), (50, 5.0))),
    Scenario("busy FAQ", "faq", 12.0, ((60, 3.0),)),
    Scenario("slow rumour, new gap group", "new-gap", 0.0, ((720, 0.1),), repeats=2),
)


def daily_shape() -> list[float]:
    """Traffic per hour of the day relative to the day's average."""
    raw = [0.08 + max(0.0, math.sin(math.pi * (h - 6) / 14)) for h in range(24)]
    mean = sum(raw) / 24
    return [r / mean for r in raw]


def group_rates() -> dict[str, float]:
    """Usual citizens per hour of every group ("faq:<id>" / "gap:<id>"), Zipf-like."""
    faq_w = [1 / (i + 1) for i in range(FAQS)]
    gap_w = [1 / (i + 1) ** 0.8 for i in range(GAPS)]
    rates = {f"faq:faq-{i:02d}": FAQ_PER_HOUR * w / sum(faq_w) for i, w in enumerate(faq_w)}
    rates |= {f"gap:{i + 1}": GAP_PER_HOUR * w / sum(gap_w) for i, w in enumerate(gap_w)}
    return rates


class Rows:
    """Turns to insert (each question from its own citizen)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, at: dt.datetime, key: str | None, question: str) -> None:
        faq_id = cluster_id = None
        if key and key.startswith("faq:"):
            outcome, faq_id = "answered", key[4:]
        else:
            outcome = ("no_answer", "clarify", "handoff")[len(self.rows) % 3]
            cluster_id = int(key[4:]) if key else None
        self.rows.append(
            {
                "at": at,
                "conversation_id": f"webchat:{len(self.rows)}",
                "channel": "webchat",
                "language": "en",
                "outcome": outcome,
                "faq_id": faq_id,
                "cluster_id": cluster_id,
                "question": question,
                "clustered": outcome == "answered" or cluster_id is not None,
            }
        )


def ordinary(rows: Rows, rng: np.random.Generator, days: int) -> None:
    shape = daily_shape()
    groups = [*group_rates().items(), (None, UNCLUSTERED_PER_HOUR)]
    for index in range(days * 24):
        began = T0 + index * HOUR
        level = shape[began.hour] * (0.5 if began.weekday() >= 5 else 1.0)
        for key, per_hour in groups:
            for offset in rng.uniform(0, 3600, rng.poisson(per_hour * level)):
                rows.add(
                    began + dt.timedelta(seconds=float(offset)), key, f"usual question of {key}"
                )


def surge_times(
    rng: np.random.Generator, start: dt.datetime, phases: tuple[tuple[float, float], ...]
) -> list[dt.datetime]:
    """A Poisson process through the phases."""
    out, t = [], 0.0
    for minutes, per_min in phases:
        end = t + minutes
        while True:
            t += rng.exponential(1 / per_min)
            if t >= end:
                t = end
                break
            out.append(start + dt.timedelta(minutes=t))
    return out


@dataclass
class Planned:
    scenario: Scenario
    key: str
    start: dt.datetime


def plan(rng: np.random.Generator, rows: Rows) -> list[Planned]:
    """Every scenario REPEATS times, one after another from the day after the history, each in its
    own group; their questions are added to `rows`."""
    rates = group_rates()
    used: set[str] = set()
    planned: list[Planned] = []
    new_gap = GAPS + 1000
    start = T0 + HISTORY_DAYS * DAY + ORDINARY_DAYS * DAY + 20 * MINUTE
    for scenario in SCENARIOS:
        for _ in range(scenario.repeats):
            if scenario.group == "new-gap":
                new_gap += 1
                key = f"gap:{new_gap}"
            else:
                key = min(
                    (k for k in rates if k.startswith(scenario.group + ":") and k not in used),
                    key=lambda k: abs(rates[k] - scenario.usual_per_hour),
                )
            used.add(key)
            planned.append(Planned(scenario, key, start))
            for at in surge_times(rng, start, scenario.phases):
                rows.add(at, key, f"{scenario.name}: what is going on?")
            start += (
                scenario.cap + 7 * MINUTE
            )  # the next one starts once this one is detected or missed
    return planned


def _spread(ms: list[float]) -> dict[str, float]:
    values = np.array(ms)
    return {
        "n": len(ms),
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
    }


def run(db: Database, settings: Settings) -> dict[str, Any]:
    """Seed, replay ordinary traffic, replay every surge; the figures of one database."""
    rng = np.random.default_rng(SEED)
    surges = Rows()
    planned = plan(rng, surges)
    last = max(p.start + p.scenario.cap for p in planned)
    rows = Rows()
    ordinary(rows, rng, math.ceil((last - T0) / DAY))  # ordinary traffic goes on under the surges
    week = len(rows.rows) and sum(1 for r in rows.rows if r["at"] < T0 + 7 * DAY)
    for row in surges.rows:
        rows.add(
            row["at"],
            f"faq:{row['faq_id']}" if row["faq_id"] else f"gap:{row['cluster_id']}",
            row["question"],
        )
    began = time.perf_counter()
    with db.session() as session:
        session.add_all(
            GapCluster(id=int(p.key[4:]), label=f"{p.scenario.name} #{p.key}", centroid=b"\0")
            for p in planned
            if p.scenario.group == "new-gap"
        )
        session.add_all(
            GapCluster(id=i + 1, label=f"known gap {i + 1}", centroid=b"\0") for i in range(GAPS)
        )
        session.flush()
        session.execute(insert(Turn), rows.rows)
        session.commit()
    seeded_s = time.perf_counter() - began
    say(
        f"{db.engine.dialect.name}: {len(rows.rows)} turns seeded ({week} in the first week) in "
        f"{seeded_s:.1f} s"
    )

    pass_ms: list[float] = []
    baselines = Baselines()  # kept from pass to pass, as AlertWatcher does
    step = dt.timedelta(seconds=settings.insight_interval_s)

    refresh_ms: list[float] = []  # the passes that re-read the week (a new BASELINE_STEP)

    def detect_at(now: dt.datetime) -> list[Any]:
        anchor = baselines.anchor
        began = time.perf_counter()
        opened = detect(db, settings, now, baselines)
        pass_ms.append((time.perf_counter() - began) * 1000)
        if baselines.anchor != anchor:
            refresh_ms.append(pass_ms[-1])
        return opened

    now, end = T0 + HISTORY_DAYS * DAY, T0 + (HISTORY_DAYS + ORDINARY_DAYS) * DAY
    ordinary_alerts: list[str] = []
    while now < end:
        ordinary_alerts += [f"{a.group_key} at {now:%a %H:%M}" for a in detect_at(now)]
        now += step
    ordinary_passes = len(pass_ms)
    say(
        f"{db.engine.dialect.name}: {ordinary_passes} passes over {ORDINARY_DAYS} ordinary days: "
        f"{len(ordinary_alerts)} alerts; pass p50 {np.percentile(pass_ms, 50):.1f} ms"
    )

    delays: dict[str, list[float | None]] = {s.name: [] for s in SCENARIOS}
    windows: dict[str, list[str]] = {s.name: [] for s in SCENARIOS}
    surge_false: list[str] = []
    for item in planned:
        assert now <= item.start, "surges are planned one after another"
        now, detected = item.start, None
        while detected is None and now <= item.start + item.scenario.cap:
            for alert in detect_at(now):
                if alert.group_key == item.key:
                    detected = (now - item.start) / MINUTE
                    windows[item.scenario.name].append(alert.window)
                else:
                    surge_false.append(f"{alert.group_key} at {now:%a %H:%M}")
            now += step
        delays[item.scenario.name].append(detected)
    scenarios = []
    for scenario in SCENARIOS:
        found = [d for d in delays[scenario.name] if d is not None]
        scenarios.append(
            {
                "scenario": scenario.name,
                "rate": scenario.rate,
                "usual_per_hour": "new group"
                if scenario.group == "new-gap"
                else ", ".join(
                    f"{group_rates()[p.key]:.1f}" for p in planned if p.scenario == scenario
                ),
                "delays_min": delays[scenario.name],
                "detected": f"{len(found)}/{len(delays[scenario.name])}",
                "median_min": float(np.median(found)) if found else None,
                "max_min": max(found) if found else None,
                "windows": sorted(set(windows[scenario.name])),
            }
        )
        say(
            f"{db.engine.dialect.name}: {scenario.name} ({scenario.rate}): delays (min) "
            + ", ".join("missed" if d is None else f"{d:.1f}" for d in delays[scenario.name])
        )
    return {
        "database": db.engine.dialect.name,
        "turns": len(rows.rows),
        "first_week_turns": week,
        "seed_s": seeded_s,
        "ordinary_passes": ordinary_passes,
        "ordinary_days": ORDINARY_DAYS,
        "false_alerts": len(ordinary_alerts) + len(surge_false),
        "false_alert_list": ordinary_alerts + surge_false,
        "pass": _spread(pass_ms),
        "refresh_pass": _spread(refresh_ms),
        "scenarios": scenarios,
    }


def measure(workdir: Path | None = None) -> dict[str, Any]:
    """The alert benchmark on SQLite and, when reachable, PostgreSQL."""
    began = time.monotonic()
    settings = Settings(
        _env_file=None,
        alert_webhook_url=None,  # type: ignore[call-arg]
        alert_email_to=[],
        smtp_host=None,
    )
    results: dict[str, Any] = {
        "settings": {
            "alert_min_count": settings.alert_min_count,
            "alert_ratio": settings.alert_ratio,
            "insight_interval_s": settings.insight_interval_s,
        },
        "runs": [],
        "notes": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for kind in ("sqlite", "postgresql"):
            with fresh_database(kind, folder) as db:
                if db is None:
                    results["notes"].append(
                        f"PostgreSQL not reachable at {POSTGRES_URL}: its run was skipped."
                    )
                    continue
                results["runs"].append(run(db, settings))
    results["notes"].append(
        f"Simulated time. Ordinary traffic: {FAQS} FAQ groups and {GAPS} knowledge-gap groups "
        "(Zipf-like rates), plus unclustered questions; Poisson counts per hour with a daily cycle "
        f"and half traffic at weekends. Each surge scenario runs {REPEATS} times at different "
        "hours, as a Poisson process on top of that traffic, with a detection pass every "
        f"{settings.insight_interval_s:g} s; the delay is from the first surge question to the "
        "pass that opened the alert. A gap group's questions also wait for the clusterer (up to "
        "one more pass) in the running app. Passes keep the usual rates for 10 simulated minutes, "
        "as AlertWatcher does; the refresh figures are the passes that re-read the week."
    )
    results["seconds"] = time.monotonic() - began
    return results


def section(results: dict[str, Any]) -> str:
    """The results as markdown (for bench/RESULTS.md)."""
    lines = [
        (
            "| database | scenario | rate | usual/h | detected | median delay (min) | max delay "
            "(min) | window |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for run_ in results["runs"]:
        for s in run_["scenarios"]:
            median = "-" if s["median_min"] is None else f"{s['median_min']:.1f}"
            worst = "-" if s["max_min"] is None else f"{s['max_min']:.1f}"
            lines.append(
                f"| {run_['database']} | {s['scenario']} | {s['rate']} | {s['usual_per_hour']} | "
                f"{s['detected']} | {median} | {worst} | {', '.join(s['windows'])} |"
            )
    header = (
        "| database | turns | passes | pass p50 (ms) | pass p99 (ms) | baseline refresh p50 / p99 "
        "(ms) | false alerts |"
    )
    lines += ["", header, "|---|---|---|---|---|---|---|"]
    for run_ in results["runs"]:
        p, r = run_["pass"], run_["refresh_pass"]
        lines.append(
            f"| {run_['database']} | {run_['turns']} | {p['n']} | {p['p50_ms']:.1f} | "
            f"{p['p99_ms']:.1f} | {r['p50_ms']:.1f} / {r['p99_ms']:.1f} "
            f"(n={r['n']}) | {run_['false_alerts']} (over {run_['ordinary_days']} ordinary "
            "days + the surge replays) |"
        )
    return "\n".join(lines + [""] + [f"- {note}" for note in results["notes"]])


if __name__ == "__main__":
    measured = measure()
    print(section(measured))
    print(json.dumps(measured, indent=1, default=str))
