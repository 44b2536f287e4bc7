"""Fixtures of the integration tests: the app database on SQLite and on PostgreSQL (the
scale path)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.storage.db import Database

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        schema = "t_" + uuid.uuid4().hex[:10]
        database = Database(POSTGRES_URL)
        try:
            with database.engine.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        except OperationalError as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL is required in CI: {exc}")
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
        database.engine.dispose()
        database = Database(POSTGRES_URL + f"?options=-csearch_path%3D{schema}")
    database.create_schema()
    yield database
    if request.param == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    database.engine.dispose()
