"""Persistence: SQLAlchemy models and the database connection (SQLite by default, PostgreSQL
at scale)."""
