"""The app's long-lived services, built once at start-up and shared by every route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from bot.engine.client import DialogueEngine
from bot.handoff.agents import Agents
from bot.handoff.audit import AuditLog
from bot.handoff.centre import ContactCentre
from bot.inbox.hub import LiveHub
from bot.inbox.outbox import Outbox
from bot.inbox.policy import OptOuts
from bot.inbox.sender import OutboxSender
from bot.inbox.store import Inbox
from bot.inbox.worker import ConversationWorker
from bot.insight.recorder import Insight
from bot.knowledge.service import KnowledgeBase
from bot.language import LanguageDetector
from bot.settings import Settings
from bot.storage.db import Database
from connectors.base import ChannelAdapter


@dataclass
class Runtime:
    """Everything a request may need; `knowledge` is None until the index is loaded."""

    settings: Settings
    db: Database
    inbox: Inbox
    hub: LiveHub
    engine: DialogueEngine
    detector: LanguageDetector
    worker: ConversationWorker
    outbox: Outbox
    opt_outs: OptOuts
    sender: OutboxSender
    adapters: dict[str, ChannelAdapter]
    centre: ContactCentre
    agents: Agents
    audit: AuditLog
    insight: Insight
    knowledge: KnowledgeBase | None = None
    background: set[object] = field(default_factory=set)


def get_runtime(request: Request) -> Runtime:
    """The runtime of the app serving `request`."""
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
