"""Small helpers for the end-to-end tests."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from paymesh.services.client.merchant import MerchantCredentials, signed_params
from tests.e2e.conftest import RunningMesh


def order_no() -> str:
    return f"E2E{int(time.time() * 1000)}{secrets.token_hex(3)}"


def order_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"mchOrderNo": order_no(), "wayCode": "WX_H5", "amount": 1234,
                              "currency": "cny", "subject": "Coffee", "body": "One flat white"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


async def post(http: httpx.AsyncClient, mesh: RunningMesh, path: str,
               body: dict[str, Any]) -> dict[str, Any]:
    answer = await http.post(mesh.rest_url + path, json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def signed_post(http: httpx.AsyncClient, mesh: RunningMesh, path: str,
                      params: dict[str, Any], credentials: MerchantCredentials | None = None,
                      **kwargs: Any) -> dict[str, Any]:
    body = signed_params(credentials or mesh.credentials, params, **kwargs)
    return await post(http, mesh, path, body)


def gateway_rows(mesh: RunningMesh, sql: str, **bind: Any) -> list[Any]:
    """Reads the gateway's database directly, to prove what a refusal did not change."""
    url = make_url(mesh.config.db_urls["gateway"])
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "mysql+pymysql"
    engine = create_engine(url.set(drivername=driver))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), bind))
    finally:
        engine.dispose()


def order_count(mesh: RunningMesh) -> int:
    return int(gateway_rows(mesh, "SELECT COUNT(*) FROM pay_order")[0][0])


async def pay_on_sandbox_page(http: httpx.AsyncClient, pay_url: str,
                              result: str = "success") -> dict[str, Any]:
    answer = await http.post(pay_url, data={"result": result},
                             headers={"accept": "application/json"})
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page
