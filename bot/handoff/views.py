"""What the console shows of the contact centre: queue states, the waiting list, one hand-off with
its transcript and FAQ suggestions, the supervisor's view. Plain data, blocking (run in a thread);
the routes in bot/web/routes/console_api.py serve it as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.clock import aware
from bot.handoff.agents import Agents
from bot.handoff.centre import ContactCentre
from bot.handoff.hours import is_open, next_opening
from bot.inbox.store import Inbox
from bot.knowledge.service import KnowledgeBase
from bot.privacy.redact import redact
from bot.storage.models import Handoff


def iso(moment: dt.datetime | None) -> str | None:
    """An aware ISO 8601 time, or None."""
    return None if moment is None else aware(moment).isoformat()


def waited_s(handoff: Handoff, now: dt.datetime) -> float:
    """Seconds since the hand-off joined the line."""
    return max(0.0, (now - aware(handoff.enqueued_at)).total_seconds())


def usernames(agents: Agents) -> dict[int, str]:
    """Agent ids to usernames."""
    return {agent.id: agent.username for agent in agents.list()}


def item(
    centre: ContactCentre,
    handoff: Handoff,
    now: dt.datetime,
    position: int | None = None,
    names: dict[int, str] | None = None,
) -> dict[str, Any]:
    """One hand-off as the console lists it (the question redacted)."""
    queue = centre.config.queue(handoff.queue_id)
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "queue_id": handoff.queue_id,
        "queue_name": queue.display_name("en") if queue else handoff.queue_id,
        "status": handoff.status,
        "priority": handoff.priority,
        "urgent": handoff.priority >= 100,
        "ticket": handoff.ticket,
        "reason": handoff.reason,
        "channel": handoff.channel,
        "language": handoff.language,
        "question": redact(handoff.question) if handoff.question else None,
        "waited_s": waited_s(handoff, now),
        "position": position,
        "agent": (names or {}).get(handoff.agent_id or -1),
        "offered_until": iso(handoff.offered_until),
    }


def queue_states(
    centre: ContactCentre, waiting: list[Handoff], now: dt.datetime
) -> list[dict[str, Any]]:
    """Each queue: open now?, how many wait, the longest wait (queue page and supervisor view)."""
    depth: dict[str, int] = {}
    longest: dict[str, float] = {}
    for handoff in waiting:
        depth[handoff.queue_id] = depth.get(handoff.queue_id, 0) + 1
        longest[handoff.queue_id] = max(longest.get(handoff.queue_id, 0.0), waited_s(handoff, now))
    return [
        {
            "id": q.id,
            "name": q.display_name("en"),
            "open": is_open(q, now),
            "waiting": depth.get(q.id, 0),
            "longest_wait_s": longest.get(q.id, 0.0),
        }
        for q in centre.config.queues
    ]


def queue_snapshot(
    centre: ContactCentre, agents: Agents, agent_id: int, limit: int = 500
) -> dict[str, Any]:
    """The queue page's data: every queue's state, the waiting list in service order, and mine."""
    now = centre.queue.now()
    waiting = centre.queue.waiting(limit=100_000)
    names = usernames(agents)
    places: dict[str, int] = {}
    items = []
    for handoff in waiting[:limit]:
        places[handoff.queue_id] = places.get(handoff.queue_id, 0) + 1
        items.append(item(centre, handoff, now, places[handoff.queue_id], names))
    queues = queue_states(centre, waiting, now)
    for state, queue in zip(queues, centre.config.queues, strict=True):
        state["next_open"] = None if state["open"] else iso(next_opening(queue, now))
    mine = [item(centre, h, now, None, names) for h in centre.queue.with_agent(agent_id)]
    return {"queues": queues, "waiting": items, "mine": mine}


def supervisor_snapshot(centre: ContactCentre, agents: Agents) -> dict[str, Any]:
    """Queue depth, longest wait and agents' load."""
    now = centre.queue.now()
    waiting = centre.queue.waiting(limit=100_000)
    with_agents = centre.queue.with_agent()
    online = {a.id for a in centre.queue.agents_online(centre.config.timers.heartbeat_timeout_s)}
    queues = queue_states(centre, waiting, now)
    for state in queues:
        state["assigned"] = sum(1 for h in with_agents if h.queue_id == state["id"])
    people = [
        {
            "username": a.username,
            "display_name": a.display_name,
            "role": a.role,
            "online": a.id in online,
            "conversations": sum(1 for h in with_agents if h.agent_id == a.id),
        }
        for a in agents.list()
        if a.active
    ]
    return {"queues": queues, "agents": people}


def transcript(inbox: Inbox, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation as the agent sees it: citizen and agent lines redacted, bot
    lines as sent."""
    lines = []
    for line in inbox.timeline(conversation_id):
        text = line["text"] if line["from"] == "bot" else redact(line["text"])
        lines.append({**line, "text": text, "at": iso(line["at"])})
    return lines


def suggestions(
    knowledge: KnowledgeBase | None, handoff: Handoff, lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Up to three FAQs close to the citizen's question, in their language, for the agent to use."""
    question = handoff.question or next(
        (line["text"] for line in reversed(lines) if line["from"] == "user"), ""
    )
    if knowledge is None or not question:
        return []
    found = []
    for hit in knowledge.ask(question, handoff.language).candidates[:3]:
        faq = knowledge.faq(hit.faq_id)
        if faq is None:
            continue
        shown = knowledge.translation(faq, handoff.language)
        found.append(
            {
                "faq_id": shown.id,
                "question": shown.question,
                "answer": shown.answer,
                "source_url": shown.source_url,
            }
        )
    return found
