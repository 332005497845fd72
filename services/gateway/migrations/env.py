from alembic import context

from paymesh.services.common.db import run_migrations_online

run_migrations_online(context)
