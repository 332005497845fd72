"""Alembic environment of the channel service: the mesh's one way of running migrations."""

from __future__ import annotations

from alembic import context

from paymesh.services.common.db import run_migrations_online

run_migrations_online(context)
