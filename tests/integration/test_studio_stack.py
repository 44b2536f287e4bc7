"""The knowledge studio on the running stack: rights per agency over HTTP, the reviewer rule, a
publish live in the widget within 10 s without restart, rollback, `govbot kb import --publish`,
"how would the bot answer?", and bad input refused with a short reason."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import RunningStack
from tests.support.console import ConsoleClient, add_agent
from tests.support.waiting import cli
from tests.support.webchat import new_session

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[2]
LIVE_WITHIN_S = 10


@pytest.fixture
def account(stack: RunningStack) -> Iterator[Callable[..., ConsoleClient]]:
    """A new console account with studio rights on one agency, logged in."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    clients: list[ConsoleClient] = []

    def make(agency: str | None, review: bool = False, role: str = "agent") -> ConsoleClient:
        username = f"ed-{uuid.uuid4().hex[:8]}"
        add_agent(stack.settings.database_url, username, role)  # type: ignore[union-attr]
        if agency:
            granted = cli(stack, "kb", "grant", username, agency, *(["--review"] if review else []))
            assert granted.returncode == 0, granted.stderr
        client = ConsoleClient(stack.base_url)
        assert client.login(username).status_code == 303
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def ask(stack: RunningStack, question: str) -> str:
    response = httpx.post(
        f"{stack.base_url}/webchat/messages",
        json={"session": new_session(stack.base_url), "text": question},
        timeout=60,
    )
    response.raise_for_status()
    return " ".join(m.get("text", "") for m in response.json()["messages"])


def answered_within(stack: RunningStack, question: str, phrase: str) -> float:
    """Seconds until the widget's answer to `question` contains `phrase` (fails after 3x the
    promise, so a slow machine shows as a number, not a hang)."""
    started = time.monotonic()
    while time.monotonic() - started < 3 * LIVE_WITHIN_S:
        if phrase in ask(stack, question):
            return time.monotonic() - started
        time.sleep(0.5)
    pytest.fail(f"{phrase!r} not answered within {3 * LIVE_WITHIN_S} s")


def test_a_reviewed_draft_is_live_in_the_widget_within_ten_seconds_and_rolls_back(
    stack: RunningStack, account: Callable[..., ConsoleClient]
) -> None:
    editor, reviewer = account("benefits"), account("benefits", review=True)
    outsider = account("revenue", review=True)
    question = "Can I get the Northbridge firewood voucher for my wood stove?"
    content = {
        "question": question,
        "alternatives": ["firewood voucher", "help buying firewood for heating"],
        "answer": "Yes: the firewood voucher pays up to 3 cords (code FW-31). Apply by phone.",
    }
    created = editor.post(
        "/console/api/studio/faqs", {"agency": "benefits", "language": "en", **content}
    )
    assert created.status_code == 200, created.text
    faq_id = created.json()["id"]
    try:
        assert outsider.get(f"/console/api/studio/faqs/{faq_id}").status_code == 403
        assert outsider.post(f"/console/api/studio/faqs/{faq_id}/archive").status_code == 403
        assert editor.post(f"/console/api/studio/faqs/{faq_id}/submit").status_code == 200
        refused = editor.post(f"/console/api/studio/faqs/{faq_id}/approve", {"version": 1})
        assert refused.status_code == 403  # an editor is not a reviewer
        assert "FW-31" not in ask(stack, question)

        approved = reviewer.post(f"/console/api/studio/faqs/{faq_id}/approve", {"version": 1})
        assert approved.json() == {"state": "published"}
        assert answered_within(stack, question, "FW-31") <= LIVE_WITHIN_S

        changed = {**content, "answer": "The firewood voucher is closed for this winter."}
        saved = editor.post(
            f"/console/api/studio/faqs/{faq_id}/versions", {**changed, "base_version": 1}
        )
        assert saved.json() == {"version": 2}
        stale = editor.post(
            f"/console/api/studio/faqs/{faq_id}/versions", {**changed, "base_version": 1}
        )
        assert stale.status_code == 409
        assert editor.post(f"/console/api/studio/faqs/{faq_id}/publish-urgent").status_code == 200
        assert answered_within(stack, question, "closed for this winter") <= LIVE_WITHIN_S
        detail = reviewer.get(f"/console/api/studio/faqs/{faq_id}").json()
        assert detail["needs_review"] is True and detail["live_version"] == 2
        diff = editor.get(f"/console/api/studio/faqs/{faq_id}/diff?old=1&new=2").json()
        assert [f["field"] for f in diff["fields"]] == ["answer"]

        back = editor.post(f"/console/api/studio/faqs/{faq_id}/rollback", {"version": 1})
        assert back.json() == {"version": 3}
        assert answered_within(stack, question, "FW-31") <= LIVE_WITHIN_S
    finally:
        reviewer.post(f"/console/api/studio/faqs/{faq_id}/archive")


