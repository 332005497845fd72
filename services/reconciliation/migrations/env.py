"""Alembic environment of the reconciliation database: the shared online runner."""

from __future__ import annotations

from alembic import context

from paymesh.services.common.db import run_migrations_online

run_migrations_online(context)
