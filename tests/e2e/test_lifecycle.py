"""``paymesh up`` as a user runs it: clean stop on SIGTERM, and a restart keeps every order."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from paymesh.services.client.merchant import MerchantClient, MerchantCredentials
from paymesh.services.common.config import MeshConfig
from tests.conftest import BACKEND, drop_databases, mesh_env
from tests.e2e.conftest import start_mesh, stop_mesh, wait_for_demo
from tests.e2e.helpers import order_params

pytestmark = pytest.mark.e2e


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_restart_on_the_same_data_directory_keeps_orders(tmp_path: Path) -> None:
    env = mesh_env(tmp_path)
    config = MeshConfig.from_env(env)
    try:
        first = start_mesh(tmp_path, env)
        demo = wait_for_demo(tmp_path, first)
        creds = MerchantCredentials(demo["mchNo"], demo["appId"], demo["appSecret"])
        async with httpx.AsyncClient(timeout=30) as http:
            client = MerchantClient(config.public_url, creds, http)
            created = await client.call("/api/pay/unifiedOrder", order_params())
            pay_order_id = created["data"]["payOrderId"]
            paid = await http.post(created["data"]["payData"], data={"result": "success"})
            assert paid.status_code == 200
            pids = (tmp_path / "mesh.json").read_text()
            assert stop_mesh(first) == 0
            for pid in json.loads(pids)["pids"].values():
                assert not alive(pid), f"process {pid} still running after SIGTERM"

            second = start_mesh(tmp_path, env)
            try:
                again = wait_for_demo(tmp_path, second)
                assert again["appId"] == demo["appId"]  # the demo is reused, not re-created
                queried = await client.call("/api/pay/query", {"payOrderId": pay_order_id})
                assert queried["data"]["state"] == 2
            finally:
                assert stop_mesh(second) == 0
    finally:
        if BACKEND == "mariadb":
            drop_databases(config)
