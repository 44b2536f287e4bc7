"""Broadcasts: written by one supervisor, approved by another (maker-checker), then fanned out
(bot/outreach/fanout.py); their preview and their results.

Every move is in the audit log. A broadcast's text is in the answer format (docs/answers.md) and
must fit the SMS limit of 3 segments as the Twilio adapter renders it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from bot.clock import Clock, system_clock
from bot.outreach.topics import OutreachError
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import (
    Agent,
    Broadcast,
    BroadcastDelivery,
    InboundMessage,
    OutboundMessage,
    Subscription,
    Topic,
)
from bot.storage.staff import active_supervisor
from connectors.rich_text import parse, problems, telegram_visible, to_plain, to_telegram_html
from connectors.sms_text import render_sms, segments

MAX_SMS_SEGMENTS = 3
TEMPLATE_SID = re.compile(r"^HX[0-9a-f]{32}$")
MAX_CHARS = 1000
PAID_CHANNELS = ("sms", "whatsapp")  # billed per SMS segment (Twilio)
REPLY_WINDOW = dt.timedelta(hours=48)  # a citizen's message this soon after a broadcast is a reply


@dataclass(frozen=True, slots=True)
class Preview:
    """How one language's text looks on SMS, and what it costs to send to the topic's SMS
    subscribers."""

    language: str
    sms_text: str
    sms_segments: int
    plain: str


def preview(text: str, language: str) -> Preview:
    plain = to_plain(parse(text))
    sms = render_sms(plain)
    return Preview(language, sms, segments(plain), plain)


def channel_views(text: str) -> dict[str, dict[str, Any]]:
    """One language's text as each channel gets it: the SMS as the Twilio adapter fits it (with
    its segment count: what is billed), plain text (Messenger, WhatsApp) and Telegram's HTML
    (with what a Telegram user sees of it)."""
    document = parse(text)
    plain = to_plain(document)
    sms = render_sms(plain)
    return {
        "sms": {"text": sms, "segments": segments(sms)},
        "plain": {"text": plain},
        "telegram": {"html": to_telegram_html(document), "text": telegram_visible(document)},
    }


def estimated_cost(
    sms_segments: int,
    audience: dict[str, dict[str, int]],
    language: str,
    has_french: bool,
    price: float,
) -> dict[str, Any]:
    """What one language's copies cost on the paid channels (SMS and WhatsApp): segments x
    active subscribers in that language x the price of a segment. French subscribers get the
    English text when there is no French one, so they count under English then."""
    languages = {language}
    if language == "en" and not has_french:
        languages.add("fr")
    paid = {
        channel: sum(n for lang, n in audience.get(channel, {}).items() if lang in languages)
        for channel in PAID_CHANNELS
    }
    recipients = sum(paid.values())
    return {
        "recipients": paid,
        "segments": sms_segments,
        "amount": round(sms_segments * recipients * price, 4),
    }


def check_text(text: str, label: str) -> str:
    """The text, stripped, or OutreachError naming what is wrong with it."""
    text = text.strip()
    if not text:
        raise OutreachError(f"{label} is empty")
    if len(text) > MAX_CHARS:
        raise OutreachError(f"{label} is {len(text)} characters; at most {MAX_CHARS}")
    found = problems(text)
    if found:
        raise OutreachError(f"{label}: {found[0]}")
    shown = preview(text, "en")
    if shown.sms_segments > MAX_SMS_SEGMENTS:
        raise OutreachError(
            f"{label} takes {shown.sms_segments} SMS segments; at most {MAX_SMS_SEGMENTS}"
        )
    return text


class Broadcasts:
    """Create, approve, cancel and count broadcasts."""

    def __init__(self, db: Database, audit: AuditLog, clock: Clock = system_clock) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def _supervisor(self, username: str) -> Agent:
        agent = active_supervisor(self._db, username)
        if agent is None:
            raise OutreachError(f"{username!r} is not an active supervisor")
        return agent

    def create(
        self,
        topic: str,
        text_en: str,
        text_fr: str | None,
        urgent: bool,
        by: str,
        send_at: dt.datetime | None = None,
        whatsapp_templates: tuple[str | None, str | None] = (None, None),
    ) -> int:
        """A broadcast awaiting a second supervisor's approval; its id. `whatsapp_templates`
        (English, French): approved templates (Twilio Content SIDs, one variable: the text) for
        WhatsApp copies outside the 24-hour window, which are otherwise not sent."""
        agent = self._supervisor(by)
        text_en = check_text(text_en, "the English text")
        text_fr = check_text(text_fr, "the French text") if text_fr else None
        for sid in whatsapp_templates:
            if sid is not None and not TEMPLATE_SID.match(sid):
                raise OutreachError(f"{sid!r} is not a Twilio Content SID (HX and 32 hex digits)")
        with self._db.session() as session:
            if session.get(Topic, topic) is None:
                raise OutreachError(f"no topic {topic!r}")
            row = Broadcast(
                topic=topic,
                text_en=text_en,
                text_fr=text_fr,
                urgent=urgent,
                whatsapp_template_en=whatsapp_templates[0],
                whatsapp_template_fr=whatsapp_templates[1],
                state="awaiting_approval",
                created_by=by,
                created_at=self._clock(),
                send_at=send_at,
                cursor=0,
            )
            session.add(row)
            session.commit()
            broadcast_id = row.id
        self._audit.record(
            agent, by, "broadcast_created", detail={"broadcast": broadcast_id, "topic": topic}
        )
        return broadcast_id

    def approve(self, broadcast_id: int, by: str) -> dt.datetime:
        """Another supervisor approves: the fan-out starts at `send_at` (now when unset)."""
        agent = self._supervisor(by)
        now = self._clock()
        with self._db.session() as session:
            row = session.get(Broadcast, broadcast_id, with_for_update=True)
            if row is None:
                raise OutreachError(f"no broadcast {broadcast_id}")
            if row.state != "awaiting_approval":
                raise OutreachError(f"broadcast {broadcast_id} is {row.state.replace('_', ' ')}")
            if row.created_by == by:
                raise OutreachError("a broadcast needs a second supervisor: you wrote this one")
            row.state, row.approved_by, row.approved_at = "approved", by, now
            row.send_at = row.send_at or now
            starts = row.send_at
            session.commit()
        self._audit.record(agent, by, "broadcast_approved", detail={"broadcast": broadcast_id})
        return starts

    def cancel(self, broadcast_id: int, by: str) -> None:
        """Stop a broadcast that is not fully queued yet (what is queued still goes)."""
        agent = self._supervisor(by)
        with self._db.session() as session:
            row = session.get(Broadcast, broadcast_id, with_for_update=True)
            if row is None:
                raise OutreachError(f"no broadcast {broadcast_id}")
            if row.state not in ("awaiting_approval", "approved"):
                raise OutreachError(f"broadcast {broadcast_id} is {row.state.replace('_', ' ')}")
            row.state = "cancelled"
            session.commit()
        self._audit.record(agent, by, "broadcast_cancelled", detail={"broadcast": broadcast_id})

    def status(self, broadcast_id: int) -> dict[str, object]:
        """The broadcast's state and counts: queued, held (quiet hours), sent, delivered, failed,
        opted out, skipped (channel rules), unsubscribed, in doubt, replies."""
        found = self.statuses([broadcast_id])
        if broadcast_id not in found:
            raise OutreachError(f"no broadcast {broadcast_id}")
        return found[broadcast_id]

    def statuses(self, broadcast_ids: list[int]) -> dict[int, dict[str, object]]:
        """`status` of several broadcasts, with one query per kind of count for all of them."""
        ids = list(dict.fromkeys(broadcast_ids))
        if not ids:
            return {}
        mine = BroadcastDelivery.broadcast_id.in_(ids)
        copies = (
            select(BroadcastDelivery.broadcast_id)
            .join(OutboundMessage, OutboundMessage.id == BroadcastDelivery.outbound_id)
            .where(mine)
            .group_by(BroadcastDelivery.broadcast_id)
        )
        now = self._clock()
        with self._db.session() as session:
            rows = session.scalars(select(Broadcast).where(Broadcast.id.in_(ids))).all()
            counts = _nested(
                session.execute(
                    copies.add_columns(OutboundMessage.status, func.count()).group_by(
                        OutboundMessage.status
                    )
                )
            )
            provider = _nested(
                session.execute(
                    copies.add_columns(OutboundMessage.delivery_status, func.count())
                    .where(OutboundMessage.delivery_status.is_not(None))
                    .group_by(OutboundMessage.delivery_status)
                )
            )
            total = _flat(
                session.execute(
                    select(BroadcastDelivery.broadcast_id, func.count())
                    .where(mine)
                    .group_by(BroadcastDelivery.broadcast_id)
                )
            )
            held = _flat(
                session.execute(
                    copies.add_columns(func.count()).where(
                        OutboundMessage.status == "pending", OutboundMessage.next_attempt_at > now
                    )
                )
            )
            replies = _flat(
                session.execute(
                    copies.add_columns(func.count(func.distinct(InboundMessage.conversation_id)))
                    .join(
                        InboundMessage,
                        and_(
                            InboundMessage.conversation_id == OutboundMessage.conversation_id,
                            InboundMessage.received_at > OutboundMessage.sent_at,
                        ),
                    )
                    .where(OutboundMessage.status == "sent")
                )
            )
            subscribers = _flat(
                session.execute(
                    select(Subscription.topic, func.count())
                    .where(
                        Subscription.topic.in_({r.topic for r in rows}),
                        Subscription.state == "active",
                    )
                    .group_by(Subscription.topic)
                )
            )
        found: dict[int, dict[str, object]] = {}
        for row in rows:
            by_status, by_report = counts.get(row.id, {}), provider.get(row.id, {})
            found[row.id] = {
                "id": row.id,
                "topic": row.topic,
                "state": row.state,
                "urgent": row.urgent,
                "created_by": row.created_by,
                "approved_by": row.approved_by,
                "active_subscribers": subscribers.get(row.topic, 0),
                "queued": total.get(row.id, 0),
                "held_quiet_hours": held.get(row.id, 0),
                "pending": by_status.get("pending", 0),
                "sent": by_status.get("sent", 0),
                "delivered": by_report.get("delivered", 0) + by_report.get("read", 0),
                "failed": by_status.get("dead", 0)
                + by_report.get("failed", 0)
                + by_report.get("undelivered", 0),
                "opted_out": by_status.get("suppressed", 0),
                "skipped": by_status.get("refused", 0),
                "unsubscribed": by_status.get("unsubscribed", 0),
                "in_doubt": by_status.get("unknown", 0),
                "replies": replies.get(row.id, 0),
            }
        return found

    def audience(self, topic: str) -> dict[str, dict[str, int]]:
        """The topic's active subscribers: channel -> language -> how many."""
        with self._db.session() as session:
            rows = session.execute(
                select(Subscription.channel, Subscription.language, func.count())
                .where(Subscription.topic == topic, Subscription.state == "active")
                .group_by(Subscription.channel, Subscription.language)
            ).all()
        found: dict[str, dict[str, int]] = {}
        for channel, language, count in rows:
            found.setdefault(channel, {})[language] = int(count)
        return found

    def detail(self, broadcast_id: int) -> dict[str, object] | None:
        """A broadcast's texts, times and people with its counts (`status`); None when there is
        no such broadcast."""
        with self._db.session() as session:
            row = session.get(Broadcast, broadcast_id)
            if row is None:
                return None
            shown = _described(row)
        return {**shown, **self.status(broadcast_id)}

    def recent(self, limit: int = 30) -> list[dict[str, object]]:
        """The newest broadcasts first, each with its counts."""
        with self._db.session() as session:
            rows = session.scalars(
                select(Broadcast).order_by(Broadcast.id.desc()).limit(max(1, limit))
            ).all()
            described = [_described(row) for row in rows]
        counts = self.statuses([int(str(shown["id"])) for shown in described])
        return [{**shown, **counts[int(str(shown["id"]))]} for shown in described]


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def _described(row: Broadcast) -> dict[str, object]:
    """A broadcast's own fields, as the console shows them."""
    return {
        "id": row.id,
        "topic": row.topic,
        "text_en": row.text_en,
        "text_fr": row.text_fr,
        "urgent": row.urgent,
        "whatsapp_template_en": row.whatsapp_template_en,
        "whatsapp_template_fr": row.whatsapp_template_fr,
        "state": row.state,
        "created_by": row.created_by,
        "created_at": _iso(row.created_at),
        "approved_by": row.approved_by,
        "approved_at": _iso(row.approved_at),
        "send_at": _iso(row.send_at),
    }


def _flat(rows: Iterable[Any]) -> dict[Any, int]:
    """{key: count} from (key, count) rows."""
    return {key: int(count) for key, count in rows}


def _nested(rows: Iterable[Any]) -> dict[Any, dict[Any, int]]:
    """{key: {sub-key: count}} from (key, sub-key, count) rows."""
    found: dict[Any, dict[Any, int]] = {}
    for key, sub, count in rows:
        found.setdefault(key, {})[sub] = int(count)
    return found
