"""The misinformation register: a false claim going around, the alert that revealed it, the FAQ
that corrects it and the broadcast that spreads the correction, and how long each step took.

The claim is written by staff in their own words (never a citizen's message). Times: detected is
the alert's (or when the claim was recorded, without one); corrected is when the correcting FAQ's
live version was published (not before detection: an FAQ that already said it counts from then);
broadcast is when the correction's broadcast was approved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.clock import Clock, aware, hours_between, system_clock
from bot.outreach.topics import OutreachError
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import Alert, Broadcast, Claim, KbFaq, KbFaqVersion

MAX_CLAIM = 500


class Claims:
    """Record false claims and link their correction and its broadcast."""

    def __init__(self, db: Database, audit: AuditLog, clock: Clock = system_clock) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def add(
        self, claim: str, by: str, agency: str | None = None, alert_id: int | None = None
    ) -> int:
        """Record a claim (from an alert, or seen elsewhere); its id."""
        claim = " ".join(claim.split())
        if not claim or len(claim) > MAX_CLAIM:
            raise OutreachError(f"the claim must be 1-{MAX_CLAIM} characters")
        with self._db.session() as session:
            detected = self._clock()
            if alert_id is not None:
                alert = session.get(Alert, alert_id)
                if alert is None:
                    raise OutreachError(f"no alert {alert_id}")
                detected = aware(alert.at)
            row = Claim(
                agency=agency,
                claim=claim,
                alert_id=alert_id,
                detected_at=detected,
                created_by=by,
                created_at=self._clock(),
            )
            session.add(row)
            session.commit()
            claim_id = row.id
        self._audit.record(None, by, "claim_recorded", detail={"claim": claim_id})
        return claim_id

    def correct(self, claim_id: int, faq_id: str, by: str) -> dt.datetime:
        """Link the published FAQ that corrects the claim; when the correction went live."""
        with self._db.session() as session:
            row = session.get(Claim, claim_id, with_for_update=True)
            if row is None:
                raise OutreachError(f"no claim {claim_id}")
            faq = session.get(KbFaq, faq_id)
            if faq is None or faq.state != "published" or faq.live_version is None:
                raise OutreachError(f"FAQ {faq_id} is not published: publish the correction first")
            version = session.get(KbFaqVersion, (faq_id, faq.live_version))
            live = (version.reviewed_at or version.created_at) if version else self._clock()
            row.faq_id = faq_id
            row.corrected_at = max(aware(live), aware(row.detected_at))
            corrected = row.corrected_at
            session.commit()
        self._audit.record(None, by, "claim_corrected", detail={"claim": claim_id, "faq": faq_id})
        return corrected

    def spread(self, claim_id: int, broadcast_id: int, by: str) -> dt.datetime:
        """Link the approved broadcast that spread the correction; when it was approved."""
        with self._db.session() as session:
            row = session.get(Claim, claim_id, with_for_update=True)
            if row is None:
                raise OutreachError(f"no claim {claim_id}")
            broadcast = session.get(Broadcast, broadcast_id)
            if broadcast is None or broadcast.approved_at is None:
                raise OutreachError(f"broadcast {broadcast_id} is not approved")
            row.broadcast_id, row.broadcast_at = broadcast_id, aware(broadcast.approved_at)
            spread_at = row.broadcast_at
            session.commit()
        self._audit.record(
            None, by, "claim_broadcast", detail={"claim": claim_id, "broadcast": broadcast_id}
        )
        return spread_at

    def timeline(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest claims, each with its times and the hours from detection to correction,
        from correction to broadcast, and in all."""
        with self._db.session() as session:
            rows = session.scalars(select(Claim).order_by(Claim.id.desc()).limit(limit)).all()
        return [
            {
                "id": r.id,
                "agency": r.agency,
                "claim": r.claim,
                "alert_id": r.alert_id,
                "detected_at": aware(r.detected_at).isoformat(),
                "faq_id": r.faq_id,
                "corrected_at": aware(r.corrected_at).isoformat() if r.corrected_at else None,
                "broadcast_id": r.broadcast_id,
                "broadcast_at": aware(r.broadcast_at).isoformat() if r.broadcast_at else None,
                "hours_to_correction": hours_between(r.detected_at, r.corrected_at),
                "hours_to_broadcast": hours_between(r.corrected_at, r.broadcast_at),
                "hours_in_all": hours_between(r.detected_at, r.broadcast_at),
            }
            for r in rows
        ]
