"""The composition root: every long-lived service, built once at start-up and wired together here.

Routes never see this object whole; they ask for what they need by name (bot/web/deps.py).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from bot.clock import Clock, system_clock
from bot.conversation.before import UnfitMessages
from bot.conversation.fair import FairSlots
from bot.conversation.intake import Intake
from bot.conversation.pipeline import turn_steps
from bot.conversation.sender import OutboxSender
from bot.conversation.worker import ConversationWorker
from bot.engine.client import DialogueEngine, RasaEngine
from bot.handoff.agents import Agents
from bot.handoff.centre import ContactCentre
from bot.handoff.config import load_config
from bot.handoff.login_throttle import LoginThrottle, SqlLoginThrottle, ThrottleRules
from bot.handoff.login_throttle_redis import RedisLoginThrottle
from bot.handoff.queue import HandoffQueue
from bot.inbox.hub import LiveHub
from bot.inbox.outbox import Outbox
from bot.inbox.policy import OptOuts
from bot.inbox.quiet_hours import QuietHours
from bot.inbox.store import Inbox
from bot.inbox.transcript import Transcript
from bot.insight.recorder import Insight
from bot.knowledge.service import KnowledgeBase
from bot.language import LanguageDetector
from bot.outreach.broadcasts import Broadcasts
from bot.outreach.fanout import FanOut
from bot.outreach.subscriptions import Subscriptions
from bot.outreach.topics import Topics
from bot.panel.citizen import PanelCitizen
from bot.panel.profile import profile_questions
from bot.panel.results import Results
from bot.panel.sweep import WaveSweep
from bot.panel.waves import Waves
from bot.settings import Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.studio.live import LiveKnowledge
from bot.studio.store import Studio
from bot.web.ratelimit import RateLimiter
from connectors.base import ChannelAdapter
from connectors.registry import build_adapters
from connectors.webchat import SessionTokens


def login_throttle(settings: Settings, db: Database) -> LoginThrottle:
    """The console's login throttle: in Redis when REDIS_URL is set (so that it holds across
    replicas), else in the app database."""
    rules = ThrottleRules.from_settings(settings)
    if settings.redis_url:
        return RedisLoginThrottle(settings.redis_url, rules)
    return SqlLoginThrottle(db, rules)


@dataclass
class Services:
    """The app's services; `knowledge` is None until the index is loaded."""

    settings: Settings
    db: Database
    inbox: Inbox
    hub: LiveHub
    engine: DialogueEngine
    detector: LanguageDetector
    intake: Intake
    sender: OutboxSender
    outbox: Outbox
    adapters: dict[str, ChannelAdapter]
    centre: ContactCentre
    agents: Agents
    audit: AuditLog
    insight: Insight
    limiter: RateLimiter
    webchat_sessions: SessionTokens
    live: LiveKnowledge
    studio: Studio
    topics: Topics
    subscriptions: Subscriptions
    broadcasts: Broadcasts
    fanout: FanOut
    waves: Waves
    wave_sweep: WaveSweep
    results: Results

    @property
    def knowledge(self) -> KnowledgeBase | None:
        """The published knowledge base, or None until it is loaded."""
        return self.live.current


def build_services(
    settings: Settings,
    db: Database,
    engine: DialogueEngine | None = None,
    clock: Clock = system_clock,
) -> Services:
    """Wire the services: inbox → worker (the turn's steps) → engine; outbox → sender → adapters."""
    owner = uuid.uuid4().hex[:16]  # this replica, in leases and claims
    detector, hub = LanguageDetector(), LiveHub()
    inbox, opt_outs = Inbox(db, clock), OptOuts(db, clock)
    dialogue = engine or RasaEngine(
        settings.engine_url,
        settings.engine_token,
        settings.engine_timeout_s,
        settings.engine_concurrency,
    )
    adapters = build_adapters(settings)
    audit, insight = AuditLog(db), Insight(db, settings.sms_feedback_every, clock)
    topics, subscriptions = Topics(db, audit, clock), Subscriptions(db, clock)
    broadcasts = Broadcasts(db, audit, clock)
    outbox = Outbox(db, owner, settings.claim_s, clock)
    sender = OutboxSender(
        outbox,
        adapters,
        opt_outs,
        settings.outbox_max_attempts,
        clock=clock,
        broadcast_rates=settings.outreach_rates,
    )
    transcript = Transcript(inbox, hub, sender.wake.set)
    config = load_config(settings.contact_centre_file)
    centre = ContactCentre(config, HandoffQueue(db, clock), transcript, audit, insight)
    profile = profile_questions(settings.panel_profile_file)
    steps = turn_steps(
        transcript=transcript,
        engine=dialogue,
        detector=detector,
        opt_outs=opt_outs,
        centre=centre,
        insight=insight,
        service_name=settings.service_name,
        max_chars=settings.max_message_chars,
        max_attempts=settings.inbox_max_attempts,
        subscriptions=subscriptions,
        topics=topics,
        timezone=settings.outreach_timezone,
        panel=PanelCitizen(db, profile, settings.service_name, clock),
    )
    # a lane (one client address, one sender) holds at most a quarter of the engine's slots
    slots = FairSlots(settings.engine_concurrency, max(1, settings.engine_concurrency // 4))
    worker = ConversationWorker(inbox, steps, settings.lease_s, owner, slots)
    unfit = UnfitMessages(transcript, detector, settings.max_message_chars)
    # On loopback the secret may be unset (the check in bot/settings.py refuses that elsewhere):
    # then this process signs its own sessions.
    session_secret = settings.webchat_session_secret or secrets.token_urlsafe(32)
    quiet = QuietHours(settings.quiet_start_hour, settings.quiet_end_hour)
    return Services(
        settings=settings,
        db=db,
        inbox=inbox,
        hub=hub,
        engine=dialogue,
        detector=detector,
        intake=Intake(inbox, worker, unfit),
        sender=sender,
        outbox=outbox,
        adapters=adapters,
        centre=centre,
        agents=Agents(db, audit, clock, login_throttle(settings, db)),
        audit=audit,
        insight=insight,
        limiter=RateLimiter.from_settings(settings),
        webchat_sessions=SessionTokens(session_secret),
        live=LiveKnowledge(db, settings, clock),
        studio=Studio(db, clock),
        topics=topics,
        subscriptions=subscriptions,
        broadcasts=broadcasts,
        fanout=FanOut(
            db,
            quiet,
            settings.outreach_batch,
            clock,
            wake=sender.wake.set,
        ),
        waves=Waves(db, audit, settings.service_name, clock),
        wave_sweep=WaveSweep(
            db,
            settings.service_name,
            settings.outreach_timezone,
            quiet,
            clock,
            wake=sender.wake.set,
        ),
        results=Results(db, profile),
    )
