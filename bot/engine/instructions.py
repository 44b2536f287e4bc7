"""What the custom actions tell the app besides the citizen-facing text, as typed models.

An action sends them as a custom JSON message (`dispatcher.utter_message(json_message=...)`); the
engine client parses each one once, at the boundary, into an `Instruction`; nothing past it reads
raw dicts.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

log = logging.getLogger(__name__)

Outcome = Literal["answered", "clarify", "no_answer", "handoff"]
Language = Literal["en", "fr"]


class _Instruction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @field_validator("language", mode="before", check_fields=False)
    @classmethod
    def _known_language(cls, value: Any) -> str:
        return value if value in ("en", "fr") else "en"


class TurnAnalytics(_Instruction):
    """What a turn did with the citizen's question (recorded as a `Turn`; never shown)."""

    outcome: Outcome
    language: Language = "en"
    question: str | None = None
    faq_id: str | None = None
    agency: str | None = None

    def message(self) -> dict[str, Any]:
        """The custom message an action sends."""
        return {"analytics": self.model_dump()}


class HandoffRequest(_Instruction):
    """Put the conversation in line for a person: which queue (or the agency's), why, in
    what language."""

    queue: str | None = None
    agency: str | None = None
    reason: str = Field(default="requested", max_length=32)
    language: Language = "en"
    question: str | None = None

    @field_validator("reason", mode="before")
    @classmethod
    def _short_reason(cls, value: Any) -> str:
        return str(value or "requested")[:32]

    def message(self) -> dict[str, Any]:
        """The custom message an action sends."""
        return {"handoff": self.model_dump()}


Instruction = TurnAnalytics | HandoffRequest


def parse_instruction(custom: dict[str, Any]) -> Instruction | None:
    """The instruction in an action's custom message; None (logged) for anything unknown
    or malformed."""
    try:
        if isinstance(custom.get("analytics"), dict):
            return TurnAnalytics.model_validate(custom["analytics"])
        if isinstance(custom.get("handoff"), dict):
            return HandoffRequest.model_validate(custom["handoff"])
    except ValidationError as exc:
        log.warning("malformed instruction from an action: %s", exc.errors()[:1])
        return None
    log.warning("unknown custom message from an action: keys %s", sorted(custom)[:5])
    return None
