"""X-Forwarded-For is believed only from TRUSTED_PROXIES: from any other peer (127.0.0.1 included:
uvicorn trusts it by default) a forged address changes neither the audit log nor the limits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select

from bot.settings import Settings
from bot.storage.models import AuditEntry
from bot.web.forwarded import client_address, networks
from tests.support.served import app_settings, client_from, served

PROXY = "127.0.0.8"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = app_settings(
        tmp_path_factory.mktemp("forwarded"),
        trusted_proxies=[f"{PROXY}/32"],
        rate_limit_per_address="10/hour",
    )
    with served(settings):
        yield settings


def test_the_client_is_the_nearest_untrusted_hop() -> None:
    trusted = networks(("10.0.0.0/8",))
    headers = {"x-forwarded-for": "1.2.3.4, 203.0.113.7, 10.0.0.2"}
    assert client_address("10.0.0.1", headers, trusted) == "203.0.113.7"  # 1.2.3.4 is forgeable
    assert client_address("198.51.100.1", headers, trusted) == "198.51.100.1"  # not a proxy
    assert client_address("10.0.0.1", {"x-forwarded-for": "junk"}, trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", headers, ()) == "10.0.0.1"  # no proxies: the peer


def _failed_login(settings: Settings, address: str, forwarded: str) -> str:
    """Fail one login from `address` claiming to forward `forwarded`; the audited address."""
    url = f"http://127.0.0.1:{settings.port}/console/login"
    headers = {"X-Forwarded-For": forwarded}
    with client_from(address) as client:
        form = client.get(url, headers=headers)
        match = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert match
        data = {"username": "nobody-" + forwarded, "password": "wrong", "csrf": match[1]}
        assert client.post(url, data=data, headers=headers).status_code == 401
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        ip = conn.scalar(select(AuditEntry.ip).where(AuditEntry.username == "nobody-" + forwarded))
    engine.dispose()
    return str(ip)


def test_a_forged_address_is_not_audited(app: Settings) -> None:
    assert _failed_login(app, "127.0.0.7", "203.0.113.9") == "127.0.0.7"


def test_a_trusted_proxy_gives_the_real_client(app: Settings) -> None:
    assert _failed_login(app, PROXY, "203.0.113.10") == "203.0.113.10"


def test_forging_addresses_does_not_escape_the_limit(app: Settings) -> None:
    url = f"http://127.0.0.1:{app.port}/"
    with client_from("127.0.0.9") as client:
        codes = [
            client.get(url, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(15)
        ]
    assert codes.count(200) == 10 and codes.count(429) == 5


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(app: Settings) -> None:
    url = f"http://127.0.0.1:{app.port}/"
    with client_from(PROXY) as proxy:
        codes = [
            proxy.get(url, headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code
            for n in range(15)
        ]
    assert codes == [200] * 15
