"""The drills' tests share the end-to-end tests' mesh (``paymesh up --demo``, real Envoy)."""

from tests.e2e.conftest import http, mesh  # noqa: F401 - fixtures
