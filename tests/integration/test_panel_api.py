"""The citizen panel's console API (/console/api/panel) and public page (/panel/waves/{id}) on the
real app (`create_app`, its middleware and routes) over SQLite and PostgreSQL, with the panel's
services and accounts only: supervisors only, surveys from YAML with the reason for a refusal, waves
scheduled and cancelled, results and CSV, publishing, odd ids and bodies never a 500, and the
public page escaping what staff wrote."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.handoff.agents import Agents
from bot.inbox.quiet_hours import QuietHours
from bot.panel.citizen import PanelCitizen
from bot.panel.profile import profile_questions
from bot.panel.results import Results
from bot.panel.sweep import WaveSweep
from bot.panel.waves import Waves
from bot.settings import Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import PanelSurvey, PanelWave
from bot.web.app import create_app
from connectors.capabilities import SMS
from tests.integration.test_outreach_api import PASSWORD, Console
from tests.support.panel import PROFILE

API = "/console/api/panel"
SURVEY = """
title: Office hours
questions:
  - key: open
    kind: single
    en: When should the office open?
    fr: Quand le bureau devrait-il ouvrir?
    options:
      - {key: early, en: Earlier, fr: Plus tôt}
      - {key: late, en: Later, fr: Plus tard le soir}
"""


@pytest.fixture
def services(db: Database) -> SimpleNamespace:
    audit = AuditLog(db)
    agents = Agents(db, audit)
    for name, role in (("lead", "supervisor"), ("agent1", "agent")):
        agents.add(name, PASSWORD, role)
    return SimpleNamespace(
        settings=Settings(actions_token=None),
        db=db,
        agents=agents,
        centre=SimpleNamespace(heartbeat=lambda agent: None),
        waves=Waves(db, audit, "Northbridge Services"),
        results=Results(db),
    )


@pytest.fixture
def app_client(services: SimpleNamespace) -> Iterator[Any]:
    app = create_app(services.settings)
    app.state.services = services
    clients: list[TestClient] = []

    def make() -> Console:
        client = TestClient(app)
        clients.append(client)
        return Console(client, API)

    yield make
    for client in clients:
        client.close()


def counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(PanelSurvey)) or 0),
            int(session.scalar(select(func.count()).select_from(PanelWave)) or 0),
        )


def test_only_supervisors_get_in(app_client: Any) -> None:
    agent = app_client().login("agent1")
    assert agent.get("").status_code == 403
    assert agent.post("/surveys", {"text": SURVEY}).status_code == 403
    assert app_client().http.get(API).status_code == 401


def test_a_survey_a_wave_its_results_and_its_public_page(
    app_client: Any, services: SimpleNamespace, db: Database
) -> None:
    lead = app_client().login("lead")
    bad = lead.post("/surveys", {"text": "title: [unclosed"})
    assert bad.status_code == 422 and "YAML" in bad.json()["error"]
    wrong = lead.post("/surveys", {"text": "title: x\nquestions: []"})
    assert wrong.status_code == 422 and "questions" in wrong.json()["error"]
    assert lead.post("/surveys", {"text": SURVEY}, csrf=False).status_code == 403
    assert counts(db) == (0, 0)
    created = lead.post("/surveys", {"text": SURVEY})
    assert created.status_code == 200, created.text
    survey = created.json()["survey"]

    later = lead.post("/waves", {"survey_id": survey, "send_at": "2099-01-01T09:00:00-05:00"})
    assert later.status_code == 422 and "year ahead" in later.json()["error"]
    naive = lead.post("/waves", {"survey_id": survey, "send_at": "2030-01-01T09:00:00"})
    assert naive.status_code == 422 and "time zone" in naive.json()["error"]
    assert lead.post("/waves", {"survey_id": 99999}).status_code == 422
    refused = lead.post("/waves", {"survey_id": survey, "remind_after_h": 10, "open_for_h": 5})
    assert refused.status_code == 422 and "reminder" in refused.json()["error"]
    wave = lead.post("/waves", {"survey_id": survey}).json()["wave"]
    listed = lead.get("").json()
    assert (
        listed["waves"][0] | {"id": wave, "title": "Office hours", "state": "scheduled"}
        == (listed["waves"][0])
    )
    assert lead.post(f"/waves/{wave}/publish", {"we_did_en": "x"}).status_code == 409

    # Twelve members answer; the sweep opens the wave at once (no quiet hours here).
    panel = PanelCitizen(db, profile_questions(PROFILE), "Northbridge Services")
    numbers = [f"+1514555{n:04d}" for n in range(12)]
    for number in numbers:
        for text in ("PANEL", "AGREE", "1", "SKIP"):
            assert panel.handle("sms", number, text, SMS) is not None
    WaveSweep(db, "Northbridge Services", "America/Toronto", QuietHours(0, 0)).run_once()
    assert lead.post(f"/waves/{wave}/cancel").status_code == 409  # open: too late
    for i, number in enumerate(numbers):
        assert panel.handle("sms", number, "1" if i < 9 else "2", SMS) is not None
    results = lead.get(f"/waves/{wave}/results").json()
    [question] = results["questions"]
    assert question["respondents"] == 12
    assert [c["count"] for c in question["cells"]] == [9, 3]
    french = lead.get(f"/waves/{wave}/results", params={"lang": "fr"}).json()
    assert french["questions"][0]["cells"][0]["label"] == "Plus tôt"
    as_csv = lead.get(f"/waves/{wave}/results.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert f"{wave},open,all,,early,12,9,0.75,no" in as_csv.text

    public = app_client().http
    assert public.get(f"/panel/waves/{wave}").status_code == 404
    published = lead.post(
        f"/waves/{wave}/publish",
        {"we_did_en": "We open at 7:30 <b>now</b>.", "we_did_fr": "Nous ouvrons à 7 h 30."},
    )
    assert published.status_code == 200 and published.json()["public_url"] == f"/panel/waves/{wave}"
    page = public.get(f"/panel/waves/{wave}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "We open at 7:30 &lt;b&gt;now&lt;/b&gt;." in page.text and "<b>now" not in page.text
    assert "75 %" in page.text and "12 people answered" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "Nous ouvrons" in public.get(f"/panel/waves/{wave}", params={"lang": "fr"}).text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/waves/0/results", None),
        ("GET", "/waves/99999999999/results", None),
        ("GET", "/waves/abc/results.csv", None),
        ("GET", "/waves/1/results?lang=de", None),
        ("POST", "/surveys", {"text": ""}),
        ("POST", "/surveys", {"text": "a\x00b"}),
        ("POST", "/surveys", {"text": "x" * 20_001}),
        ("POST", "/surveys", {"text": "- just\n- a list"}),
        ("POST", "/surveys", {"text": "&a [*a, *a, *a]"}),
        ("POST", "/surveys", [1, 2]),
        ("POST", "/waves", {"survey_id": "one"}),
        ("POST", "/waves", {"survey_id": 1, "sample": 0}),
        ("POST", "/waves", {"survey_id": 1, "send_at": "0001-01-01T00:00:00+05:00"}),
        ("POST", "/waves/5/publish", {"we_did_en": ""}),
        ("POST", "/waves/5/cancel", None),
    ],
)
def test_odd_ids_and_bodies_are_refused_with_4xx_and_change_nothing(
    app_client: Any, db: Database, method: str, path: str, body: Any
) -> None:
    lead = app_client().login("lead")
    response = lead.get(path) if method == "GET" else lead.post(path, body)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    assert response.json()["error"]
    assert counts(db) == (0, 0)
