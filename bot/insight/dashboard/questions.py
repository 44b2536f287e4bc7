"""The dashboard's question sections: what the bot did, the top questions, and helpfulness."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.insight.dashboard.filters import Filters
from bot.insight.dashboard.names import Names
from bot.insight.dashboard.queries import TOP, FeedbackRow
from bot.insight.dashboard.table import Table, local, mean, rate, table
from bot.insight.recorder import OUTCOMES

Votes = tuple[str | None, str | None, str, int, int]  # (faq, agency, channel, n, value sum)
_FEEDBACK_COLUMNS = [
    ("votes", "int"),
    ("yes", "int"),
    ("helpfulness", "rate"),
    ("ratings", "int"),
    ("satisfaction", "mean"),
]


def outcomes_table(outcomes: Counter[str]) -> Table:
    """Turns per outcome, the known outcomes first."""
    turns = sum(outcomes.values())
    return table(
        "What the bot did",
        [("outcome", "text"), ("turns", "int"), ("share", "rate")],
        [
            [o, outcomes.get(o, 0), rate(outcomes.get(o, 0), turns)]
            for o in [*OUTCOMES, *sorted(set(outcomes) - set(OUTCOMES))]
        ],
    )


def top_questions_table(answered: list[tuple[str, str | None, int]], names: Names) -> Table:
    """The most answered FAQs."""
    return table(
        "Top answered questions",
        [
            ("rank", "int"),
            ("faq", "text"),
            ("question", "text"),
            ("agency", "text"),
            ("answers", "int"),
        ],
        [
            [i + 1, faq, names.question(faq), names.faq_agency(faq, agency or ""), n]
            for i, (faq, agency, n) in enumerate(answered[:TOP])
        ],
    )


def top_unanswered_table(unanswered: list[tuple[str, int, dt.datetime]], zone: ZoneInfo) -> Table:
    """The most asked questions the bot could not answer."""
    return table(
        "Top unanswered questions",
        [("rank", "int"), ("question", "text"), ("times asked", "int"), ("last asked", "datetime")],
        [[i + 1, q, n, local(at, zone)] for i, (q, n, at) in enumerate(unanswered)],
    )


def votes(feedback: list[FeedbackRow], kind: str) -> list[Votes]:
    """The feedback rows of one kind ("helpful" or "satisfaction"), without their kind."""
    return [(faq, ag, ch, n, s) for k, faq, ag, ch, n, s in feedback if k == kind]


def _breakdown(
    helpful: Sequence[Votes], rated: Sequence[Votes], index: int
) -> dict[Any, list[int]]:
    """[votes, yes, ratings, rating sum] per FAQ (0), agency (1) or channel (2)."""
    found: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for rows, offset in ((helpful, 0), (rated, 2)):
        for row in rows:
            if index == 0 and row[0] is None:
                continue
            found[row[index]][offset] += row[3]
            found[row[index]][offset + 1] += row[4]
    return found


def _figures(v: list[int]) -> list[Any]:
    return [v[0], v[1], rate(v[1], v[0]), v[2], mean(v[3], v[2])]


def helpfulness_tables(
    feedback: list[FeedbackRow], filters: Filters, names: Names
) -> dict[str, Table]:
    """Helpfulness and satisfaction by FAQ, agency and channel, and the least helpful FAQs."""
    helpful, rated = votes(feedback, "helpful"), votes(feedback, "satisfaction")
    by_faq = _breakdown(helpful, rated, 0)
    worst = sorted(
        ((faq, v) for faq, v in by_faq.items() if v[0] >= filters.min_n),
        key=lambda kv: (kv[1][1] / kv[1][0], -kv[1][0], kv[0]),
    )
    return {
        "helpfulness-by-faq": table(
            "Helpfulness and satisfaction by FAQ",
            [("faq", "text"), ("question", "text"), ("agency", "text"), *_FEEDBACK_COLUMNS],
            [
                [faq, names.question(faq), names.faq_agency(faq), *_figures(v)]
                for faq, v in sorted(by_faq.items(), key=lambda kv: (-kv[1][0], kv[0]))
            ],
        ),
        "helpfulness-by-agency": table(
            "Helpfulness and satisfaction by agency",
            [("agency", "text"), ("name", "text"), *_FEEDBACK_COLUMNS],
            [
                [ag or "", names.agency(ag), *_figures(v)]
                for ag, v in sorted(
                    _breakdown(helpful, rated, 1).items(), key=lambda kv: kv[0] or ""
                )
            ],
        ),
        "helpfulness-by-channel": table(
            "Helpfulness and satisfaction by channel",
            [("channel", "text"), *_FEEDBACK_COLUMNS],
            [[ch, *_figures(v)] for ch, v in sorted(_breakdown(helpful, rated, 2).items())],
        ),
        "worst-helpfulness": table(
            f"Least helpful FAQs (at least {filters.min_n} votes)",
            [
                ("faq", "text"),
                ("question", "text"),
                ("agency", "text"),
                ("votes", "int"),
                ("yes", "int"),
                ("helpfulness", "rate"),
            ],
            [
                [faq, names.question(faq), names.faq_agency(faq), v[0], v[1], rate(v[1], v[0])]
                for faq, v in worst[:TOP]
            ],
        ),
    }