def test_kb_import_publish_is_live_within_ten_seconds(stack: RunningStack, tmp_path: Path) -> None:
    doc = {
        "agency": {"id": "parks", "name": {"en": "Northbridge Parks", "fr": "Parcs Northbridge"}},
        "faqs": [
            {
                "id": "parks-skating-en",
                "language": "en",
                "question": "When do the outdoor skating rinks open in Northbridge parks?",
                "alternatives": ["outdoor rink opening date", "is the skating rink open"],
                "answer": "Outdoor rinks open when the ice is 15 cm thick; call line RINK-44.",
            }
        ],
    }
    path = tmp_path / "parks.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    done = cli(stack, "kb", "import", str(path), "--publish")
    assert done.returncode == 0, done.stderr
    assert "parks: 1 new, 0 changed, 0 unchanged" in done.stdout
    try:
        question = "When do the outdoor skating rinks open?"
        assert answered_within(stack, question, "RINK-44") <= LIVE_WITHIN_S
        again = cli(stack, "kb", "import", str(path), "--publish")
        assert "parks: 0 new, 0 changed, 1 unchanged" in again.stdout
        exported = cli(stack, "kb", "export", "parks")
        assert yaml.safe_load(exported.stdout)["faqs"][0]["answer"].endswith("RINK-44.")
    finally:
        admin = ConsoleClient(stack.base_url)
        username = f"admin-{uuid.uuid4().hex[:6]}"
        add_agent(stack.settings.database_url, username, "admin")  # type: ignore[union-attr]
        admin.login(username)
        admin.post("/console/api/studio/faqs/parks-skating-en/archive")
        admin.close()


