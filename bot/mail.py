"""Sending one e-mail through the configured SMTP server (SMTP_HOST, STARTTLS or implicit TLS on
465, optional login): the alerts and the studio's stale-FAQ reminders both go out this way."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from bot.settings import Settings

TIMEOUT_S = 10.0


def send(message: EmailMessage, settings: Settings, to: list[str]) -> None:
    """Send `message` to `to`; raises unless every address was accepted."""
    assert settings.smtp_host
    if settings.smtp_port == 465:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=TIMEOUT_S,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with smtp:
        if settings.smtp_starttls and settings.smtp_port != 465:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        refused = smtp.send_message(message, to_addrs=to)
    if refused:
        raise RuntimeError(f"refused {', '.join(sorted(refused))}")
