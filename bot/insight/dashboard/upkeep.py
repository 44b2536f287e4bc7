"""The dashboard's upkeep sections: knowledge gaps, stale FAQs, emerging issues, false claims."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import hours_between
from bot.insight.dashboard.filters import Filters
from bot.insight.dashboard.gap_queries import EXAMPLES, GAPS_LIMIT
from bot.insight.dashboard.names import Names
from bot.insight.dashboard.table import Table, local, rate, table


def _answered_by(answer: dict[str, Any] | None) -> str:
    if not answer:
        return ""
    return f"{answer['faq_id']} ({answer['state']})"


def gaps_table(gaps: list[dict[str, Any]], gap_groups: int) -> Table:
    """The largest knowledge-gap groups, with their trend and example questions."""
    return table(
        "Knowledge gaps",
        [
            ("group", "int"),
            ("label", "text"),
            ("language", "text"),
            ("questions", "int"),
            ("last 7 days", "int"),
            ("previous 7 days", "int"),
            ("trend", "text"),
            ("examples", "text"),
            ("answered by", "text"),
            ("asked 7 days before the answer", "int"),
            ("asked 7 days after", "int"),
        ],
        [
            [
                g["id"],
                g["label"],
                g["language"] or "",
                g["size"],
                g["last_7"],
                g["previous_7"],
                g["trend"],
                " | ".join(g["examples"]),
                _answered_by(g["answer"]),
                (g["answer"] or {}).get("before_7"),
                (g["answer"] or {}).get("after_7"),
            ]
            for g in gaps
        ],
        f"Largest {GAPS_LIMIT} of {gap_groups} groups." if gap_groups > GAPS_LIMIT else "",
    )


def stale_agencies(
    names: Names, filters: Filters, today: dt.date, after_days: int
) -> list[dict[str, Any]]:
    """Per agency (sorted), its FAQs matching the filters and those not reviewed for over
    `after_days` days (never reviewed first, then the longest ago)."""
    cutoff = today - dt.timedelta(days=after_days)
    per_agency: dict[str, dict[str, Any]] = {}
    for faq in names.bank.faqs:
        if (filters.agency and faq.agency != filters.agency) or (
            filters.language and faq.language != filters.language
        ):
            continue
        entry = per_agency.setdefault(
            faq.agency,
            {"agency": faq.agency, "name": names.agency(faq.agency), "faqs": 0, "stale": []},
        )
        entry["faqs"] += 1
        if faq.last_reviewed is None or faq.last_reviewed < cutoff:
            entry["stale"].append(
                {
                    "faq": faq.id,
                    "language": faq.language,
                    "question": faq.question,
                    "last_reviewed": faq.last_reviewed.isoformat() if faq.last_reviewed else None,
                    "days": (today - faq.last_reviewed).days if faq.last_reviewed else None,
                }
            )
    found = [per_agency[a] for a in sorted(per_agency)]
    for entry in found:
        entry["stale"].sort(key=lambda s: (s["days"] is not None, -(s["days"] or 0), s["faq"]))
    return found


def stale_tables(agencies: list[dict[str, Any]], after_days: int) -> dict[str, Table]:
    """The stale FAQs, and their share per agency."""
    return {
        "stale-faqs": table(
            f"FAQs not reviewed for over {after_days} days",
            [
                ("agency", "text"),
                ("faq", "text"),
                ("language", "text"),
                ("question", "text"),
                ("last reviewed", "date"),
                ("days since review", "int"),
            ],
            [
                [e["agency"], s["faq"], s["language"], s["question"], s["last_reviewed"], s["days"]]
                for e in agencies
                for s in e["stale"]
            ],
        ),
        "stale-by-agency": table(
            "Stale FAQs by agency",
            [
                ("agency", "text"),
                ("name", "text"),
                ("faqs", "int"),
                ("stale", "int"),
                ("share", "rate"),
            ],
            [
                [
                    e["agency"],
                    e["name"],
                    e["faqs"],
                    len(e["stale"]),
                    rate(len(e["stale"]), e["faqs"]),
                ]
                for e in agencies
            ],
        ),
    }


def alert_rows(alerts: list[Any], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The emerging-issue alerts as the page lists them, times in the display zone."""
    return [
        {
            "id": a.id,
            "at": local(a.at, zone),
            "status": "open" if a.ended_at is None else "ended",
            "label": a.label,
            "group": a.group_key,
            "window": a.window,
            "count": a.count,
            "expected": round(float(a.expected), 1),
            "examples": list(a.examples or [])[:EXAMPLES],
            "ended_at": local(a.ended_at, zone),
        }
        for a in alerts
    ]


def alerts_table(rows: list[dict[str, Any]]) -> Table:
    """The emerging-issue alerts, open and recent."""
    return table(
        "Emerging issues",
        [
            ("raised", "datetime"),
            ("status", "text"),
            ("label", "text"),
            ("group", "text"),
            ("window", "text"),
            ("count", "int"),
            ("expected", "mean"),
            ("examples", "text"),
            ("ended", "datetime"),
        ],
        [
            [
                a["at"],
                a["status"],
                a["label"],
                a["group"],
                a["window"],
                a["count"],
                a["expected"],
                " | ".join(str(e) for e in a["examples"]),
                a["ended_at"],
            ]
            for a in rows
        ],
    )


def claims_table(claims: list[Any], zone: ZoneInfo) -> Table:
    """The misinformation register: from the alert to the correction to its broadcast."""
    return table(
        "False claims: alert to correction to broadcast",
        [
            ("detected", "datetime"),
            ("claim", "text"),
            ("agency", "text"),
            ("correction FAQ", "text"),
            ("hours to correction", "mean"),
            ("broadcast", "text"),
            ("hours to broadcast", "mean"),
            ("hours in all", "mean"),
        ],
        [
            [
                local(c.detected_at, zone),
                c.claim,
                c.agency or "",
                c.faq_id or "",
                hours_between(c.detected_at, c.corrected_at),
                f"#{c.broadcast_id}" if c.broadcast_id else "",
                hours_between(c.corrected_at, c.broadcast_at),
                hours_between(c.detected_at, c.broadcast_at),
            ]
            for c in claims
        ],
        note="Recorded with `govbot claims`; times from the alert (or the record), the "
        "correction's publication and the broadcast's approval.",
    )
