"""The tracing tests run against a mesh of their own, the end-to-end tests' ``paymesh up --demo``.

Imported here, the fixture gives this folder its own mesh within the session, so its trace store
holds only what these tests did (plus the jobs' runs) and reading it stays fast, however much
the rest of the suite has traced by then.
"""

from __future__ import annotations

from tests.e2e.conftest import http, mesh  # noqa: F401 - fixtures, used by name
