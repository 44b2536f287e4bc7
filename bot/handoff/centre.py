"""The contact centre's service: what happens to a citizen who asked for a person, and to their
messages.

The conversation worker asks `intercept` first for every citizen message: while a hand-off is in
progress the message is kept for the agent and never reaches the bot (and the bot says nothing);
"cancel" leaves the line; right after a resolve a digit 1-5 is the satisfaction rating; an urgent
topic skips the bot and goes to the front of the line. When the bot decides to hand off (a typed
`HandoffRequest` from an action), the worker calls `hand_off`. Agents act through the console, which
calls the agent-side methods. A sweep on every replica returns expired offers and the conversations
of agents gone offline to their place, closes abandoned requests and tells waiting citizens about
meaningful changes of their position.

The three sides live in their own modules (citizen.py, agent_side.py, sweeps.py) over one shared
base (effects.py): blocking database work runs in threads and returns `Effects`, published back on
the event loop through the conversation's `Transcript`.
"""

from __future__ import annotations

from bot.handoff.agent_side import AgentSide
from bot.handoff.citizen import CitizenSide, SatisfactionRecorder
from bot.handoff.config import ContactCentreConfig
from bot.handoff.queue import HandoffQueue
from bot.handoff.sweeps import Sweeps
from bot.inbox.transcript import Transcript
from bot.storage.audit import AuditLog


class ContactCentre(CitizenSide, AgentSide, Sweeps):
    """Hand-offs, the citizen's messages while one is in progress, the agents' moves, the sweep."""

    def __init__(
        self,
        config: ContactCentreConfig,
        queue: HandoffQueue,
        transcript: Transcript,
        audit: AuditLog,
        satisfaction: SatisfactionRecorder | None = None,
    ) -> None:
        super().__init__(config, queue, transcript, audit)
        self._satisfaction = satisfaction
