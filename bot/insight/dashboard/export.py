"""The dashboard's tables for export: their names, and each as CSV safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping
from typing import Any

from bot.insight.dashboard.table import Table

# Every table `compute` returns, in the page's order (the names of the CSV exports).
TABLES = (
    "summary",
    "containment-by-channel",
    "handoff-reasons",
    "handoffs-by-queue",
    "top-questions",
    "top-unanswered",
    "worst-helpfulness",
    "helpfulness-by-faq",
    "helpfulness-by-agency",
    "helpfulness-by-channel",
    "outcomes",
    "volume-by-channel",
    "volume-by-day",
    "volume-by-hour",
    "knowledge-gaps",
    "stale-faqs",
    "stale-by-agency",
    "alerts",
    "claims",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet may skip, or split a cell on, before it reads a formula: blanks, quotes
# and separators (";" is the list separator in many locales, "|" and "," in others).
_LEADING = " \t\r\n\"';,|\u00a0\u3000"


def tables(data: Mapping[str, Any]) -> dict[str, Table]:
    """The tables of a `compute` result, by name (what the CSV export offers)."""
    return dict(data["tables"])


def formula_like(text: str) -> bool:
    """Whether a spreadsheet might read `text` as a formula: it starts with = + - @ (or a tab or
    carriage return), also after separators or blanks, and also in their full-width forms
    (＝＋－＠, which NFKC folds to the ASCII ones)."""
    folded = unicodedata.normalize("NFKC", text)
    return text.startswith(_FORMULA_START) or folded.lstrip(_LEADING).startswith(_FORMULA_START)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and formula_like(value):
        return "'" + value  # a spreadsheet would run it as a formula (CSV injection)
    return value


def csv_text(table: Table) -> str:
    """A table as CSV (header row first); text that a spreadsheet would read as a formula is quoted
    with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(c) for c in table["columns"]])
    for row in table["rows"]:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()
