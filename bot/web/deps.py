"""Named dependencies: a route asks for the services it uses by what they are.

They read the app's `Services` (bot/web/services.py) from `app.state.services`; a test can put any
object with the same attributes there to serve a few routes without the rest of the app.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from bot.conversation.intake import Intake
from bot.engine.client import DialogueEngine
from bot.handoff.agents import Agents
from bot.handoff.centre import ContactCentre
from bot.inbox.hub import LiveHub
from bot.inbox.outbox import Outbox
from bot.inbox.store import Inbox
from bot.knowledge.service import KnowledgeBase
from bot.language import LanguageDetector
from bot.outreach.broadcasts import Broadcasts
from bot.outreach.topics import Topics
from bot.panel.results import Results
from bot.panel.waves import Waves
from bot.settings import Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.studio.store import Studio
from bot.web.ratelimit import RateLimiter
from bot.web.services import Services
from connectors.base import ChannelAdapter
from connectors.webchat import SessionTokens


def services(connection: HTTPConnection) -> Services:
    """The services of the app serving this request or socket."""
    found: Services = connection.app.state.services
    return found


def _settings(connection: HTTPConnection) -> Settings:
    return services(connection).settings


def _db(connection: HTTPConnection) -> Database:
    return services(connection).db


def _inbox(connection: HTTPConnection) -> Inbox:
    return services(connection).inbox


def _hub(connection: HTTPConnection) -> LiveHub:
    return services(connection).hub


def _engine(connection: HTTPConnection) -> DialogueEngine:
    return services(connection).engine


def _detector(connection: HTTPConnection) -> LanguageDetector:
    return services(connection).detector


def _intake(connection: HTTPConnection) -> Intake:
    return services(connection).intake


def _adapters(connection: HTTPConnection) -> dict[str, ChannelAdapter]:
    return services(connection).adapters


def _centre(connection: HTTPConnection) -> ContactCentre:
    return services(connection).centre


def _agents(connection: HTTPConnection) -> Agents:
    return services(connection).agents


def _audit(connection: HTTPConnection) -> AuditLog:
    return services(connection).audit


def _limiter(connection: HTTPConnection) -> RateLimiter:
    return services(connection).limiter


def _knowledge(connection: HTTPConnection) -> KnowledgeBase | None:
    return services(connection).knowledge


def _studio(connection: HTTPConnection) -> Studio:
    return services(connection).studio


def _outbox(connection: HTTPConnection) -> Outbox:
    return services(connection).outbox


def _broadcasts(connection: HTTPConnection) -> Broadcasts:
    return services(connection).broadcasts


def _topics(connection: HTTPConnection) -> Topics:
    return services(connection).topics


def _waves(connection: HTTPConnection) -> Waves:
    return services(connection).waves


def _results(connection: HTTPConnection) -> Results:
    return services(connection).results


def _webchat_sessions(connection: HTTPConnection) -> SessionTokens:
    return services(connection).webchat_sessions


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_db)]
InboxDep = Annotated[Inbox, Depends(_inbox)]
HubDep = Annotated[LiveHub, Depends(_hub)]
EngineDep = Annotated[DialogueEngine, Depends(_engine)]
DetectorDep = Annotated[LanguageDetector, Depends(_detector)]
IntakeDep = Annotated[Intake, Depends(_intake)]
AdaptersDep = Annotated[dict[str, ChannelAdapter], Depends(_adapters)]
CentreDep = Annotated[ContactCentre, Depends(_centre)]
AgentsDep = Annotated[Agents, Depends(_agents)]
AuditDep = Annotated[AuditLog, Depends(_audit)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
WebchatSessionsDep = Annotated[SessionTokens, Depends(_webchat_sessions)]
StudioDep = Annotated[Studio, Depends(_studio)]
OutboxDep = Annotated[Outbox, Depends(_outbox)]
BroadcastsDep = Annotated[Broadcasts, Depends(_broadcasts)]
TopicsDep = Annotated[Topics, Depends(_topics)]
WavesDep = Annotated[Waves, Depends(_waves)]
ResultsDep = Annotated[Results, Depends(_results)]
KnowledgeDep = Annotated[KnowledgeBase | None, Depends(_knowledge)]
"""None while the index is still loading."""
