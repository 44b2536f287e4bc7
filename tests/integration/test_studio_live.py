"""A publish reaches every replica without a restart: two LiveKnowledge objects (two replicas'
worth) over one database, with the real encoders; each rebuilds from the published bank when the
revision moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.knowledge.faq import Faq
from bot.settings import ROOT, Settings
from bot.storage.db import Database
from bot.studio.access import Editor, operator
from bot.studio.catalogue import import_faqs
from bot.studio.live import LiveKnowledge
from bot.studio.store import Content, Studio

NEW = Faq(
    id="ben-heat-relief-en",
    agency="benefits",
    language="en",
    question="Is there a payment to help with heating bills this winter?",
    alternatives=("winter heating grant", "help paying my heating bill"),
    answer="Yes: the Winter Heat Relief payment of $250. Apply before March 31.",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    index = ROOT / "var" / "index"
    if not (index / "manifest.json").exists():
        pytest.skip("no FAQ index under var/index; `make index` builds it")
    shutil.copytree(index, tmp_path / "index")  # the demo bank's vectors, so only NEW is encoded
    return Settings(var_dir=tmp_path, index_dir=tmp_path / "index")


def test_a_publish_reaches_both_replicas_and_a_rollback_restores_the_old_answer(
    db: Database, settings: Settings
) -> None:
    replicas = [LiveKnowledge(db, settings), LiveKnowledge(db, settings)]
    for replica in replicas:
        replica.load()
    question = "how do I get help with my heating bill this winter"
    assert replicas[0].load().ask(question, "en").faq_id != NEW.id
    assert not any(replica.refresh() for replica in replicas)  # nothing new: nothing rebuilt

    import_faqs(db, [], [NEW], operator("cli"), publish=True)
    assert all(replica.refresh() for replica in replicas)
    for replica in replicas:
        decision = replica.load().ask(question, "en")
        assert decision.choices[0] == NEW.id, decision

    studio = Studio(db)
    alice = Editor("alice", reviews=frozenset({"benefits"}))
    studio.edit(alice, NEW.id, Content(NEW.question, "The payment is closed.", NEW.alternatives), 1)
    studio.publish_urgent(alice, NEW.id)
    assert replicas[1].refresh()
    assert replicas[1].load().faq(NEW.id).answer == "The payment is closed."  # type: ignore[union-attr]
    studio.rollback(alice, NEW.id, 1)
    assert replicas[1].refresh()
    assert replicas[1].load().faq(NEW.id).answer == NEW.answer  # type: ignore[union-attr]

    studio.archive(alice, NEW.id)
    assert replicas[0].refresh()
    assert replicas[0].load().faq(NEW.id) is None


def test_questions_are_answered_from_the_old_revision_while_a_rebuild_runs(
    db: Database, settings: Settings
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    replica = LiveKnowledge(db, settings)
    before = replica.load()
    with ThreadPoolExecutor(1) as pool, replica._lock:  # the lock as a rebuild holds it
        answered = pool.submit(lambda: replica.load().ask("when is garbage collection", "en"))
        assert answered.result(timeout=5) is not None  # did not wait for the rebuild
        assert replica.load() is before
