"""``paymesh up`` as a user runs it: clean stop on SIGTERM, and a restart keeps every order."""

from __future__ import annotations

import asyncio
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


async def test_a_crash_between_the_state_change_and_the_notification_loses_nothing(
        tmp_path: Path) -> None:
    """The gateway dies right after committing a payment: the merchant still hears, once."""
    import signal
    from datetime import UTC, datetime

    from paymesh.services.common import signing
    from tests.e2e.conftest import RunningMesh
    from tests.e2e.helpers import gateway_execute
    from tests.e2e.merchant_endpoint import MerchantEndpoint

    env = mesh_env(tmp_path)
    config = MeshConfig.from_env(env)
    try:
        with MerchantEndpoint() as shop:
            first = start_mesh(tmp_path, env)
            demo = wait_for_demo(tmp_path, first)
            creds = MerchantCredentials(demo["mchNo"], demo["appId"], demo["appSecret"])
            mesh = RunningMesh(config, env, demo, first)
            async with httpx.AsyncClient(timeout=30) as http:
                client = MerchantClient(config.public_url, creds, http)
                created = await client.call("/api/pay/unifiedOrder",
                                            order_params(notifyUrl=shop.url("/notify")))
                pay_order_id = created["data"]["payOrderId"]
                gateway_pid = json.loads((tmp_path / "mesh.json").read_text())["pids"]["gateway"]
                os.kill(gateway_pid, signal.SIGKILL)
                # The mesh stops with it (paymesh up would otherwise restart the gateway).
                stop_mesh(first)
                # What the gateway had committed the instant before it died: the payment and
                # its outbox event, in one transaction, and no notification sent yet.
                now = datetime.now(UTC).replace(tzinfo=None)
                assert gateway_execute(
                    mesh, "UPDATE pay_order SET state = 2, success_at = :t, "
                    "channel_order_no = 'SBCRASH1' WHERE pay_order_id = :p",
                    t=now, p=pay_order_id) == 1
                gateway_execute(mesh, "INSERT INTO outbox_event (topic, order_id, attempts, "
                                "next_attempt_at, created_at) VALUES ('pay.succeeded', :p, 0, "
                                ":t, :t)", p=pay_order_id, t=now)
                assert shop.received("/notify") == []
                second = start_mesh(tmp_path, env)
                try:
                    wait_for_demo(tmp_path, second)
                    [notice] = await shop.wait_for("/notify", 1, timeout=20)
                    assert (notice.form["payOrderId"], notice.form["state"]) == \
                        (pay_order_id, "2")
                    assert signing.verify(notice.form, demo["appSecret"], "MD5",
                                          notice.form["sign"])
                    await asyncio.sleep(1.5)
                    assert len(shop.received("/notify")) == 1  # exactly once
                finally:
                    assert stop_mesh(second) == 0
    finally:
        if BACKEND == "mariadb":
            drop_databases(config)
