"""Signs and posts merchant API requests the way JeePay's SDKs do."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from paymesh.services.common import signing


@dataclass(frozen=True)
class MerchantCredentials:
    mch_no: str
    app_id: str
    secret: str
    sign_type: str = "MD5"


def signed_params(credentials: MerchantCredentials, params: dict[str, Any],
                  req_time_ms: int | None = None) -> dict[str, Any]:
    """``params`` plus the common fields and their signature."""
    full: dict[str, Any] = {
        "mchNo": credentials.mch_no, "appId": credentials.app_id, "version": "1.0",
        "signType": credentials.sign_type,
        "reqTime": req_time_ms if req_time_ms is not None else int(time.time() * 1000),
        **params}
    text = {k: None if v is None else str(v) for k, v in full.items()}
    full["sign"] = signing.sign(text, credentials.secret, credentials.sign_type)
    return full


def verify_response(envelope: dict[str, Any], credentials: MerchantCredentials) -> bool:
    """True when the envelope's ``sign`` matches its ``data``."""
    data = envelope.get("data")
    if data is None:
        return "sign" not in envelope
    text = {k: None if v is None else str(v) for k, v in data.items()}
    return signing.verify(text, credentials.secret, credentials.sign_type,
                          envelope.get("sign", ""))


class MerchantClient:
    """Posts signed JSON requests to a paymesh (or JeePay) edge."""

    def __init__(self, base_url: str, credentials: MerchantCredentials,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self._client = client or httpx.AsyncClient(timeout=30)

    async def call(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        body = signed_params(self.credentials, params)
        answer = await self._client.post(self.base_url + path, json=body)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    async def aclose(self) -> None:
        await self._client.aclose()
