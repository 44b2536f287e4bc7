"""Crash tests: kill -9 the app at each stage of a message's life, restart it, count the answers.

The engine keeps running; the app is killed and restarted on the same port and database (SQLite, the
embedded default). Stages: after the webhook was stored and acknowledged, while the engine is
working on the message, after the engine answered but before the reply was stored, after the reply
was claimed for sending, and while the provider is receiving it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import insert

from bot import stack as stack_module
from bot.handoff.agents import Agents
from bot.outreach.broadcasts import Broadcasts
from bot.outreach.topics import Topics, validated
from bot.settings import ROOT, Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import Subscription
from tests.conftest import IN_CI, NO_RATE_LIMITS, TWILIO_SID, TWILIO_TOKEN, free_port
from tests.support.fakes import FakeTwilio, twilio_signature
from tests.support.proxy import SwitchableProxy
from tests.support.waiting import until

pytestmark = pytest.mark.stack


@dataclass
class ChaosRig:
    settings: Settings
    proxy: SwitchableProxy
    twilio: FakeTwilio
    var_dir: Path

    def start_app(
        self, failpoint: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        for marker in self.var_dir.glob("failpoint-*"):
            marker.unlink()
        env = {**(env or {}), **({"GOVBOT_FAILPOINT": failpoint} if failpoint else {})}
        app = stack_module.start_app(self.settings, f"http://127.0.0.1:{self.proxy.port}", env)
        if not stack_module.wait_ready(
            f"http://127.0.0.1:{self.settings.port}/healthz", [app], timeout_s=300
        ):
            app.kill()
            pytest.fail("the app did not become ready")
        return app

    def sms(self, number: str, body: str) -> None:
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": TWILIO_SID,
            "From": number,
            "To": "+15145550199",
            "Body": body,
        }
        url = f"http://127.0.0.1:{self.settings.port}/channels/twilio/sms"
        response = httpx.post(
            url,
            content=urlencode(params),
            headers={
                "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, params),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert response.status_code == 200

    def texts_to(self, number: str) -> list[str]:
        return [r.body["Body"] for r in self.twilio.requests if r.body.get("To") == number]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosRig]:
    if not stack_module.MODEL.exists():
        (pytest.fail if IN_CI else pytest.skip)("no trained Rasa model; `make test` trains it")
    var_dir = tmp_path_factory.mktemp("chaos")
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as twilio:
        port = free_port()
        settings = Settings(
            port=port,
            engine_port=free_port(),
            var_dir=var_dir,
            public_base_url=f"http://127.0.0.1:{port}",
            database_url=f"sqlite:///{var_dir / 'app.db'}",
            index_dir=ROOT / "var" / "index",
            retry_interval_s=0.5,
            # Crash recovery is under test, not the engine's speed: on a busy, shared machine a turn
            # can take longer than the default 15 s, and the citizen would (rightly) be told the
            # service is briefly unavailable before the answer.
            engine_timeout_s=180,
            lease_s=4,
            claim_s=4,
            twilio_account_sid=TWILIO_SID,
            twilio_auth_token=TWILIO_TOKEN,
            twilio_from_number="+15145550199",
            twilio_api_base=twilio.base_url,
            **NO_RATE_LIMITS,
        )
        settings = stack_module.with_run_secrets(settings)  # the engine answers only ENGINE_TOKEN
        engine = stack_module.start_engine(settings)
        proxy = SwitchableProxy(settings.engine_port)
        try:
            if not stack_module.wait_ready(
                f"http://127.0.0.1:{settings.engine_port}/", [engine], timeout_s=300
            ):
                pytest.fail("the engine did not become ready")
            yield ChaosRig(settings, proxy, twilio, var_dir)
        finally:
            stack_module.stop([engine])
            proxy.close()


@pytest.mark.parametrize(
    "stage", ["after_store", "during_engine", "after_engine", "before_send", "during_send"]
)
def test_a_crash_at_any_stage_loses_nothing(rig: ChaosRig, stage: str) -> None:
    number = "+1438555" + str(uuid.uuid4().int)[:4]
    app = rig.start_app(stage if stage in ("after_store", "after_engine", "before_send") else None)
    calls_before = rig.proxy.engine_calls
    # Slow links only once the app is up (its health check goes through the same proxy).
    rig.proxy.response_delay_s = 30.0 if stage == "during_engine" else 0.0
    rig.twilio.delay_s = 30.0 if stage == "during_send" else 0.0
    try:
        rig.sms(number, "How do I renew my driver's licence?")
        reached = {
            "during_engine": lambda: rig.proxy.engine_calls > calls_before,
            "during_send": lambda: len(rig.texts_to(number)) >= 1,
        }.get(stage, lambda: (rig.var_dir / f"failpoint-{stage}").exists())
        assert until(reached, 90), f"the app never reached {stage}"
        time.sleep(0.5)
    finally:
        os.kill(app.pid, signal.SIGKILL)
        app.wait()
    rig.proxy.response_delay_s = 0.0
    rig.twilio.delay_s = 0.0
    restarted = rig.start_app()
    try:
        assert until(lambda: len(rig.texts_to(number)) >= (2 if stage == "during_send" else 1), 90)
        time.sleep(3)  # anything sent twice would show up by now
    finally:
        stack_module.stop([restarted])
    texts = rig.texts_to(number)
    assert all("renew" in t.lower() for t in texts)
    if stage == "during_send":
        # The provider had the request when the app died and no provider API takes an idempotency
        # key: the reply is sent again after the claim expires (at least once, never lost).
        assert len(texts) == 2
    else:
        assert len(texts) == 1, f"exactly one answer after a crash {stage.replace('_', ' ')}"


SUBSCRIBERS = 10_000


def test_a_broadcast_killed_mid_way_reaches_each_subscriber_exactly_once(rig: ChaosRig) -> None:
    """kill -9 while a broadcast to 10,000 subscribers is being queued and sent, then restart:
    every subscriber gets it once. Whole batches are queued or none; a send the crash cut short
    is looked up in Twilio's message list before it is sent again."""
    db = Database(rig.settings.database_url)
    db.create_schema()
    audit = AuditLog(db)
    agents = Agents(db, audit)
    for name in ("chaos-maker", "chaos-checker"):
        agents.add(name, "correct horse battery staple 42", "supervisor")
    Topics(db, audit).add(validated("chaos", "Chaos", "Chaos", None), "test")
    numbers = [f"+1438{n:07d}" for n in range(SUBSCRIBERS)]
    with db.session() as session:
        session.execute(
            insert(Subscription),
            [
                {
                    "channel": "sms",
                    "address": number,
                    "topic": "chaos",
                    "state": "active",
                    "language": "en",
                    "timezone": "America/Toronto",
                    "wording": "(seeded)",
                }
                for number in numbers
            ],
        )
        session.commit()
    broadcasts = Broadcasts(db, audit)
    text = "Chaos drill: this message comes once."
    broadcast_id = broadcasts.create("chaos", text, None, True, "chaos-maker")
    broadcasts.approve(broadcast_id, "chaos-checker")
    # Small batches, so that the kill usually comes while copies are still being queued.
    fast = {"OUTREACH_RATES": '{"sms": 1000}', "OUTREACH_BATCH": "50"}

    def received() -> list[str]:
        return [r.body["To"] for r in rig.twilio.requests if r.body.get("Body") == text]

    app = rig.start_app(env=fast)
    try:
        assert until(lambda: len(received()) >= 300, 180), "the broadcast never started"
    finally:
        os.kill(app.pid, signal.SIGKILL)
        app.wait()
    at_kill = broadcasts.status(broadcast_id)
    restarted = rig.start_app(env=fast)
    try:
        assert until(lambda: broadcasts.status(broadcast_id)["sent"] == SUBSCRIBERS, 600), (
            broadcasts.status(broadcast_id)
        )
        time.sleep(3)  # a second copy would show up by now
    finally:
        stack_module.stop([restarted])
    got = received()
    assert len(got) == SUBSCRIBERS, f"{len(got) - len(set(got))} duplicates; at the kill {at_kill}"
    assert set(got) == set(numbers)
    final = broadcasts.status(broadcast_id)
    assert (final["queued"], final["in_doubt"], final["pending"]) == (SUBSCRIBERS, 0, 0)
    print(f"at the kill: {at_kill}; Twilio list lookups after the restart: {rig.twilio.lookups}")
    db.engine.dispose()
