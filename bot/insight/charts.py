"""The dashboard's charts as SVG, drawn on the server from the dashboard's tables.

Each chart names itself in `<title>` and `<desc>` (for screen readers); the drawing, with no chart
library, is in bot/insight/dashboard/svg.py and plots.py. The same data always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.insight.dashboard.plots import bar_chart, hbar_chart, line_chart, stacked_bars
from bot.insight.dashboard.svg import figure, nice_ceiling

__all__ = [
    "CHARTS",
    "bar_chart",
    "figure",
    "hbar_chart",
    "line_chart",
    "nice_ceiling",
    "render",
    "stacked_bars",
]


def _percent(value: float) -> str:
    return f"{value:.1f} %"


def _rows(data: Mapping[str, Any], table: str) -> list[list[Any]]:
    return list(data["tables"][table]["rows"])


def _volume_by_hour(data: Mapping[str, Any]) -> str:
    rows = _rows(data, "volume-by-hour")
    zone = data["filters"]["tz"]
    return bar_chart(
        f"Messages by hour of day ({zone})", [f"{h:02d}" for h, _ in rows], [n for _, n in rows]
    )


def _volume_by_day(data: Mapping[str, Any]) -> str:
    rows = _rows(data, "volume-by-day")
    return line_chart("Messages per day", [r[0][5:] for r in rows], [r[1] for r in rows])


def _volume_by_channel(data: Mapping[str, Any]) -> str:
    table = data["tables"]["volume-by-day"]
    channels = table["columns"][2:]
    series = [
        (channel, [row[2 + k] for row in table["rows"]]) for k, channel in enumerate(channels)
    ]
    return stacked_bars("Messages per day by channel", [r[0][5:] for r in table["rows"]], series)


def _outcomes(data: Mapping[str, Any]) -> str:
    rows = _rows(data, "outcomes")
    return hbar_chart(
        "What the bot did with each question",
        [r[0].replace("_", " ") for r in rows],
        [r[1] for r in rows],
    )


def _handoff_reasons(data: Mapping[str, Any]) -> str:
    rows = _rows(data, "handoff-reasons")
    return hbar_chart(
        "Hand-off reasons", [r[0].replace("_", " ") for r in rows], [r[1] for r in rows]
    )


def _helpfulness_by_agency(data: Mapping[str, Any]) -> str:
    rows = [r for r in _rows(data, "helpfulness-by-agency") if r[4] is not None]
    return hbar_chart(
        "Helpfulness by agency (share of yes)",
        [f"{r[1]} (n={r[2]})" for r in rows],
        [round(r[4] * 100, 1) for r in rows],
        fmt=_percent,
        top_value=100.0,
    )


CHARTS: dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = {
    "volume-by-hour": ("Bar chart of messages by hour of day", _volume_by_hour),
    "volume-by-day": ("Line chart of messages per day", _volume_by_day),
    "volume-by-channel": ("Stacked bar chart of messages per day by channel", _volume_by_channel),
    "outcomes": ("Bar chart of what the bot did with each question", _outcomes),
    "handoff-reasons": ("Bar chart of hand-off reasons", _handoff_reasons),
    "helpfulness-by-agency": ("Bar chart of helpfulness by agency", _helpfulness_by_agency),
}


def render(name: str, data: Mapping[str, Any]) -> str:
    """The chart `name` (a key of CHARTS) of a dashboard result; KeyError for an unknown name."""
    return CHARTS[name][1](data)
