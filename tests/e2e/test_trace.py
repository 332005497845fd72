"""Tracing from day one: a unified order's spans in gateway and channel share one trace."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import order_params, signed_post

pytestmark = pytest.mark.e2e


def spans(data_dir: Path, service: str) -> list[dict[str, Any]]:
    path = data_dir / "traces" / f"{service}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def wait_for(find: Any, timeout: float = 10.0) -> Any:
    for _ in range(int(timeout / 0.2)):
        found = find()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("span not exported in time")


async def test_unified_order_is_one_trace_across_gateway_and_channel(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params())
    pay_order_id = created["data"]["payOrderId"]
    data_dir = mesh.config.data_dir

    def gateway_server_span() -> dict[str, Any] | None:
        return next((s for s in spans(data_dir, "gateway")
                     if s["attributes"].get("paymesh.pay_order_id") == pay_order_id
                     and s["name"].endswith("MerchantApiService/UnifiedOrder")), None)

    order_span = await wait_for(gateway_server_span)
    trace_id = order_span["trace_id"]

    def channel_pay_span() -> dict[str, Any] | None:
        return next((s for s in spans(data_dir, "channel")
                     if s["trace_id"] == trace_id and s["kind"] == "SERVER"
                     and s["name"].endswith("ChannelService/Pay")), None)

    pay_span = await wait_for(channel_pay_span)
    gateway_client = {s["span_id"]: s for s in spans(data_dir, "gateway")
                      if s["trace_id"] == trace_id and s["kind"] == "CLIENT"}
    parent = gateway_client.get(pay_span["parent_span_id"])
    assert parent is not None and parent["name"].endswith("ChannelService/Pay")
    assert parent["parent_span_id"] == order_span["span_id"]
    for span in spans(data_dir, "gateway") + spans(data_dir, "channel"):
        assert mesh.demo["appSecret"] not in json.dumps(span)
