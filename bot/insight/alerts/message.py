"""What an alert says and how it is sent: the webhook's JSON and the e-mail, one try each."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import quote

import httpx

from bot import mail
from bot.clock import aware
from bot.settings import Settings
from bot.storage.models import Alert

TIMEOUT_S = 10.0


def email_configured(settings: Settings) -> bool:
    """Whether alerts are e-mailed (an SMTP host and at least one address)."""
    return bool(settings.smtp_host and settings.alert_email_to)


def one_line(text: str, limit: int) -> str:
    """One line (no header injection from a citizen's question), at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def respond(alert: Alert, settings: Settings) -> dict[str, str]:
    """Where staff act on an alert: draft or edit the correcting FAQ in the knowledge studio,
    broadcast it, and record the false claim behind the surge (docs/outreach.md)."""
    base = settings.public_base_url.rstrip("/")
    kind, _, key = alert.group_key.partition(":")
    studio = f"{base}/console/studio?{'gap' if kind == 'gap' else 'faq'}={quote(key)}"
    return {
        "publish_correction": studio,
        "broadcast_it": f"{base}/console/outreach",
        "record_claim": f'govbot claims add --alert {alert.id} --text "..." --by YOU',
    }


def payload(alert: Alert, settings: Settings) -> dict[str, Any]:
    """The webhook's JSON body."""
    return {
        "respond": respond(alert, settings),
        "alert": {
            "id": alert.id,
            "group_key": alert.group_key,
            "label": alert.label,
            "window": alert.window,
            "count": alert.count,
            "expected": round(alert.expected, 2),
            "examples": list(alert.examples or []),
            "at": aware(alert.at).isoformat(),
        },
    }


def email_message(alert: Alert, settings: Settings) -> EmailMessage:
    """The plain-text e-mail of an alert."""
    window = "hour" if alert.window == "hour" else "24 hours"
    asked = f"{alert.count} citizens asked about this in the last {window}"
    lines = [
        f"Emerging issue: {one_line(alert.label, 500)}",
        "",
        f"{asked}; usually about {alert.expected:.1f}.",
        f"Group: {alert.group_key}",
        f"Detected: {aware(alert.at).strftime('%Y-%m-%d %H:%M UTC')} (alert #{alert.id})",
        "",
        "Example questions (redacted):",
        *(f"- {one_line(q, 300)}" for q in alert.examples or []),
        "",
        "If it is a false claim going around:",
        *(
            f"- {action.replace('_', ' ')}: {link}"
            for action, link in respond(alert, settings).items()
        ),
        "",
        "No further e-mail is sent for this surge; the alert closes when the group calms down.",
    ]
    message = EmailMessage()
    message["Subject"] = f"[govbot] Emerging issue: {one_line(alert.label, 120)}"
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(settings.alert_email_to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(
        "govbot-alert", settings.alert_email_from.rpartition("@")[2] or None
    )
    message.set_content("\n".join(lines) + "\n")
    return message


def send_webhook(alert: Alert, settings: Settings) -> None:
    """POST the alert; raises on a transport error or a non-2xx answer."""
    assert settings.alert_webhook_url
    response = httpx.post(
        settings.alert_webhook_url, json=payload(alert, settings), timeout=TIMEOUT_S
    )
    if not response.is_success:
        raise RuntimeError(f"HTTP {response.status_code}")


def send_email(alert: Alert, settings: Settings) -> None:
    """Send the alert's e-mail to every ALERT_EMAIL_TO address; raises unless every address was
    accepted."""
    mail.send(email_message(alert, settings), settings, list(settings.alert_email_to))
