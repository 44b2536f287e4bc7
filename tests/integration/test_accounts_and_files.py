"""Console accounts need passwords that are hard to guess (zxcvbn, offline), through the real
`govbot agents` commands; and what the app writes under var/ (the database and its WAL, the
endpoints file with the actions token) is private to its account."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import stack
from bot.handoff.agents import AccountError, Agents, check_password
from bot.settings import ROOT, Settings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from tests.conftest import free_port

STRONG = "correct horse battery staple"


def govbot(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the real CLI (`python -m bot.cli ...`) on this database."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        check=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess'),
        ("password1234", "very common password"),
        ("qwertyuiop12", "commonly used password"),
        ("short", "at least 12 characters"),
        ("ana.tremblay-2024", "too easy to guess"),  # the account's own name, and a year
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(AccountError, match="password") as refused:
        check_password(password, "ana.tremblay", "Ana Tremblay")
    assert why in str(refused.value)


def test_a_strong_password_passes() -> None:
    check_password(STRONG, "ana", "Ana")
    check_password("Tr0ub4dor&3-horse-staple", "ana")


def test_the_cli_refuses_a_weak_password_and_changes_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    weak = govbot(url, "agents", "add", "--username", "ana", "--password-stdin", stdin="a" * 12)
    assert weak.returncode == 1
    assert "error: password is too easy to guess" in weak.stderr and "Repeats" in weak.stderr
    added = govbot(url, "agents", "add", "--username", "ana", "--password-stdin", stdin=STRONG)
    assert added.returncode == 0, added.stderr
    db = Database(url)
    agents = Agents(db, AuditLog(db))
    agent = agents.authenticate("ana", STRONG, "127.0.0.1")
    assert agent is not None
    token, _ = agents.start_session(agent, 3600, "127.0.0.1")
    again = govbot(url, "agents", "password", "ana", "--password-stdin", stdin="aaaaaaaaaaaa")
    assert again.returncode == 1 and "too easy to guess" in again.stderr
    assert agents.authenticate("ana", STRONG, "127.0.0.1") is not None  # unchanged
    new = "staple battery horse correct!"
    changed = govbot(url, "agents", "password", "ana", "--password-stdin", stdin=new)
    assert changed.returncode == 0, changed.stderr
    assert agents.authenticate("ana", new, "127.0.0.1") is not None
    assert agents.authenticate("ana", STRONG, "127.0.0.1") is None
    assert agents.session_for(token) is None  # a changed password ends the sessions
    nobody = govbot(url, "agents", "password", "bob", "--password-stdin", stdin=new)
    assert nobody.returncode == 1 and "no agent 'bob'" in nobody.stderr
    db.engine.dispose()


def test_the_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # what a shell usually has: files 0644 unless the app says
    try:
        db = Database(f"sqlite:///{tmp_path / 'var' / 'data' / 'app.db'}")
        db.create_schema()
        with db.engine.connect() as connection:  # a reader keeps the WAL and SHM files open
            Agents(db, AuditLog(db)).add("ana", STRONG)
            files = sorted(p.name for p in (tmp_path / "var" / "data").iterdir())
            assert files == ["app.db", "app.db-shm", "app.db-wal"]
            for name in files:
                assert mode(tmp_path / "var" / "data" / name) == 0o600, name
            connection.close()
        assert mode(tmp_path / "var") == mode(tmp_path / "var" / "data") == 0o700
        db.engine.dispose()
        # an older install's world-readable database is tightened when the app opens it
        loose = tmp_path / "loose.db"
        loose.touch(mode=0o644)
        Database(f"sqlite:///{loose}").ping()
        assert mode(loose) == 0o600
    finally:
        os.umask(old_umask)


def test_the_endpoints_file_with_the_actions_token_is_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        var = tmp_path / "var"
        var.mkdir(mode=0o755)
        os.chmod(var, 0o755)
        settings = Settings(var_dir=var, engine_port=5999, actions_token="s3cr3t-token-value")
        stale = var / "endpoints-5999.yml"
        stale.write_text("old")
        os.chmod(stale, 0o644)
        written = stack.write_endpoints(settings)
        assert written == stale and mode(written) == 0o600 and mode(var) == 0o700
        action = yaml.safe_load(written.read_text())["action_endpoint"]
        assert action["token"] == "s3cr3t-token-value"
    finally:
        os.umask(old_umask)


def test_a_govbot_command_creates_a_private_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'app.db'}"
    listed = govbot(url, "agents", "list")
    assert listed.returncode == 0, listed.stderr
    assert mode(tmp_path / "fresh") == 0o700
    assert mode(tmp_path / "fresh" / "app.db") == 0o600


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_the_stack_starts_its_processes_with_a_private_umask(tmp_path: Path) -> None:
    """What the engine and the app create later (tracker store, index, logs) is private too."""
    settings = Settings(
        var_dir=tmp_path, port=free_port(), database_url=f"sqlite:///{tmp_path / 'app.db'}"
    )
    process = stack.start_app(settings)
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
        assert "Umask:\t0077" in status
    finally:
        stack.stop([process])
