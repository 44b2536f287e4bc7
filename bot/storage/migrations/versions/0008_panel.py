"""citizen panel: members with consent and profile, surveys, waves, places, answers, tallies

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "panel_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("profile_step", sa.String(length=16), nullable=True),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "address", name="uq_panel_member"),
    )
    op.create_table(
        "panel_surveys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "panel_waves",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_after_h", sa.Integer(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("we_did_en", sa.Text(), nullable=True),
        sa.Column("we_did_fr", sa.Text(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["panel_surveys.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "panel_places",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["panel_members.id"]),
        sa.ForeignKeyConstraint(["wave_id"], ["panel_waves.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wave_id", "member_id", name="uq_panel_place"),
    )
    op.create_index("ix_panel_place_member", "panel_places", ["member_id", "state"])
    op.create_index("ix_panel_place_remind", "panel_places", ["state", "remind_at"])
    op.create_table(
        "panel_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("choice", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["panel_places.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("place_id", "question", name="uq_panel_answer"),
    )
    op.create_index("ix_panel_answer_wave", "panel_answers", ["wave_id", "question"])
    op.create_table(
        "panel_tallies",
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("grp", sa.String(length=40), nullable=False),
        sa.Column("choice", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("wave_id", "question", "dimension", "grp", "choice"),
    )


def downgrade() -> None:
    op.drop_table("panel_tallies")
    op.drop_index("ix_panel_answer_wave", table_name="panel_answers")
    op.drop_table("panel_answers")
    op.drop_index("ix_panel_place_remind", table_name="panel_places")
    op.drop_index("ix_panel_place_member", table_name="panel_places")
    op.drop_table("panel_places")
    op.drop_table("panel_waves")
    op.drop_table("panel_surveys")
    op.drop_table("panel_members")
