"""A minimal merchant-side client of the JeePay-compatible API (tests, benchmarks, examples)."""
