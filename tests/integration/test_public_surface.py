"""What the app shows the public, on the real app (`create_app`, its middleware and routes): no API
description, the actions endpoint closed without a token, security headers on every answer, and
the login form's cookie Secure under https."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.handoff.agents import Agents
from bot.settings import Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.web.app import create_app
from bot.web.headers import DEMO_PAGE

CALL = {"next_action": "action_nothing", "sender_id": "x", "tracker": {}, "domain": {}}


def app_with(settings: Settings, tmp_path: Path) -> FastAPI:
    """The real app with its middleware and routes; instead of its start-up (engine, index,
    workers: a TestClient used without `with` does not run it), only settings and accounts are
    served."""
    app = create_app(settings)
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_schema()
    app.state.services = SimpleNamespace(
        settings=settings,
        db=db,
        agents=Agents(db, AuditLog(db)),
        centre=SimpleNamespace(heartbeat=lambda agent: None),
    )
    return app


def client_of(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    """A client of `app` that does not start it (no lifespan)."""
    return TestClient(app, base_url=base_url)


@pytest.fixture
def plain(tmp_path: Path) -> TestClient:
    return client_of(app_with(Settings(actions_token=None), tmp_path))


@pytest.fixture
def https(tmp_path: Path) -> TestClient:
    settings = Settings(public_base_url="https://chat.example.gov", actions_token="a-real-token-42")
    return client_of(app_with(settings, tmp_path), "https://chat.example.gov")


def test_no_api_description_is_public(plain: TestClient) -> None:
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert plain.get(path).status_code == 404, path


@pytest.mark.parametrize("token", [None, "", "   "])
def test_the_actions_endpoint_refuses_everyone_without_a_configured_token(
    tmp_path: Path, token: str | None
) -> None:
    client = client_of(app_with(Settings(actions_token=token), tmp_path))
    for query in ({}, {"token": ""}, {"token": "anything"}, {"token": "   "}):
        response = client.post("/actions/webhook", params=query, json=CALL)
        assert response.status_code == 403, (token, query)
        assert response.json() == {"error": "bad or missing action token"}


def test_the_actions_endpoint_takes_only_its_token(https: TestClient) -> None:
    assert https.post("/actions/webhook", json=CALL).status_code == 403
    wrong = https.post("/actions/webhook", params={"token": "a-real-token-43"}, json=CALL)
    assert wrong.status_code == 403
    odd = https.post("/actions/webhook", params={"token": "é" * 15}, json=CALL)
    assert odd.status_code == 403  # not a 500 from comparing non-ASCII text
    right = https.post("/actions/webhook", params={"token": "a-real-token-42"}, json=[])
    assert right.status_code == 400 and right.json() == {"error": "not an action call"}


def test_the_demo_page_has_a_strict_policy_that_still_allows_its_own_style(
    plain: TestClient,
) -> None:
    page = plain.get("/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "object-src 'none'" in policy
    style = re.search(r"<style>(.*?)</style>", DEMO_PAGE.read_text(encoding="utf-8"), re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style[1].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy  # the page's own inline style, and only it
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in page.headers  # plain http: no HSTS


def test_the_widget_script_can_be_embedded_but_not_sniffed(plain: TestClient) -> None:
    script = plain.get("/webchat/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["x-content-type-options"] == "nosniff"
    # agency sites load it from another origin
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "frame-ancestors 'none'" in script.headers["content-security-policy"]


def test_every_answer_has_the_headers_and_hsts_under_https(https: TestClient) -> None:
    for path in ("/", "/webchat/widget.js", "/nowhere", "/console/login", "/console/api/me"):
        response = https.get(path, follow_redirects=False)
        assert response.headers["strict-transport-security"].startswith("max-age=31536000"), path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
    console = https.get("/console/api/me")
    assert console.status_code == 401  # the console's own strict policy, set by its routes
    assert "connect-src 'self'" in console.headers["content-security-policy"]
    missing = https.get("/nowhere")
    assert missing.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_login_forms_cookie_is_secure_under_https(https: TestClient, plain: TestClient) -> None:
    secure = https.get("/console/login").headers["set-cookie"]
    assert secure.startswith("govbot_login_csrf=") and "Secure" in secure
    assert "HttpOnly" in secure and "SameSite=strict" in secure
    assert "Secure" not in plain.get("/console/login").headers["set-cookie"]
