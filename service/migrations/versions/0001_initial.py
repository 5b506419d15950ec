"""The store as the service first created it: threads, runs, checkpoints, assistants, workers.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    # The service's own type (service.db.UtcDateTime) stores naive UTC in a plain DateTime.
    op.create_table(
        "threads",
        sa.Column("thread_id", sa.String(36), primary_key=True),
        sa.Column("metadata", Json, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("state_updated_at", sa.DateTime),
    )
    op.create_table(
        "runs",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), nullable=False, unique=True),
        sa.Column("thread_id", sa.String(36), nullable=False),
        sa.Column("assistant_id", sa.String(36), nullable=False),
        sa.Column("graph_id", sa.String, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metadata", Json, nullable=False),
        sa.Column("kwargs", Json, nullable=False),
        sa.Column("multitask_strategy", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("available_at", sa.DateTime, nullable=False),
        sa.Column("worker_id", sa.String(32)),
        sa.Column("cancel_action", sa.String(16)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", Json),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_runs_status_seq", "runs", ["status", "seq"])
    op.create_index("ix_runs_thread_status", "runs", ["thread_id", "status"])
    op.create_table(
        "checkpoints",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("checkpoint_id", sa.String(36), nullable=False, unique=True),
        sa.Column("thread_id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36)),
        sa.Column("parent_checkpoint_id", sa.String(36)),
        sa.Column("values", Json, nullable=False),
        sa.Column("metadata", Json, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_checkpoints_thread_id", "checkpoints", ["thread_id"])
    op.create_index("ix_checkpoints_run_id", "checkpoints", ["run_id"])
    op.create_table(
        "assistants",
        sa.Column("assistant_id", sa.String(36), primary_key=True),
        sa.Column("graph_id", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("description", sa.String),
        sa.Column("config", Json, nullable=False),
        sa.Column("context", Json, nullable=False),
        sa.Column("metadata", Json, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("worker_id", sa.String(32), primary_key=True),
        sa.Column("hostname", sa.String, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("heartbeat", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("workers", "assistants", "checkpoints", "runs", "threads"):
        op.drop_table(table)
