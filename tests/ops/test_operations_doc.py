"""docs/operations.md documents every metric the code exposes and every process's port."""

from __future__ import annotations

import re
from pathlib import Path

from paymesh.services.common.config import METRICS_PORTS

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "operations.md").read_text()


def test_every_metric_is_documented() -> None:
    source = (REPO / "services" / "common" / "metrics.py").read_text()
    names = set(re.findall(r"\"(paymesh_[a-z_]+)\"", source))
    assert len(names) >= 20
    for name in names:
        assert f"`{name}`" in DOC or f"`{name}_total`" in DOC, f"{name} is not documented"


def test_every_metrics_port_is_documented() -> None:
    for process, port in METRICS_PORTS.items():
        assert re.search(rf"\| {process} \| `PAYMESH_{process.upper()}_METRICS_PORT` \| "
                         rf"{port} \|", DOC), process
