"""broadcasts: approved WhatsApp templates (Twilio Content SIDs) for copies outside the window

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outreach_broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("whatsapp_template_en", sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column("whatsapp_template_fr", sa.String(length=34), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outreach_broadcasts", schema=None) as batch_op:
        batch_op.drop_column("whatsapp_template_fr")
        batch_op.drop_column("whatsapp_template_en")
