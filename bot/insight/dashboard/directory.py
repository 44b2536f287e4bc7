"""The contact centre's queues as the dashboard sees them: which agencies each serves, its name.

Declared here, not imported from bot.handoff, so that insight does not depend on the hand-off
package (which records into insight); bot.handoff.config.ContactCentreConfig fits it as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class QueueLike(Protocol):
    """A hand-off queue: its id, the agencies it serves, and its display name."""

    @property
    def id(self) -> str:
        """The queue's id (what hand-offs record)."""
        ...

    @property
    def agencies(self) -> Sequence[str]:
        """The agencies whose hand-offs go to this queue."""
        ...

    def display_name(self, language: str) -> str:
        """The queue's name in `language` (English, or its id, when it has none)."""
        ...


class QueueDirectory(Protocol):
    """The contact centre's queues (e.g. a ContactCentreConfig)."""

    @property
    def queues(self) -> Sequence[QueueLike]:
        """Every queue."""
        ...


def queues_serving(directory: QueueDirectory, agency: str) -> list[str]:
    """The ids of the queues that serve `agency` (a hand-off's agency is that of its queue)."""
    return [q.id for q in directory.queues if agency in q.agencies]


def queue_name(directory: QueueDirectory, queue_id: str) -> str:
    """The English name of a queue, or its id when it is no longer configured."""
    queue = next((q for q in directory.queues if q.id == queue_id), None)
    return queue.display_name("en") if queue else queue_id
