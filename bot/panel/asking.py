"""How a question looks on a channel: its text, the choices (numbered where the channel has no
buttons, as buttons where it has room for them all) and the hint of what to reply."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import say
from bot.panel.definition import Question
from connectors.capabilities import Capabilities


@dataclass(frozen=True, slots=True)
class Said:
    """What the panel says to a citizen: text, and buttons where the channel shows them."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def after(self, first: str) -> Said:
        """The same, with `first` said before it."""
        return Said(f"{first}\n\n{self.text}", self.buttons)


def ask(question: Question, language: str, channel: Capabilities) -> Said:
    """The message that asks `question` in `language` on `channel`."""
    labels = [o.label(language) for o in question.options]
    if question.kind == "scale":
        labels = [str(n) for n in range(1, 6)]
    extra = 1 if question.optional else 0
    use_buttons = bool(labels) and channel.buttons and len(labels) + extra <= channel.max_buttons
    lines = [question.text(language)]
    if question.kind == "single" and not use_buttons:
        lines += [f"{i}. {label}" for i, label in enumerate(labels, 1)]
        lines.append(say("panel_hint_single", language))
    if question.kind == "scale":
        lines.append(say("panel_hint_scale", language))
    if question.optional:
        lines.append(say("panel_hint_skip", language))
    buttons: list[dict[str, str]] = []
    if use_buttons:
        width = channel.max_button_title
        buttons = [{"title": label[:width], "payload": str(i)} for i, label in enumerate(labels, 1)]
        if question.optional:
            skip = say("panel_skip_button", language)
            buttons.append(
                {"title": skip[:width], "payload": "PASSER" if language == "fr" else "SKIP"}
            )
    return Said("\n".join(lines), buttons)
