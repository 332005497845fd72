"""One simulator and one callback receiver for the whole package (keys take time to make);
each test uses its own order numbers, so tests never see each other's orders."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from paymesh.services.channel.adapters.base import PaymentOrder, RefundOrder
from paymesh.services.channel.adapters.wxpay import WxpayAdapter
from paymesh.services.simulators.wxpay import WxpaySimulator

from .receiver import CallbackReceiver

TIME_SCALE = 0.001  # WeChat's 15 s retry becomes 15 ms
_SEQUENCE = itertools.count(1)


def new_id(prefix: str = "P") -> str:
    """A fresh order or refund number, unique within the run."""
    return f"{prefix}{next(_SEQUENCE):06d}{id(_SEQUENCE) % 10**8:08d}"


def order(way_code: str = "WX_NATIVE", amount: int = 1234, extra: str = "",
          pay_order_id: str = "") -> PaymentOrder:
    return PaymentOrder(pay_order_id=pay_order_id or new_id(), way_code=way_code, amount=amount,
                        currency="cny", subject="测试商品", client_ip="203.0.113.7",
                        channel_extra=extra)


def refund_of(pay: PaymentOrder, amount: int, refund_id: str = "") -> RefundOrder:
    return RefundOrder(pay_order_id=pay.pay_order_id, refund_order_id=refund_id or new_id("R"),
                       pay_amount=pay.amount, refund_amount=amount, currency="cny",
                       reason="买家退货")


@pytest.fixture(scope="package")
def sim() -> Iterator[WxpaySimulator]:
    with WxpaySimulator(time_scale=TIME_SCALE) as simulator:
        yield simulator


@pytest.fixture(scope="package")
def receiver() -> Iterator[CallbackReceiver]:
    callbacks = CallbackReceiver()
    yield callbacks
    callbacks.close()


@pytest.fixture(scope="package")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        yield client


@pytest.fixture(scope="package")
def adapter(http: httpx.AsyncClient) -> WxpayAdapter:
    """One adapter for the package, as in the channel service (its config cache is warm)."""
    return WxpayAdapter(http)


@pytest.fixture(params=[False, True], ids=["direct", "isv"])
def params(request: pytest.FixtureRequest, sim: WxpaySimulator) -> dict[str, Any]:
    """Channel parameters of a direct merchant and of an ISV sub-merchant."""
    return sim.adapter_params(isv=request.param)


def notify_url(receiver: CallbackReceiver, pay_order_id: str) -> str:
    return f"{receiver.url}/api/pay/notify/wxpay/{pay_order_id}"


@pytest.fixture
def notify(receiver: CallbackReceiver) -> str:
    """A notify URL on the local receiver (it answers 204), for tests that ignore callbacks."""
    return f"{receiver.url}/api/pay/notify/wxpay/ignored"
