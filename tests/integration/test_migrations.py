"""The migrations build exactly the schema the models declare (a column added to a model without
its migration would fail here, not in production)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.storage.db import Database
from bot.storage.models import Base


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
