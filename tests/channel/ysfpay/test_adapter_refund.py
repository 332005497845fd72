"""ysfpay refunds: asynchronous at UnionPay, so WAITING, then a notification or a query."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from paymesh.services.channel.adapters.base import (
    CallbackKind,
    ChannelState,
    PaymentOrder,
    RefundOrder,
)
from paymesh.services.channel.adapters.ysfpay import YsfpayAdapter
from paymesh.services.simulators.ysfpay import YsfpaySimulator

from .support import Receiver, callback

S = ChannelState
NOTIFY = "http://127.0.0.1:9/api/refund/notify/ysfpay"


async def paid_order(adapter: YsfpayAdapter, params: dict[str, Any], pay_order_id: str,
                     amount: int = 1000) -> str:
    """A barcode payment charged at once; its channel order number (ACP queryId)."""
    result = await adapter.pay(params, PaymentOrder(
        pay_order_id=pay_order_id, way_code="YSF_BAR", amount=amount, currency="cny",
        subject="tea", channel_extra=json.dumps({"authCode": "6220000011112222333"})), NOTIFY)
    assert result.state == S.CONFIRM_SUCCESS
    return result.channel_order_no


def refund_of(pay_order_id: str, refund_order_id: str, amount: int, channel_order_no: str = "",
              pay_amount: int = 1000) -> RefundOrder:
    return RefundOrder(pay_order_id=pay_order_id, refund_order_id=refund_order_id,
                       pay_amount=pay_amount, refund_amount=amount, currency="cny",
                       channel_order_no=channel_order_no)


async def test_refund_is_waiting_then_notified_and_queried_as_success(
        adapter: YsfpayAdapter, params: dict[str, Any], new_id: Callable[..., str],
        platform: Receiver) -> None:
    pay_order_id, refund_order_id = new_id(), new_id("R")
    channel_order_no = await paid_order(adapter, params, pay_order_id)
    result = await adapter.refund(params, refund_of(pay_order_id, refund_order_id, 400,
                                                    channel_order_no), platform.url)
    assert result.state == S.WAITING and result.channel_refund_no

    body = await platform.next()
    verdict = await adapter.verify_callback(params, callback(body))
    assert verdict.verified, verdict.reject_reason
    assert (verdict.kind, verdict.state) == (CallbackKind.REFUND, S.CONFIRM_SUCCESS)
    assert (verdict.pay_order_id, verdict.refund_order_id, verdict.refund_amount) == (
        pay_order_id, refund_order_id, 400)
    assert verdict.channel_order_no == channel_order_no
    queried = await adapter.query_refund(params, pay_order_id, refund_order_id)
    assert (queried.state, queried.refund_amount) == (S.CONFIRM_SUCCESS, 400)
    assert queried.channel_refund_no == result.channel_refund_no


async def test_held_refund_is_waiting_until_unionpay_finishes_or_fails_it(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    sim.set_refund_mode("hold")
    pay_order_id = new_id()
    await paid_order(adapter, params, pay_order_id)  # no channel_order_no: the adapter queries
    first, second = new_id("R"), new_id("R")
    assert (await adapter.refund(params, refund_of(pay_order_id, first, 600), NOTIFY)
            ).state == S.WAITING
    assert (await adapter.query_refund(params, pay_order_id, first)).state == S.WAITING
    sim.finish_refund(first)
    assert (await adapter.query_refund(params, pay_order_id, first)).state == S.CONFIRM_SUCCESS

    assert (await adapter.refund(params, refund_of(pay_order_id, second, 400), NOTIFY)
            ).state == S.WAITING
    sim.fail(second, "01")
    failed = await adapter.query_refund(params, pay_order_id, second)
    assert (failed.state, failed.err_code) == (S.CONFIRM_FAIL, "01")


async def test_refund_beyond_what_is_left_is_refused(adapter: YsfpayAdapter,
                                                     params: dict[str, Any],
                                                     new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    channel_order_no = await paid_order(adapter, params, pay_order_id)
    ok = await adapter.refund(params, refund_of(pay_order_id, new_id("R"), 700, channel_order_no),
                              NOTIFY)
    assert ok.state == S.WAITING
    refused = await adapter.refund(
        params, refund_of(pay_order_id, new_id("R"), 400, channel_order_no), NOTIFY)
    assert (refused.state, refused.err_code) == (S.CONFIRM_FAIL, "36")


async def test_repeated_refund_request_is_resolved_by_query(adapter: YsfpayAdapter,
                                                            params: dict[str, Any],
                                                            new_id: Callable[..., str]) -> None:
    pay_order_id, refund_order_id = new_id(), new_id("R")
    channel_order_no = await paid_order(adapter, params, pay_order_id)
    refund = refund_of(pay_order_id, refund_order_id, 100, channel_order_no)
    first = await adapter.refund(params, refund, NOTIFY)
    again = await adapter.refund(params, refund, NOTIFY)  # ACP answers 12, the query decides
    assert again.state in (S.WAITING, S.CONFIRM_SUCCESS)
    assert again.channel_refund_no == first.channel_refund_no


async def test_refund_of_an_unpaid_order_and_unknown_refund_query(
        adapter: YsfpayAdapter, params: dict[str, Any], new_id: Callable[..., str]) -> None:
    refused = await adapter.refund(params, refund_of(new_id(), new_id("R"), 100), NOTIFY)
    assert refused.state == S.CONFIRM_FAIL
    missing = await adapter.query_refund(params, new_id(), new_id("R"))
    assert (missing.state, missing.err_code) == (S.CONFIRM_FAIL, "34")


async def test_refund_answer_that_does_not_verify_is_unknown(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    channel_order_no = await paid_order(adapter, params, pay_order_id)
    sim.fault("rogue")
    result = await adapter.refund(
        params, refund_of(pay_order_id, new_id("R"), 100, channel_order_no), NOTIFY)
    assert result.state == S.UNKNOWN
