"""What a merchant notification says: the state its event reports, whatever the order became
before the outbox delivered the event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common import signing
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions, utc_now
from paymesh.services.gateway.models import PayOrder, RefundOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.notifications import Notifications
from paymesh.services.gateway.notify_models import NotifyOrderType, NotifyRecord
from paymesh.services.gateway.notify_repository import NotifyRepository
from paymesh.services.gateway.outbox import PAY_FAILED, PAY_SUCCEEDED, REFUND_SUCCEEDED
from paymesh.services.gateway.pay_context import PayContext
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository
from tests.gateway.conftest import MerchantEndpoint

SECRET = "S3CRET"
PAID_AT = datetime(2026, 5, 1, 8, 30, 15, 250000, tzinfo=UTC)


class Contexts:
    async def get(self, app_id: str) -> PayContext:
        return PayContext(app_id=app_id, app_active=True, mch_no="M1", merchant_active=True,
                          secret=SECRET, passages={}, allow_private_notify_url=True)


@dataclass
class World:
    engine: AsyncEngine
    orders: PayOrderRepository
    refunds: RefundRepository
    records: NotifyRepository
    notifications: Notifications


@pytest.fixture
async def world(config: MeshConfig) -> AsyncIterator[World]:
    engine = open_engine(config.db_urls["gateway"])
    orders, refunds, records = (PayOrderRepository(engine), RefundRepository(engine),
                                NotifyRepository(engine))
    notifications = Notifications(records, orders, refunds, Contexts(),  # type: ignore[arg-type]
                                  schedule_scale=0.01)
    yield World(engine, orders, refunds, records, notifications)
    await notifications.stop()
    await engine.dispose()


async def add_order(world: World, url: str, *, state: int, **extra: object) -> None:
    now = utc_now()
    columns: dict[str, object] = {"refunded_amount": 0, "refund_reserved": 0, "refund_times": 0,
                                  **extra}
    assert await world.orders.insert(PayOrder(
        pay_order_id="P1", mch_no="M1", app_id="A1", mch_order_no="O1", if_code="sandbox",
        way_code="WX_H5", amount=100, currency="cny", state=state, subject="s", body="b",
        notify_url=url, expire_at=now + timedelta(hours=2), fee_rate="0", fee_amount=0,
        late_success=False, created_at=now, updated_at=now, **columns))


async def sent_form(world: World, order_id: str, order_type: int, event: str) -> dict[str, str]:
    """The signed fields of the order's notification of ``event`` (checked signed)."""
    for record in await world.records.page(order_id, 0, 10, None):
        if (record.order_type, record.event) == (order_type, event):
            return verified(record)
    raise AssertionError(f"no {event} notification of {order_id}")


def verified(record: NotifyRecord) -> dict[str, str]:
    form: dict[str, str] = json.loads(record.params_json)
    assert signing.verify(form, SECRET, "MD5", form["sign"])
    return form


async def test_a_payment_refunded_in_full_before_its_event_is_notified_paid(
        world: World, merchant: MerchantEndpoint) -> None:
    merchant.delay = 0.0
    # Paid, then fully refunded (state 5) before the outbox delivered pay.succeeded.
    await add_order(world, merchant.url, state=St.REFUND, success_at=PAID_AT,
                    refunded_amount=100, refund_times=1, channel_order_no="CH1")
    now = utc_now()
    async with sessions(world.engine).begin() as session:  # the refund that did it
        session.add(RefundOrder(
            refund_order_id="R1", pay_order_id="P1", mch_no="M1", app_id="A1",
            mch_refund_no="MR1", if_code="sandbox", pay_amount=100, refund_amount=100,
            currency="cny", state=2, reason="r", notify_url=merchant.url, success_at=now,
            expire_at=now, created_at=now, updated_at=now))
    await world.notifications.on_event(PAY_SUCCEEDED, "P1")
    await world.notifications.on_event(REFUND_SUCCEEDED, "R1")
    paid = await sent_form(world, "P1", NotifyOrderType.PAY, PAY_SUCCEEDED)
    assert paid["state"] == str(St.SUCCESS)
    assert paid["successTime"] == str(int(PAID_AT.timestamp() * 1000))
    assert paid["amount"] == "100" and paid["channelOrderNo"] == "CH1"
    refunded = await sent_form(world, "R1", NotifyOrderType.REFUND, REFUND_SUCCEEDED)
    assert (refunded["state"], refunded["refundAmount"]) == ("2", "100")


async def test_a_failure_is_notified_failed(world: World, merchant: MerchantEndpoint) -> None:
    merchant.delay = 0.0
    await add_order(world, merchant.url, state=St.FAIL, err_code="PAYER_DECLINED")
    await world.notifications.on_event(PAY_FAILED, "P1")
    failed = await sent_form(world, "P1", NotifyOrderType.PAY, PAY_FAILED)
    assert (failed["state"], failed["errCode"]) == (str(St.FAIL), "PAYER_DECLINED")
    assert "successTime" not in failed