def test_a_bad_import_file_changes_nothing_and_says_where(
    stack: RunningStack, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,language,question,answer\nx-1,en,Q?,A.\nx-2,de,Q?,A.\n", encoding="utf-8")
    done = cli(stack, "kb", "import", str(path), "--agency", "benefits", "--publish")
    assert done.returncode != 0
    assert "unknown language 'de'" in done.stderr + done.stdout
    assert cli(stack, "kb", "export", "benefits").stdout.count("x-1") == 0


def test_preview_shows_the_bots_move_and_warns_of_a_duplicate(
    stack: RunningStack, account: Callable[..., ConsoleClient]
) -> None:
    editor = account("benefits")
    existing = editor.get("/console/api/studio/faqs?agency=benefits").json()["faqs"][0]
    body = {
        "language": existing["language"],
        "question": existing["question"],
        "answer": "A copy.",
        "tests": [existing["question"], "what is the capital of mars"],
    }
    shown = editor.post("/console/api/studio/preview", body)
    assert shown.status_code == 200, shown.text
    result = shown.json()
    assert [w["kind"] for w in result["warnings"]][:1] == ["duplicate"]
    assert result["warnings"][0]["faq_id"] == existing["id"]
    assert len(result["tests"][0]["top"]) == 3
    assert result["tests"][1]["outcome"] in ("handoff", "clarify")
    formatted = editor.post(
        "/console/api/studio/preview",
        {**body, "answer": "Call [us](tel:+18005550163).\n\n- [pay](javascript:alert(1))"},
    ).json()
    assert any(w["kind"] == "format" and "javascript" in w["text"] for w in formatted["warnings"])
    assert formatted["channels"]["sms"] == {
        "text": "Call us (+18005550163).\n\n- pay",
        "segments": 1,
    }


def test_bad_requests_get_a_short_reason_and_change_nothing(
    stack: RunningStack, account: Callable[..., ConsoleClient]
) -> None:
    editor = account("benefits")
    base = "/console/api/studio"
    cases = [
        (
            "post",
            f"{base}/faqs",
            {"agency": "benefits", "language": "de", "question": "Q", "answer": "A"},
            422,
        ),
        (
            "post",
            f"{base}/faqs",
            {
                "agency": "benefits",
                "language": "en",
                "question": "Q",
                "answer": "A",
                "source_url": "javascript:alert(1)",
            },
            400,
        ),
        (
            "post",
            f"{base}/faqs",
            {"agency": "nope", "language": "en", "question": "Q", "answer": "A"},
            403,
        ),
        ("post", f"{base}/faqs/nope/submit", None, 404),
        ("post", f"{base}/faqs/nope/approve", {"version": 0}, 422),
        ("get", f"{base}/faqs?agency=benefits&filter=bogus", None, 400),
        ("get", f"{base}/faqs/..%2F..%2Fetc", None, 404),
        ("get", f"{base}/gaps/99999", None, 404),
    ]
    for method, path, body, status in cases:
        response = editor.post(path, body) if method == "post" else editor.get(path)
        assert response.status_code == status, (path, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json")
    nobody = account(None)  # a console account without studio rights
    assert nobody.get(f"{base}/gaps/1").status_code == 403
    assert nobody.get(f"{base}/agencies").json()["agencies"] == []
    no_csrf = editor.http.post(f"{base}/faqs", json={})
    assert no_csrf.status_code == 403
    assert httpx.get(f"{stack.base_url}{base}/agencies").status_code == 401


def test_unanswered_questions_are_suggested_as_phrasings_of_the_faq_they_mean(
    stack: RunningStack, account: Callable[..., ConsoleClient]
) -> None:
    import datetime as dt

    from bot.knowledge.embedders import e5
    from bot.settings import MODEL_DIR
    from bot.storage.db import Database
    from bot.storage.models import GapCluster, Turn

    editor = account("benefits")
    faq = editor.get("/console/api/studio/faqs?agency=benefits").json()["faqs"][0]
    asked = [f"{faq['question']} please", "something unrelated entirely about zebras"]
    vector = e5(MODEL_DIR).encode_queries([asked[0]])[0]
    db = Database(stack.settings.database_url)  # type: ignore[union-attr]
    now = dt.datetime.now(dt.UTC)
    with db.session() as session:
        gap = GapCluster(
            language=faq["language"],
            label=asked[0],
            size=2,
            centroid=vector.tobytes(),
            created_at=now,
            last_seen_at=now,
        )
        session.add(gap)
        session.flush()
        for text_ in asked[:1]:
            session.add(
                Turn(
                    at=now,
                    conversation_id=f"webchat:s-{uuid.uuid4().hex[:8]}",
                    channel="webchat",
                    language=faq["language"],
                    outcome="no_answer",
                    question=text_,
                    cluster_id=gap.id,
                    clustered=True,
                )
            )
        session.commit()
    db.engine.dispose()
    path = f"/console/api/studio/faqs/{faq['id']}"
    groups = editor.get(f"{path}/suggestions").json()["groups"]
    assert any(asked[0] in g["questions"] for g in groups), groups
    dismissed = editor.post(f"{path}/phrasings/dismiss", {"text": asked[0]})
    assert dismissed.status_code == 200
    groups = editor.get(f"{path}/suggestions").json()["groups"]
    assert not any(asked[0] in g["questions"] for g in groups)
