"""The customer-experience dashboard's figures, computed from the database in a few aggregate
queries.

`Filters.parse` reads the query string (a bad value raises `FilterError`, answered 422); `compute`
returns every figure and table as plain data (blocking: run it in a thread); `tables` picks out the
tables, which the page shows, the charts are drawn from and the CSV export writes.

Definitions (also on the page):

- Period: from 00:00 of `from` to 24:00 of `to`, both in the display time zone `tz` (default UTC).
- Conversation: a conversation id with at least one turn in the period (matching the filters).
  Contained: none of its hand-offs was enqueued in the period. Containment rate = contained /
  conversations; hand-off rate = conversations with a hand-off / conversations.
- Unanswered: a turn where the bot gave no answer (outcome clarify, no_answer or handoff), the turns
  that are grouped into knowledge gaps.
- Helpfulness: share of "yes" among "did this help?" votes; satisfaction: mean 1-5 rating after an
  agent.
- Median wait: enqueued → assigned; median handling: assigned → ended, resolved hand-offs only (the
  middle value, or the mean of the two middle ones).
- Filters apply wherever the row has the dimension: channel everywhere, agency and language on
  turns, feedback and FAQs; a hand-off's agency is that of its queue. Messages have neither agency
  nor language, alerts none of them.

The modules: `filters` (what is shown), `scope`, `buckets`, `queries` and `gap_queries` (the SQL),
`traffic`, `questions` and `upkeep` (the sections, each table by its own function), `report`
(`compute`), `export` (CSV), `svg` and `plots` (the drawing behind bot/insight/charts.py).
"""

from bot.insight.dashboard.buckets import bucket_start, seconds_between, utc_bucket
from bot.insight.dashboard.directory import QueueDirectory, QueueLike
from bot.insight.dashboard.export import TABLES, csv_text, tables
from bot.insight.dashboard.filters import DEFAULT_DAYS, MAX_DAYS, FilterError, Filters
from bot.insight.dashboard.report import compute
from bot.insight.dashboard.table import Table

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "TABLES",
    "FilterError",
    "Filters",
    "QueueDirectory",
    "QueueLike",
    "Table",
    "bucket_start",
    "compute",
    "csv_text",
    "seconds_between",
    "tables",
    "utc_bucket",
]
