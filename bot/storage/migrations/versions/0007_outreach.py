"""outreach: topics, subscriptions with consent, broadcasts and their deliveries, the register of
false claims; the provider's delivery status of outbound messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:05:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_outbound_provider_id", ["provider_message_id"], unique=False)
        batch_op.add_column(sa.Column("channel", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_outbound_kind_due", ["kind", "status", "channel", "next_attempt_at"], unique=False
        )
    topics = op.create_table(
        "outreach_topics",
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=True),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("name_fr", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.bulk_insert(
        topics,
        [
            {
                "slug": "general",
                "agency": None,
                "name_en": "General news",
                "name_fr": "Nouvelles générales",
                "created_at": dt.datetime.now(dt.UTC),
            }
        ],
    )
    op.create_table(
        "outreach_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=160), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["topic"], ["outreach_topics.slug"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "address", "topic", name="uq_subscription_citizen_topic"),
    )
    op.create_index(
        "ix_subscription_topic_state", "outreach_subscriptions", ["topic", "state", "id"]
    )
    op.create_table(
        "outreach_broadcasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("text_fr", sa.Text(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("fanned_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["topic"], ["outreach_topics.slug"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "outreach_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("outbound_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["broadcast_id"], ["outreach_broadcasts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "subscription_id", name="uq_delivery_once"),
    )
    op.create_index("ix_delivery_outbound", "outreach_deliveries", ["outbound_id"])
    op.create_table(
        "outreach_claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=True),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("faq_id", sa.String(length=128), nullable=True),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("broadcast_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["broadcast_id"], ["outreach_broadcasts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("outreach_claims")
    op.drop_index("ix_delivery_outbound", table_name="outreach_deliveries")
    op.drop_table("outreach_deliveries")
    op.drop_table("outreach_broadcasts")
    op.drop_index("ix_subscription_topic_state", table_name="outreach_subscriptions")
    op.drop_table("outreach_subscriptions")
    op.drop_table("outreach_topics")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_kind_due")
        batch_op.drop_column("channel")
        batch_op.drop_index("ix_outbound_provider_id")
        batch_op.drop_column("delivery_status")
