"""Orders remember the trace of the request that created them (one trace per payment).

``trace_context`` is the W3C traceparent of that request; work done later on the order's
behalf (callback, outbox consumers, sweeps) runs in that trace (common.telemetry.order_span).
NULL for orders created before this revision: their later work gets traces of its own.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("pay_order", "refund_order"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("trace_context", sa.String(64)))


def downgrade() -> None:
    for table in ("refund_order", "pay_order"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("trace_context")
