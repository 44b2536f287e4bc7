"""SVG building blocks for the dashboard's charts: the document, text, a value axis, numbers.

Plain string building: no chart library, no script, no external font (the system UI font),
presentation attributes only (no style elements, which the console's Content-Security-Policy would
refuse), every text escaped. The same data always gives the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

PALETTE = ("#1a4f8b", "#c05621", "#2f855a", "#6b46c1", "#9b2c2c", "#2c7a7b", "#975a16", "#4a5568")
INK, MUTED, GRID, BACKGROUND = "#1b1b1b", "#4a5560", "#dfe3e8", "#ffffff"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
WIDTH, HEIGHT = 640, 300
Number = float | int
Format = Callable[[float], str]


def escape(text: object) -> str:
    """Text safe in SVG content and attribute values."""
    return html.escape(str(text), quote=True)


def coord(value: float) -> str:
    """A coordinate: at most 2 decimals, no trailing zeros (deterministic)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def figure(value: Number) -> str:
    """A figure as shown on a chart: whole numbers with thousands separators, others with 1
    decimal."""
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


def text(
    x: float,
    y: float,
    content: str,
    anchor: str = "start",
    size: int = 12,
    fill: str = INK,
    weight: str = "normal",
) -> str:
    """A `<text>` element at (x, y)."""
    return (
        f'<text x="{coord(x)}" y="{coord(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}" font-weight="{weight}">{escape(content)}</text>'
    )


def document(
    title: str, desc: str, body: list[str], width: int = WIDTH, height: int = HEIGHT
) -> str:
    """A whole chart: named by its `<title>` and `<desc>` (for screen readers), title on top."""
    return (
        "\n".join(
            [
                (
                    f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                    f'viewBox="0 0 {width} {height}" role="img" '
                    'aria-labelledby="chart-title chart-desc" '
                    f'font-family="{escape(FONT)}">'
                ),
                f'<title id="chart-title">{escape(title)}</title>',
                f'<desc id="chart-desc">{escape(desc)}</desc>',
                f'<rect x="0" y="0" width="{width}" height="{height}" fill="{BACKGROUND}"/>',
                text(16, 24, title, size=15, weight="bold"),
                *body,
                "</svg>",
            ]
        )
        + "\n"
    )


def empty(title: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    """A chart that says there is no data for these filters."""
    return document(
        title,
        f"{title}: no data for these filters.",
        [text(width / 2, height / 2, "No data for these filters", "middle", 14, MUTED)],
        width,
        height,
    )


def value_axis(
    left: float,
    top: float,
    right: float,
    bottom: float,
    top_value: float,
    fmt: Format,
) -> list[str]:
    """Horizontal grid lines with their values (0 at the bottom)."""
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = bottom - (bottom - top) * i / 4
        parts.append(
            f'<line x1="{coord(left)}" y1="{coord(y)}" x2="{coord(right)}" y2="{coord(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(text(left - 6, y + 4, fmt(value), "end", 11, MUTED))
    parts.append(
        f'<line x1="{coord(left)}" y1="{coord(bottom)}" x2="{coord(right)}" y2="{coord(bottom)}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    return parts


def label_every(count: int, room: float, label_width: float) -> int:
    """Show every n-th category label so that they do not overlap."""
    return max(1, math.ceil(count * label_width / max(room, 1)))


def describe(title: str, labels: Sequence[str], values: Sequence[Number], fmt: Format) -> str:
    """The `<desc>` of a chart: its title and its first 40 figures."""
    shown = "; ".join(
        f"{label}: {fmt(value)}" for label, value in list(zip(labels, values, strict=True))[:40]
    )
    more = f" (and {len(labels) - 40} more)" if len(labels) > 40 else ""
    return f"{title}. {shown}{more}."
