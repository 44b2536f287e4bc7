"""The dashboard's charts as SVG, drawn on the server from the dashboard's tables.

Plain string building: no chart library, no script, no external font (the system UI font), presentation
attributes only (no style elements, which the console's Content-Security-Policy would refuse), every text
escaped. Each chart names itself in `<title>` and `<desc>` (for screen readers), each bar or point carries
its figure in its own `<title>` (a tooltip). The same data always gives the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

PALETTE = ("#1a4f8b", "#c05621", "#2f855a", "#6b46c1", "#9b2c2c", "#2c7a7b", "#975a16", "#4a5568")
INK, MUTED, GRID, BACKGROUND = "#1b1b1b", "#4a5560", "#dfe3e8", "#ffffff"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
WIDTH, HEIGHT = 640, 300
Number = float | int


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate: at most 2 decimals, no trailing zeros (deterministic)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def figure(value: Number) -> str:
    """A figure as shown on a chart: whole numbers with thousands separators, others with 1 decimal."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at least `value` (the top of the value axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return step * power
    return 10 * power


def _text(
    x: float,
    y: float,
    content: str,
    anchor: str = "start",
    size: int = 12,
    fill: str = INK,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
        f'font-weight="{weight}">{_e(content)}</text>'
    )


def _svg(title: str, desc: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        "\n".join(
            [
                (
                    f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                    f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc" '
                    f'font-family="{_e(FONT)}">'
                ),
                f'<title id="chart-title">{_e(title)}</title>',
                f'<desc id="chart-desc">{_e(desc)}</desc>',
                f'<rect x="0" y="0" width="{width}" height="{height}" fill="{BACKGROUND}"/>',
                _text(16, 24, title, size=15, weight="bold"),
                *body,
                "</svg>",
            ]
        )
        + "\n"
    )


def _empty(title: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return _svg(
        title,
        f"{title}: no data for these filters.",
        [_text(width / 2, height / 2, "No data for these filters", "middle", 14, MUTED)],
        width,
        height,
    )


def _value_axis(
    left: float,
    top: float,
    right: float,
    bottom: float,
    top_value: float,
    fmt: Callable[[float], str],
) -> list[str]:
    """Horizontal grid lines with their values (0 at the bottom)."""
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = bottom - (bottom - top) * i / 4
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, fmt(value), "end", 11, MUTED))
    parts.append(
        f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(right)}" y2="{_n(bottom)}" stroke="{MUTED}" '
        'stroke-width="1"/>'
    )
    return parts


def _label_every(count: int, room: float, label_width: float) -> int:
    """Show every n-th category label so that they do not overlap."""
    return max(1, math.ceil(count * label_width / max(room, 1)))


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    desc: str = "",
    fmt: Callable[[float], str] = figure,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """Vertical bars, one per label."""
    if not labels or not any(values):
        return _empty(title, width, height)
    left, top, right, bottom = 56.0, 44.0, width - 16.0, height - 36.0
    top_value = nice_ceiling(max(values))
    slot = (right - left) / len(labels)
    bar = max(1.0, slot * 0.7)
    body = _value_axis(left, top, right, bottom, top_value, fmt)
    every = _label_every(
        len(labels), right - left, 7 * max(len(str(label)) for label in labels) + 8
    )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (bottom - top) * value / top_value
        x = left + slot * i + (slot - bar) / 2
        body.append(
            f'<rect x="{_n(x)}" y="{_n(bottom - h)}" width="{_n(bar)}" height="{_n(h)}" fill="{PALETTE[0]}">'
            f"<title>{_e(label)}: {_e(fmt(value))}</title></rect>"
        )
        if i % every == 0:
            body.append(_text(x + bar / 2, bottom + 16, str(label), "middle", 11, MUTED))
    return _svg(title, desc or _describe(title, labels, values, fmt), body, width, height)


