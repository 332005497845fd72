"""Refunds (退款) through the real edge: partial, repeated, concurrent, pending, refused."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest

from paymesh.account.v1 import account_pb2 as apb
from paymesh.account.v1 import account_pb2_grpc
from paymesh.merchant.v1 import merchant_pb2 as mpb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.client.merchant import MerchantCredentials
from tests.channel import sandbox_controls
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_execute,
    gateway_rows,
    order_params,
    pay_on_sandbox_page,
    signed_post,
)

pytestmark = pytest.mark.e2e


async def paid_order(mesh: RunningMesh, http: httpx.AsyncClient, amount: int = 100) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=amount))
    await pay_on_sandbox_page(http, created["data"]["payData"])
    pay_order_id: str = created["data"]["payOrderId"]
    return pay_order_id


def refund(pay_order_id: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {"payOrderId": pay_order_id, "mchRefundNo": f"RF{secrets.token_hex(6)}",
            "refundAmount": amount, "currency": "cny", "refundReason": "returned", **extra}


async def ask(mesh: RunningMesh, http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    return await signed_post(http, mesh, "/api/refund/refundOrder", body)


async def pay_state(mesh: RunningMesh, http: httpx.AsyncClient, pay_order_id: str) -> int:
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    state: int = queried["data"]["state"]
    return state


async def test_sequential_refunds_until_the_paid_amount_is_used_up(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    for _ in range(3):
        answer = await ask(mesh, http, refund(pay_order_id, 30))
        assert answer["code"] == 0, answer
        assert (answer["data"]["state"], answer["data"]["refundAmount"]) == (2, 30)
    fourth = await ask(mesh, http, refund(pay_order_id, 30))
    assert fourth["code"] == 9999
    assert "more than the 10 fen left" in fourth["msg"]
    assert await pay_state(mesh, http, pay_order_id) == 2
    last = await ask(mesh, http, refund(pay_order_id, 10))
    assert last["data"]["state"] == 2
    assert await pay_state(mesh, http, pay_order_id) == 5  # fully refunded
    after = await ask(mesh, http, refund(pay_order_id, 1))
    assert "already fully refunded" in after["msg"]


async def test_fifty_concurrent_refunds_never_pass_the_paid_amount(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    answers = await asyncio.gather(*(ask(mesh, http, refund(pay_order_id, 30))
                                     for _ in range(50)))
    succeeded = [a for a in answers if a["code"] == 0 and a["data"]["state"] == 2]
    refused = [a for a in answers if a["code"] != 0]
    assert 1 <= len(succeeded) <= 3
    assert len(succeeded) + len(refused) == 50
    assert all(("in progress" in a["msg"] or "left to refund" in a["msg"]) for a in refused), \
        {a["msg"] for a in refused}
    recorded = gateway_rows(mesh, "SELECT refund_order_id, refund_amount FROM refund_order "
                            "WHERE pay_order_id = :p AND state = 2", p=pay_order_id)
    assert sorted(r[0] for r in recorded) == sorted(a["data"]["refundOrderId"] for a in succeeded)
    assert sum(r[1] for r in recorded) <= 100
    async with sandbox_controls(mesh.config) as sandbox:
        at_channel = await sandbox.book.refunds_of(pay_order_id)
    assert sorted(r.refund_order_id for r in at_channel if r.state == "SUCCESS") == \
        sorted(r[0] for r in recorded)
    [(refunded, reserved, in_flight)] = gateway_rows(
        mesh, "SELECT refunded_amount, refund_reserved, refund_in_flight FROM pay_order "
        "WHERE pay_order_id = :p", p=pay_order_id)
    assert (refunded, reserved, in_flight) == (sum(r[1] for r in recorded), 0, None)


async def test_repeated_refund_number(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    body = refund(pay_order_id, 20)
    first = await ask(mesh, http, body)
    again = await ask(mesh, http, {**body, "nonce": secrets.token_hex(8)})
    assert again["data"]["refundOrderId"] == first["data"]["refundOrderId"]
    other = await ask(mesh, http, {**body, "refundAmount": 21})
    assert other["code"] == 9999 and "already used" in other["msg"]
    rows = gateway_rows(mesh, "SELECT COUNT(*) FROM refund_order WHERE pay_order_id = :p",
                        p=pay_order_id)
    assert rows[0][0] == 1


async def test_pending_refund_is_settled_by_a_query(mesh: RunningMesh,
                                                    http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    answer = await ask(mesh, http, refund(pay_order_id, 40,
                                          refundReason="slow bank [sandbox:pending]"))
    assert answer["data"]["state"] == 1
    blocked = await ask(mesh, http, refund(pay_order_id, 10))
    assert "still in progress" in blocked["msg"]
    refund_order_id = answer["data"]["refundOrderId"]
    async with sandbox_controls(mesh.config) as sandbox:
        await sandbox.sandbox.finish_refund(refund_order_id, True)
    queried = await signed_post(http, mesh, "/api/refund/query",
                                {"refundOrderId": refund_order_id})
    assert queried["code"] == 0, queried
    assert (queried["data"]["state"], queried["data"]["refundAmount"]) == (2, 40)
    assert (await ask(mesh, http, refund(pay_order_id, 60)))["data"]["state"] == 2


async def test_refunds_that_must_be_refused(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    unpaid = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=100))
    answer = await ask(mesh, http, refund(unpaid["data"]["payOrderId"], 10))
    assert answer["code"] == 9999 and "is not paid" in answer["msg"]
    pay_order_id = await paid_order(mesh, http, 100)
    for body, words in [(refund(pay_order_id, 0), "refundAmount must be"),
                        (refund(pay_order_id, 101), "more than the 100 fen left"),
                        (refund(pay_order_id, 10, currency="usd"), "currency must be"),
                        (refund("P1", 10), "order P1 not found")]:
        refused = await ask(mesh, http, body)
        assert refused["code"] != 0 and words in refused["msg"], refused
    assert gateway_rows(mesh, "SELECT COUNT(*) FROM refund_order WHERE pay_order_id = :p",
                        p=pay_order_id)[0][0] == 0


# Refunds held in the ledger before the channel is asked (refund_holds).

async def shop_with(mesh: RunningMesh, **fees: Any) -> MerchantCredentials:
    """A merchant of its own (its balances are this test's alone) paying WX_H5 on the sandbox."""
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        created = await stub.CreateMerchant(mpb.CreateMerchantRequest(name="Hold Shop"))
        await stub.PutPayPassage(mpb.PutPayPassageRequest(
            app_id=created.app.app_id, way_code="WX_H5", if_code="sandbox", **fees))
    return MerchantCredentials(created.merchant.mch_no, created.app.app_id, created.app_secret)


async def kinds_of(mesh: RunningMesh, mch_no: str) -> dict[str, int]:
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        accounts = (await account_pb2_grpc.AccountServiceStub(channel).GetBalances(
            apb.GetBalancesRequest(owner=mch_no))).accounts
    found = {"pending": 0, "available": 0, "frozen": 0}
    found.update({apb.AccountKind.Name(a.kind).removeprefix("ACCOUNT_KIND_").lower(): a.balance
                  for a in accounts if a.currency == "CNY"})
    return found


async def until_kinds(mesh: RunningMesh, mch_no: str, expected: dict[str, int],
                      timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while (found := await kinds_of(mesh, mch_no)) != expected:
        assert time.monotonic() < deadline, f"{found} never became {expected}"
        await asyncio.sleep(0.1)


async def shop_order(mesh: RunningMesh, http: httpx.AsyncClient, shop: MerchantCredentials,
                     amount: int) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=amount),
                                shop)
    await pay_on_sandbox_page(http, created["data"]["payData"])
    pay_order_id: str = created["data"]["payOrderId"]
    return pay_order_id


