"""Emerging-issue alerts: a group of questions growing much faster than usual (a rumour, an outage,
a new rule), shown on the dashboard and sent to a webhook and by e-mail.

The package follows the steps of a pass, each module describing its own part:
- `rule`: the usual rate of a group and the surge threshold (statistics only);
- `counting`: the groups and their counts in SQL (citizens, not messages);
- `detection`: one pass, opening and closing alerts (one alert per surge, safe across replicas);
- `message`, `delivery`: what an alert says, and its delivery by webhook and e-mail with retries;
- `watcher`: the pass after pass in the running app.
"""

from bot.insight.alerts.counting import EXAMPLES, IN_CHUNK, UNANSWERED, group_rates
from bot.insight.alerts.delivery import MAX_ATTEMPTS, RETRY_HORIZON, SENDING_STALE, deliver
from bot.insight.alerts.detection import detect, recent_alerts
from bot.insight.alerts.message import (
    TIMEOUT_S,
    email_configured,
    email_message,
    payload,
    send_email,
    send_webhook,
)
from bot.insight.alerts.rule import (
    ALPHA,
    BASELINE_DAYS,
    BASELINE_STEP,
    DAY,
    FLOOR_PER_HOUR,
    HOUR,
    MIN_HISTORY,
    Baselines,
    GroupRate,
    anchor_of,
    binomial_tail,
    chance,
    threshold,
)
from bot.insight.alerts.watcher import AlertWatcher

__all__ = [
    "ALPHA",
    "BASELINE_DAYS",
    "BASELINE_STEP",
    "DAY",
    "EXAMPLES",
    "FLOOR_PER_HOUR",
    "HOUR",
    "IN_CHUNK",
    "MAX_ATTEMPTS",
    "MIN_HISTORY",
    "RETRY_HORIZON",
    "SENDING_STALE",
    "TIMEOUT_S",
    "UNANSWERED",
    "AlertWatcher",
    "Baselines",
    "GroupRate",
    "anchor_of",
    "binomial_tail",
    "chance",
    "deliver",
    "detect",
    "email_configured",
    "email_message",
    "group_rates",
    "payload",
    "recent_alerts",
    "send_email",
    "send_webhook",
    "threshold",
]
