"""The fuzz tests run against a real mesh, the end-to-end tests' ``paymesh up --demo``.

Imported here, the fixture gives this folder a mesh of its own within the session, so what the
fuzzing creates (merchants, orders) never meets the end-to-end tests' assertions.
"""

from __future__ import annotations

from tests.e2e.conftest import http, mesh  # noqa: F401 - fixtures, used by name