def checked_sound(mesh: RunningMesh, mch_no: str) -> None:
    done = mesh.cli("ledger", "check", "--mch-no", mch_no)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_refund_the_merchant_cannot_fund_is_refused_and_changes_nothing(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    shop = await shop_with(mesh, fee_rate="0.006", refund_fee_rule=mpb.REFUND_FEE_RULE_KEEP)
    pay_order_id = await shop_order(mesh, http, shop, 1000)  # fee 6, kept on refunds
    await until_kinds(mesh, shop.mch_no, {"pending": 994, "available": 0, "frozen": 0})
    body = refund(pay_order_id, 1000)
    refused = await signed_post(http, mesh, "/api/refund/refundOrder", body, shop)
    assert (refused["code"], refused["msg"]) == (9999, "insufficient balance for this refund")
    assert "data" not in refused
    assert gateway_rows(mesh, "SELECT COUNT(*) FROM refund_order WHERE pay_order_id = :p",
                        p=pay_order_id)[0][0] == 0
    assert gateway_rows(mesh, "SELECT refunded_amount, refund_reserved, refund_in_flight, state "
                        "FROM pay_order WHERE pay_order_id = :p", p=pay_order_id) == [
        (0, 0, None, 2)]
    assert await kinds_of(mesh, shop.mch_no) == {"pending": 994, "available": 0, "frozen": 0}
    async with sandbox_controls(mesh.config) as sandbox:
        assert await sandbox.book.refunds_of(pay_order_id) == []
    # What the merchant has it can refund, under the very same refund number.
    answer = await signed_post(http, mesh, "/api/refund/refundOrder",
                               {**body, "refundAmount": 994}, shop)
    assert answer["data"]["state"] == 2, answer
    await until_kinds(mesh, shop.mch_no, {"pending": 0, "available": 0, "frozen": 0})
    checked_sound(mesh, shop.mch_no)


async def test_held_money_waits_in_frozen_then_goes_to_the_channel_or_back(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    shop = await shop_with(mesh, fee_rate="0.006")
    pay_order_id = await shop_order(mesh, http, shop, 1000)  # fee 6
    await until_kinds(mesh, shop.mch_no, {"pending": 994, "available": 0, "frozen": 0})
    slow = await signed_post(http, mesh, "/api/refund/refundOrder", refund(
        pay_order_id, 500, refundReason="slow bank [sandbox:pending]"), shop)
    assert slow["data"]["state"] == 1, slow
    # 500 less its fee share of 3 is held while the channel decides.
    assert await kinds_of(mesh, shop.mch_no) == {"pending": 497, "available": 0, "frozen": 497}
    slow_id = slow["data"]["refundOrderId"]
    async with sandbox_controls(mesh.config) as sandbox:
        await sandbox.sandbox.finish_refund(slow_id, False)
    queried = await signed_post(http, mesh, "/api/refund/query", {"refundOrderId": slow_id},
                                shop)
    assert queried["data"]["state"] == 3
    await until_kinds(mesh, shop.mch_no, {"pending": 994, "available": 0, "frozen": 0})

    paid = await signed_post(http, mesh, "/api/refund/refundOrder", refund(pay_order_id, 500),
                             shop)
    assert paid["data"]["state"] == 2, paid
    await until_kinds(mesh, shop.mch_no, {"pending": 497, "available": 0, "frozen": 0})
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        clearing = [a for a in (await account_pb2_grpc.AccountServiceStub(channel).GetBalances(
            apb.GetBalancesRequest(owner=f"channel:{shop.app_id}.sandbox"))).accounts]
    assert [a.balance for a in clearing] == [-1000 + 500]
    checked_sound(mesh, shop.mch_no)


async def test_concurrent_refunds_of_one_merchant_cannot_together_pass_its_funds(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    shop = await shop_with(mesh, fee_rate="0")
    orders = await asyncio.gather(*(shop_order(mesh, http, shop, 100) for _ in range(20)))
    await until_kinds(mesh, shop.mch_no, {"pending": 2000, "available": 0, "frozen": 0})
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        stub = account_pb2_grpc.AccountServiceStub(channel)
        pending = (await stub.OpenAccount(apb.OpenAccountRequest(
            owner=shop.mch_no, currency="CNY", kind=apb.ACCOUNT_KIND_PENDING))).account
        frozen = (await stub.OpenAccount(apb.OpenAccountRequest(
            owner=shop.mch_no, currency="CNY", kind=apb.ACCOUNT_KIND_FROZEN))).account
        await stub.Adjust(apb.AdjustRequest(
            adjustment_id=f"E2EHOLD{secrets.token_hex(4)}", debit_account_id=pending.account_id,
            credit_account_id=frozen.account_id, amount=1000, reason="risk hold",
            operator="e2e"))  # a risk hold by hand: funds for 10 of the 20 refunds are left
    answers = await asyncio.gather(*(signed_post(http, mesh, "/api/refund/refundOrder",
                                                 refund(p, 100), shop) for p in orders))
    refunded = [a for a in answers if a["code"] == 0 and a["data"]["state"] == 2]
    refused = [a for a in answers if a["code"] == 9999]
    assert (len(refunded), len(refused)) == (10, 10), answers
    assert {a["msg"] for a in refused} == {"insufficient balance for this refund"}
    await until_kinds(mesh, shop.mch_no, {"pending": 0, "available": 0, "frozen": 1000})
    assert gateway_rows(mesh, "SELECT COUNT(*), SUM(refund_amount) FROM refund_order "
                        "WHERE mch_no = :m AND state = 2", m=shop.mch_no) == [(10, 1000)]
    checked_sound(mesh, shop.mch_no)


async def test_a_crash_between_the_hold_and_the_channel_call_heals(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    shop = await shop_with(mesh, fee_rate="0.006")
    pay_order_id = await shop_order(mesh, http, shop, 1000)
    await until_kinds(mesh, shop.mch_no, {"pending": 994, "available": 0, "frozen": 0})
    # What the gateway had done when it died: the refund reserved and stored (INIT), its money
    # held in the ledger; the channel never asked. Two hours have passed.
    refund_order_id, _ = refund_stored_by_a_dead_request(mesh, shop, pay_order_id,
                                                         timedelta(hours=3))
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        stub = account_pb2_grpc.AccountServiceStub(channel)
        accounts = {kind: (await stub.OpenAccount(apb.OpenAccountRequest(
            owner=shop.mch_no, currency="CNY", kind=kind))).account.account_id
            for kind in (apb.ACCOUNT_KIND_PENDING, apb.ACCOUNT_KIND_FROZEN)}
        await stub.Post(apb.PostRequest(posting_id=f"refund-hold:{refund_order_id}", transfers=[
            apb.TransferRequest(debit_account_id=accounts[apb.ACCOUNT_KIND_PENDING],
                                credit_account_id=accounts[apb.ACCOUNT_KIND_FROZEN],
                                amount=497, code="REFUND_HOLD")]))
    # The refund sweep asks the sandbox, which never had it: closed, and the hold released.
    deadline = time.monotonic() + 15
    while gateway_rows(mesh, "SELECT state FROM refund_order WHERE refund_order_id = :r",
                       r=refund_order_id) != [(4,)]:
        assert time.monotonic() < deadline, "the sweep never closed the refund"
        await asyncio.sleep(0.2)
    await until_kinds(mesh, shop.mch_no, {"pending": 994, "available": 0, "frozen": 0})
    assert gateway_rows(mesh, "SELECT refunded_amount, refund_reserved, refund_in_flight "
                        "FROM pay_order WHERE pay_order_id = :p", p=pay_order_id) == [
        (0, 0, None)]
    checked_sound(mesh, shop.mch_no)


def refund_stored_by_a_dead_request(mesh: RunningMesh, shop: MerchantCredentials,
                                    pay_order_id: str, age: timedelta) -> tuple[str, str]:
    """What the gateway had done when it died right after storing a refund of 500 fen: the
    amount reserved and the refund stored (INIT); no hold, the channel never asked. Returns
    the refund's id and mchRefundNo."""
    refund_order_id = f"R9{secrets.randbelow(10**17):017d}"
    mch_refund_no = f"DR{refund_order_id[-12:]}"
    created = datetime.now(UTC).replace(tzinfo=None) - age
    assert gateway_execute(
        mesh, "UPDATE pay_order SET refund_reserved = 500, refund_in_flight = :r "
        "WHERE pay_order_id = :p AND refund_in_flight IS NULL", r=refund_order_id,
        p=pay_order_id) == 1
    gateway_execute(
        mesh, "INSERT INTO refund_order (refund_order_id, pay_order_id, mch_no, app_id, "
        "mch_refund_no, if_code, channel_config_key, pay_amount, refund_amount, currency, state, "
        "reason, expire_at, created_at, updated_at) VALUES (:r, :p, :m, :a, :n, 'sandbox', :k, "
        "1000, 500, 'cny', 0, 'returned', :e, :t, :t)", r=refund_order_id, p=pay_order_id,
        m=shop.mch_no, a=shop.app_id, n=mch_refund_no, k=f"{shop.app_id}.sandbox",
        e=created + timedelta(hours=2), t=created)
    return refund_order_id, mch_refund_no


async def test_a_retry_resumes_a_refund_stored_just_before_the_gateway_died(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    shop = await shop_with(mesh, fee_rate="0.006")
    pay_order_id = await shop_order(mesh, http, shop, 1000)
    await until_kinds(mesh, shop.mch_no, {"pending": 994, "available": 0, "frozen": 0})
    refund_order_id, number = refund_stored_by_a_dead_request(mesh, shop, pay_order_id,
                                                              timedelta(seconds=2))
    # The merchant got no answer and asks again with the same mchRefundNo.
    again = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": pay_order_id, "mchRefundNo": number, "refundAmount": 500,
        "currency": "cny", "refundReason": "returned"}, shop)
    assert again["code"] == 0, again
    assert (again["data"]["refundOrderId"], again["data"]["state"]) == (refund_order_id, 2)
    assert gateway_rows(mesh, "SELECT refunded_amount, refund_reserved, refund_in_flight "
                        "FROM pay_order WHERE pay_order_id = :p", p=pay_order_id) == [
        (500, 0, None)]
    # Held, then paid out of frozen: the merchant pays 497 (the fee share 3 comes back).
    await until_kinds(mesh, shop.mch_no, {"pending": 497, "available": 0, "frozen": 0})
    checked_sound(mesh, shop.mch_no)


async def test_the_sweep_resumes_a_refund_nobody_asks_about_again(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    shop = await shop_with(mesh, fee_rate="0.006")
    pay_order_id = await shop_order(mesh, http, shop, 1000)
    await until_kinds(mesh, shop.mch_no, {"pending": 994, "available": 0, "frozen": 0})
    refund_order_id, _ = refund_stored_by_a_dead_request(mesh, shop, pay_order_id,
                                                         timedelta(minutes=2))
    # The jobs process sweeps refunds every second here; one left created for over a minute
    # is resumed rather than closed two hours later.
    deadline = time.monotonic() + 15
    while gateway_rows(mesh, "SELECT state FROM refund_order WHERE refund_order_id = :r",
                       r=refund_order_id) != [(2,)]:
        assert time.monotonic() < deadline, "the sweep never resumed the refund"
        await asyncio.sleep(0.2)
    await until_kinds(mesh, shop.mch_no, {"pending": 497, "available": 0, "frozen": 0})
    assert gateway_rows(mesh, "SELECT state, refunded_amount, refund_in_flight FROM pay_order "
                        "WHERE pay_order_id = :p", p=pay_order_id) == [(2, 500, None)]
    checked_sound(mesh, shop.mch_no)
