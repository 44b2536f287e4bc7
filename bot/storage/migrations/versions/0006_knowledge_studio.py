"""knowledge studio: agencies, FAQs and their versions, grants, the live revision; agents' e-mail

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 17:37:02.164852
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "kb_agencies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("second_reviewer", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "kb_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    revision_table = sa.table(
        "kb_revision",
        sa.column("id", sa.Integer()),
        sa.column("number", sa.Integer()),
        sa.column("changed_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(revision_table, [{"id": 1, "number": 0, "changed_at": dt.datetime.now(dt.UTC)}])
    op.create_table(
        "kb_faqs",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("parallel_id", sa.String(length=128), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=True),
        sa.Column("head_version", sa.Integer(), nullable=False),
        sa.Column("scheduled_version", sa.Integer(), nullable=True),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reviewed", sa.Date(), nullable=True),
        sa.Column("gap_id", sa.Integer(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["kb_agencies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_faqs", schema=None) as batch_op:
        batch_op.create_index("ix_kb_faqs_agency_state", ["agency_id", "state"], unique=False)

    op.create_table(
        "kb_grants",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("may_review", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", "agency_id"),
    )
    op.create_table(
        "kb_faq_versions",
        sa.Column("faq_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["faq_id"], ["kb_faqs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("faq_id", "number"),
    )
    op.create_table(
        "kb_dismissed",
        sa.Column("faq_id", sa.String(length=128), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["faq_id"], ["kb_faqs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("faq_id", "text_hash"),
    )


def downgrade() -> None:
    op.drop_table("kb_dismissed")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("email")
    op.drop_table("kb_faq_versions")
    op.drop_table("kb_grants")
    with op.batch_alter_table("kb_faqs", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_faqs_agency_state")

    op.drop_table("kb_faqs")
    op.drop_table("kb_revision")
    op.drop_table("kb_agencies")
