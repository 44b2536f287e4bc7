"""The app's tables, by area; importing this package registers all of them on `Base.metadata`
(which Alembic's env.py and `Database.create_schema` rely on)."""

from bot.storage.models.base import Base, utcnow
from bot.storage.models.contact_centre import (
    Agent,
    AgentSession,
    AuditEntry,
    Handoff,
    LoginAttempt,
)
from bot.storage.models.conversations import (
    REPLY_KINDS,
    Conversation,
    InboundMessage,
    OptOut,
    OutboundMessage,
)
from bot.storage.models.insight import Alert, DailyCount, Feedback, GapCluster, Turn
from bot.storage.models.knowledge import (
    KbAgency,
    KbDismissed,
    KbFaq,
    KbFaqVersion,
    KbGrant,
    KbRevision,
)
from bot.storage.models.outreach import (
    Broadcast,
    BroadcastDelivery,
    Claim,
    Subscription,
    Topic,
)
from bot.storage.models.panel import (
    PanelAnswer,
    PanelMember,
    PanelPlace,
    PanelSurvey,
    PanelTally,
    PanelWave,
)

__all__ = [
    "REPLY_KINDS",
    "Agent",
    "AgentSession",
    "Alert",
    "AuditEntry",
    "Base",
    "Broadcast",
    "BroadcastDelivery",
    "Claim",
    "Conversation",
    "DailyCount",
    "Feedback",
    "GapCluster",
    "Handoff",
    "InboundMessage",
    "KbAgency",
    "KbDismissed",
    "KbFaq",
    "KbFaqVersion",
    "KbGrant",
    "KbRevision",
    "LoginAttempt",
    "OptOut",
    "OutboundMessage",
    "PanelAnswer",
    "PanelMember",
    "PanelPlace",
    "PanelSurvey",
    "PanelTally",
    "PanelWave",
    "Subscription",
    "Topic",
    "Turn",
    "utcnow",
]
