"""The kinds of chart the dashboard draws: vertical bars, horizontal bars, a line, stacked bars.

Each bar or point carries its figure in its own `<title>` (a tooltip).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.insight.dashboard.svg import (
    HEIGHT,
    INK,
    MUTED,
    PALETTE,
    WIDTH,
    Format,
    Number,
    coord,
    describe,
    document,
    empty,
    escape,
    figure,
    label_every,
    nice_ceiling,
    text,
    value_axis,
)


def _widest(labels: Sequence[str], padding: int) -> int:
    """Room for the longest label, in pixels (about 7 a character)."""
    return 7 * max(len(str(label)) for label in labels) + padding


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    desc: str = "",
    fmt: Format = figure,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """Vertical bars, one per label."""
    if not labels or not any(values):
        return empty(title, width, height)
    left, top, right, bottom = 56.0, 44.0, width - 16.0, height - 36.0
    top_value = nice_ceiling(max(values))
    slot = (right - left) / len(labels)
    bar = max(1.0, slot * 0.7)
    body = value_axis(left, top, right, bottom, top_value, fmt)
    every = label_every(len(labels), right - left, _widest(labels, 8))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (bottom - top) * value / top_value
        x = left + slot * i + (slot - bar) / 2
        body.append(
            f'<rect x="{coord(x)}" y="{coord(bottom - h)}" width="{coord(bar)}" '
            f'height="{coord(h)}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
        )
        if i % every == 0:
            body.append(text(x + bar / 2, bottom + 16, str(label), "middle", 11, MUTED))
    return document(title, desc or describe(title, labels, values, fmt), body, width, height)


def hbar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    desc: str = "",
    fmt: Format = figure,
    top_value: float | None = None,
    width: int = WIDTH,
) -> str:
    """Horizontal bars, one per label (long labels fit on the left)."""
    height = max(120, 56 + 30 * len(labels))
    if not labels or not any(values):
        return empty(title, width, height)
    label_room = min(240.0, float(_widest(labels, 12)))
    left, top, right = label_room, 44.0, width - 70.0
    top_value = top_value or nice_ceiling(max(values))
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + 30 * i
        w = (right - left) * value / top_value
        shown = str(label) if len(str(label)) <= 32 else str(label)[:31] + "…"
        body.append(text(left - 8, y + 16, shown, "end", 12, INK))
        body.append(
            f'<rect x="{coord(left)}" y="{coord(y + 4)}" width="{coord(w)}" height="18" '
            f'fill="{PALETTE[i % len(PALETTE)]}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
        )
        body.append(text(left + w + 6, y + 17, fmt(value), "start", 12, INK))
    return document(title, desc or describe(title, labels, values, fmt), body, width, height)


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    desc: str = "",
    fmt: Format = figure,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """A line over the labels (days), with a dot per point."""
    if not labels or not any(values):
        return empty(title, width, height)
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
    body = value_axis(left, top, right, bottom, top_value, fmt)
    body.append(
        f'<polyline points="{" ".join(f"{coord(x)},{coord(y)}" for x, y in points)}" fill="none" '
        f'stroke="{PALETTE[0]}" stroke-width="2" stroke-linejoin="round"/>'
    )
    every = label_every(len(labels), right - left, _widest(labels, 10))
    for i, ((x, y), label, value) in enumerate(zip(points, labels, values, strict=True)):
        body.append(
            f'<circle cx="{coord(x)}" cy="{coord(y)}" r="3" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></circle>"
        )
        if i % every == 0:
            body.append(text(x, bottom + 16, str(label), "middle", 11, MUTED))
    return document(title, desc or describe(title, labels, values, fmt), body, width, height)


def _legend(series: Sequence[tuple[str, Sequence[Number]]]) -> list[str]:
    """A colour swatch and the name of each series, in a row under the title."""
    parts, x = [], 16.0
    for k, (name, _) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        parts.append(f'<rect x="{coord(x)}" y="36" width="12" height="12" fill="{colour}"/>')
        parts.append(text(x + 16, 46, name, "start", 12, INK))
        x += 28 + 7 * len(name)
    return parts


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    desc: str = "",
    fmt: Format = figure,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """Bars per label, each stacked from the series (e.g. days × channels), with a legend."""
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    if not labels or not series or not any(totals):
        return empty(title, width, height)
    left, top, right, bottom = 56.0, 64.0, width - 16.0, height - 36.0
    top_value = nice_ceiling(max(totals))
    slot = (right - left) / len(labels)
    bar = max(1.0, slot * 0.7)
    body = value_axis(left, top, right, bottom, top_value, fmt) + _legend(series)
    every = label_every(len(labels), right - left, _widest(labels, 8))
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar) / 2
        y = bottom
        for k, (name, values) in enumerate(series):
            h = (bottom - top) * values[i] / top_value
            if h <= 0:
                continue
            y -= h
            body.append(
                f'<rect x="{coord(x)}" y="{coord(y)}" width="{coord(bar)}" height="{coord(h)}" '
                f'fill="{PALETTE[k % len(PALETTE)]}">'
                f"<title>{escape(label)}, {escape(name)}: {escape(fmt(values[i]))}</title></rect>"
            )
        if i % every == 0:
            body.append(text(x + bar / 2, bottom + 16, str(label), "middle", 11, MUTED))
    if not desc:
        desc = (
            f"{title}. "
            + "; ".join(f"{name}: {fmt(sum(values))} in all" for name, values in series)
            + "."
        )
    return document(title, desc, body, width, height)
