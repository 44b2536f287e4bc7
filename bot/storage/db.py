"""The database engine and sessions, chosen by DATABASE_URL; SQLite runs in WAL mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from bot.storage.files import private_sqlite

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration for the app's migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine for `url`; for SQLite, creates the file private (bot/storage/files.py) and turns on
    WAL and a busy timeout.
    Server databases get a pool of `pool_size` connections (plus as many again on bursts)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if path and path != ":memory:":
            private_sqlite(Path(path))  # citizen data: 0600, its folder 0700 when new
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten rows (a message's raw text replaced by its redaction) are
            # zeroed in the file, whatever the SQLite build's default; then
            # bot.privacy.sqlite_scrub.scrub needs no VACUUM.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


class Database:
    """One engine and its session factory; `create_schema` makes the tables if missing."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        """Bring the schema to the latest migration (creates it on a new database)."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Replicas start together; one migrates, the others wait, then find nothing to do.
                connection.execute(text("SELECT pg_advisory_xact_lock(7318201)"))
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def session(self) -> Session:
        """A new session (use as a context manager)."""
        return self.sessions()


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE touched (0 when the driver cannot tell)."""
    # Session.execute is typed as returning a plain Result; DML gives a CursorResult.
    return cast(CursorResult[Any], result).rowcount or 0
