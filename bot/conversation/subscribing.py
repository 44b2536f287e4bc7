"""The turn's outreach step: SUBSCRIBE, UNSUBSCRIBE, TOPICS and YES (and their French forms)
answered without the bot (bot/outreach/commands.py says what each means)."""

from __future__ import annotations

import asyncio

from bot.conversation.turn import Flow, TurnState
from bot.inbox.store import pushes
from bot.inbox.transcript import Transcript
from bot.messages import say
from bot.outreach.commands import Command, parse
from bot.outreach.subscriptions import Subscriptions
from bot.outreach.topics import Topics, TopicView


class OutreachKeywords:
    """Subscribe (double opt-in on channels with carrier keywords: SMS, WhatsApp), confirm,
    unsubscribe, list the topics (with buttons where the channel has them)."""

    def __init__(
        self,
        transcript: Transcript,
        subscriptions: Subscriptions,
        topics: Topics,
        service_name: str,
        timezone: str,
    ) -> None:
        self._transcript = transcript
        self._subscriptions = subscriptions
        self._topics = topics
        self._service = service_name
        self._timezone = timezone

    async def __call__(self, turn: TurnState) -> Flow:
        command = parse(turn.message.text)
        if command is None:
            return Flow.NEXT
        channel, address = turn.conversation.channel, turn.conversation.address
        if command.verb == "confirm" and not await asyncio.to_thread(
            self._subscriptions.has_pending, channel, address
        ):
            return Flow.NEXT  # a plain "yes" is the bot's (or the feedback question's)
        buttons: list[dict[str, str]] = []
        if not pushes(channel):
            reply = say("no_push", command.language)
        else:
            reply, buttons = await asyncio.to_thread(self._answer, turn, command)
        await self._transcript.notice(
            turn.conversation_id, turn.message.id, reply, done=True, buttons=buttons or None
        )
        return Flow.DONE

    def _answer(self, turn: TurnState, command: Command) -> tuple[str, list[dict[str, str]]]:
        """The reply to one command (blocking: database calls), with its buttons."""
        channel, address = turn.conversation.channel, turn.conversation.address
        lang, service = command.language, self._service
        topics = {t.slug: t for t in self._topics.all()}
        if command.verb == "topics":
            listed = ", ".join(f"{t.slug} ({t.name(lang)})" for t in topics.values())
            buttons = (
                [
                    {
                        "title": say("subscribe_button", lang, topic=t.name(lang)),
                        "payload": f"{'ABONNER' if lang == 'fr' else 'SUBSCRIBE'} {t.slug}",
                    }
                    for t in list(topics.values())[: turn.channel.max_buttons]
                ]
                if turn.channel.buttons
                else []
            )
            return say("topics", lang, service=service, topics=listed), buttons
        if command.verb == "confirm":
            confirmed = [topics[s] for s in self._subscriptions.confirm(channel, address)]
            return self._said("subscribed", lang, confirmed), []
        slug = command.topic or ("general" if command.verb == "subscribe" else None)
        topic = topics.get(slug) if slug else None
        if slug and topic is None:
            listed = ", ".join(topics)
            return say("unknown_topic", lang, service=service, slug=slug, topics=listed), []
        if command.verb == "unsubscribe":
            ended = self._subscriptions.remove(channel, address, slug, "citizen")
            if topic is None:
                return say("unsubscribed_all", lang, service=service), []
            key = "unsubscribed" if ended else "not_subscribed"
            return self._said(key, lang, [topic]), []
        assert topic is not None
        double_opt_in = turn.channel.carrier_keywords  # SMS and WhatsApp: confirm with YES
        wording = self._said(
            "subscribe_confirm_sms" if double_opt_in else "subscribed", lang, [topic]
        )
        state = self._subscriptions.request(
            channel,
            address,
            topic.slug,
            language=lang,
            wording=wording,
            timezone=self._timezone,
            double_opt_in=double_opt_in,
        )
        return (
            self._said("already_subscribed", lang, [topic]) if state == "already" else wording
        ), []

    def _said(self, key: str, language: str, topics: list[TopicView]) -> str:
        names = ", ".join(t.name(language) for t in topics)
        slugs = " ".join(t.slug for t in topics)
        return say(key, language, service=self._service, topic=names, slug=slugs)