def hbar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    desc: str = "",
    fmt: Callable[[float], str] = figure,
    top_value: float | None = None,
    width: int = WIDTH,
) -> str:
    """Horizontal bars, one per label (long labels fit on the left)."""
    height = max(120, 56 + 30 * len(labels))
    if not labels or not any(values):
        return _empty(title, width, height)
    label_room = min(240.0, 12 + 7 * max(len(str(label)) for label in labels))
    left, top, right = label_room, 44.0, width - 70.0
    top_value = top_value or nice_ceiling(max(values))
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + 30 * i
        w = (right - left) * value / top_value
        shown = str(label) if len(str(label)) <= 32 else str(label)[:31] + "…"
        body.append(_text(left - 8, y + 16, shown, "end", 12, INK))
        body.append(
            f'<rect x="{_n(left)}" y="{_n(y + 4)}" width="{_n(w)}" height="18" '
            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{_e(label)}: {_e(fmt(value))}</title></rect>'
        )
        body.append(_text(left + w + 6, y + 17, fmt(value), "start", 12, INK))
    return _svg(title, desc or _describe(title, labels, values, fmt), body, width, height)


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    desc: str = "",
    fmt: Callable[[float], str] = figure,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """A line over the labels (days), with a dot per point."""
    if not labels or not any(values):
        return _empty(title, width, height)
    left, top, right, bottom = 56.0, 44.0, width - 24.0, height - 36.0
    top_value = nice_ceiling(max(values))
    step = (right - left) / max(1, len(labels) - 1)
    points = [
        (
            left + (step * i if len(labels) > 1 else (right - left) / 2),
            bottom - (bottom - top) * v / top_value,
        )
        for i, v in enumerate(values)
    ]
    body = _value_axis(left, top, right, bottom, top_value, fmt)
    body.append(
        f'<polyline points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in points)}" fill="none" '
        f'stroke="{PALETTE[0]}" stroke-width="2" stroke-linejoin="round"/>'
    )
    every = _label_every(
        len(labels), right - left, 7 * max(len(str(label)) for label in labels) + 10
    )
    for i, ((x, y), label, value) in enumerate(zip(points, labels, values, strict=True)):
        body.append(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{PALETTE[0]}"><title>{_e(label)}: '
            f"{_e(fmt(value))}</title></circle>"
        )
        if i % every == 0:
            body.append(_text(x, bottom + 16, str(label), "middle", 11, MUTED))
    return _svg(title, desc or _describe(title, labels, values, fmt), body, width, height)


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    desc: str = "",
    fmt: Callable[[float], str] = figure,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """Bars per label, each stacked from the series (e.g. days × channels), with a legend."""
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    if not labels or not series or not any(totals):
        return _empty(title, width, height)
    left, top, right, bottom = 56.0, 64.0, width - 16.0, height - 36.0
    top_value = nice_ceiling(max(totals))
    slot = (right - left) / len(labels)
    bar = max(1.0, slot * 0.7)
    body = _value_axis(left, top, right, bottom, top_value, fmt)
    x_legend = 16.0
    for k, (name, _) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        body.append(f'<rect x="{_n(x_legend)}" y="36" width="12" height="12" fill="{colour}"/>')
        body.append(_text(x_legend + 16, 46, name, "start", 12, INK))
        x_legend += 28 + 7 * len(name)
    every = _label_every(
        len(labels), right - left, 7 * max(len(str(label)) for label in labels) + 8
    )
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar) / 2
        y = bottom
        for k, (name, values) in enumerate(series):
            h = (bottom - top) * values[i] / top_value
            if h <= 0:
                continue
            y -= h
            body.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar)}" height="{_n(h)}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{_e(label)}, {_e(name)}: {_e(fmt(values[i]))}'
                "</title></rect>"
            )
        if i % every == 0:
            body.append(_text(x + bar / 2, bottom + 16, str(label), "middle", 11, MUTED))
    if not desc:
        desc = (
            f"{title}. "
            + "; ".join(f"{name}: {fmt(sum(values))} in all" for name, values in series)
            + "."
        )
    return _svg(title, desc, body, width, height)


def _describe(
    title: str, labels: Sequence[str], values: Sequence[Number], fmt: Callable[[float], str]
) -> str:
    shown = "; ".join(
        f"{label}: {fmt(value)}" for label, value in list(zip(labels, values, strict=True))[:40]
    )
    more = f" (and {len(labels) - 40} more)" if len(labels) > 40 else ""
    return f"{title}. {shown}{more}."


def _percent(value: float) -> str:
    return f"{value:.1f} %"


# -- the dashboard's charts ---------------------------------------------------------------------------------
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
