"""HandleMistake: each decision's correction through the gateway (a fake keeping the contract)
and the real ledger, idempotent, finishing after a crash, refusing what cannot be done."""

from __future__ import annotations

import grpc
import pytest

from paymesh.account.v1 import account_pb2 as ac
from paymesh.gateway.v1 import gateway_pb2 as gw
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.reconciliation import matcher as m
from paymesh.services.reconciliation.models import ReconMistake
from tests.reconciliation.conftest import (
    CONFIG_KEY,
    FAILED,
    MCH_NO,
    Recon,
    pay,
    refund,
    row,
    rpc_error,
)

DAY = "2024-06-01"
CHANNEL, PLATFORM = "CHANNEL_AUTHORITATIVE", "PLATFORM_AUTHORITATIVE"


async def account(recon: Recon, owner: str, kind: int) -> ac.Account:
    opened = await recon.fakes.ledger.OpenAccount(ac.OpenAccountRequest(
        owner=owner, currency="CNY", kind=kind))
    return opened.account


async def balances(recon: Recon) -> dict[str, int]:
    return {
        "pending": (await account(recon, MCH_NO, ac.ACCOUNT_KIND_PENDING)).balance,
        "available": (await account(recon, MCH_NO, ac.ACCOUNT_KIND_AVAILABLE)).balance,
        "clearing": (await account(recon, f"channel:{CONFIG_KEY}",
                                   ac.ACCOUNT_KIND_CHANNEL_CLEARING)).balance,
        "fee": (await account(recon, "platform", ac.ACCOUNT_KIND_FEE_INCOME)).balance}


async def paid_in_ledger(recon: Recon, pay_order_id: str, amount: int, fee: int) -> None:
    """The gateway's pay.succeeded posting, as ledger_events makes it."""
    clearing = await account(recon, f"channel:{CONFIG_KEY}", ac.ACCOUNT_KIND_CHANNEL_CLEARING)
    pending = await account(recon, MCH_NO, ac.ACCOUNT_KIND_PENDING)
    income = await account(recon, "platform", ac.ACCOUNT_KIND_FEE_INCOME)
    await recon.fakes.ledger.Post(ac.PostRequest(posting_id=f"pay:{pay_order_id}", transfers=[
        ac.TransferRequest(debit_account_id=clearing.account_id,
                           credit_account_id=pending.account_id, amount=amount - fee,
                           code="PAY_SUCCESS"),
        ac.TransferRequest(debit_account_id=clearing.account_id,
                           credit_account_id=income.account_id, amount=fee, code="PAY_FEE")]))


async def mistake_of(recon: Recon, records: list[gw.PlatformRecord], bill: list,
                     mistake_type: str, key: str) -> ReconMistake:
    recon.fakes.gateway.add(*records)
    recon.fakes.channel.bills[DAY] = bill
    await recon.batches.run_batch(CONFIG_KEY, DAY)
    rows, _ = await recon.reports.mistakes("", mistake_type, [], "", 50, "")
    return next(r for r in rows if r.record_key == key)


async def test_platform_authoritative_closes_without_any_change(recon: Recon) -> None:
    mistake = await mistake_of(recon, [pay("P1", 1000)], [row("P1", 1100)], m.SHORT_CASH, "P1")
    result = await recon.handling.handle(mistake.mistake_id, PLATFORM, "alice", "bank typo")
    assert result.mistake.handle_state == "HANDLED" and not result.replayed
    assert (result.mistake.decision, result.mistake.operator, result.mistake.remark) == \
        (PLATFORM, "alice", "bank typo")
    assert recon.fakes.gateway.calls == []
    again = await recon.handling.handle(mistake.mistake_id, PLATFORM, "alice", "bank typo")
    assert again.replayed
    with pytest.raises(DomainError) as refused:
        await recon.handling.handle(mistake.mistake_id, CHANNEL, "bob", "")
    assert refused.value.reason == "MISTAKE_ALREADY_HANDLED"


async def test_bank_miss_marks_the_order_failed_and_reverses_the_ledger_once(
        recon: Recon) -> None:
    recon.fakes.gateway.add(pay("P1", 10000, fee=60, day="2024-05-28"))
    await paid_in_ledger(recon, "P1", 10000, 60)
    for day in ("2024-05-28", DAY):
        await recon.batches.run_batch(CONFIG_KEY, day)
    rows, _ = await recon.reports.mistakes("", m.BANK_MISS, [], "", 10, "")
    mistake = rows[0]
    before = await balances(recon)
    result = await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "channel says no")
    assert result.mistake.handle_state == "HANDLED"
    assert result.mistake.correction_action == "CORRECTION_ACTION_MARK_PAY_FAILED"
    assert result.mistake.posting_id == f"recon:{mistake.mistake_id}"
    call = recon.fakes.gateway.calls[0]
    assert (call.correction_id, call.action, call.pay_order_id) == \
        (mistake.mistake_id, gw.CORRECTION_ACTION_MARK_PAY_FAILED, "P1")
    assert recon.fakes.gateway.records[(1, "P1")].state == 3
    after = await balances(recon)
    assert after["pending"] == before["pending"] - 9940
    assert after["fee"] == before["fee"] - 60
    assert after["clearing"] == before["clearing"] + 10000
    again = await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "channel says no")
    assert again.replayed and await balances(recon) == after
    assert len(recon.fakes.gateway.calls) == 1


async def test_a_crash_between_the_gateway_and_the_ledger_is_finished_by_a_retry(
        recon: Recon) -> None:
    mistake = await mistake_of(recon, [pay("P1", 2000, fee=12)], [row("P1", 2000,
                                                                      status=FAILED)],
                               m.OVER_STATUS, "P1")
    await paid_in_ledger(recon, "P1", 2000, 12)
    before = await balances(recon)
    real_ledger = recon.fakes.ledger

    class Down:
        async def OpenAccount(self, *args: object, **kwargs: object) -> object:
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, "", "ledger down")

    recon.handling._peers = recon.fakes.peers.__class__(  # noqa: SLF001
        recon.fakes.merchant, recon.fakes.channel, recon.fakes.gateway, Down())
    with pytest.raises(grpc.aio.AioRpcError):
        await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    stuck = await recon.reports.mistake(mistake.mistake_id)
    assert stuck.handle_state == "HANDLING" and stuck.decision == CHANNEL
    assert recon.fakes.gateway.records[(1, "P1")].state == 3  # the gateway part happened
    with pytest.raises(DomainError) as other:
        await recon.handling.handle(mistake.mistake_id, PLATFORM, "ops", "")
    assert other.value.reason == "MISTAKE_HANDLING"
    recon.handling._peers = recon.fakes.peers  # noqa: SLF001 - the ledger is back
    assert recon.fakes.ledger is real_ledger
    done = await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    assert done.mistake.handle_state == "HANDLED" and not done.replayed
    assert recon.fakes.gateway.calls[-1].correction_id == mistake.mistake_id
    after = await balances(recon)
    assert after["pending"] == before["pending"] - 1988 and after["fee"] == before["fee"] - 12


async def test_cash_mismatch_corrects_the_amount_and_posts_the_difference(
        recon: Recon) -> None:
    mistake = await mistake_of(recon, [pay("P1", 10000, fee=60)], [row("P1", 10500)],
                               m.SHORT_CASH, "P1")
    await paid_in_ledger(recon, "P1", 10000, 60)
    before = await balances(recon)
    await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    call = recon.fakes.gateway.calls[0]
    assert (call.action, call.amount) == (gw.CORRECTION_ACTION_CORRECT_PAY_AMOUNT, 10500)
    after = await balances(recon)
    # New fee 63 (0.6 %): the merchant gets 10437 − 9940 = 497 more, the platform 3 more.
    assert after["pending"] - before["pending"] == 497
    assert after["fee"] - before["fee"] == 3
    assert before["clearing"] - after["clearing"] == 500


async def test_over_cash_debits_available_when_pending_cannot_cover_it(recon: Recon) -> None:
    mistake = await mistake_of(recon, [pay("P1", 10000, fee=60)], [row("P1", 5000)],
                               m.OVER_CASH, "P1")
    pending = await account(recon, MCH_NO, ac.ACCOUNT_KIND_PENDING)
    available = await account(recon, MCH_NO, ac.ACCOUNT_KIND_AVAILABLE)
    clearing = await account(recon, f"channel:{CONFIG_KEY}", ac.ACCOUNT_KIND_CHANNEL_CLEARING)
    income = await account(recon, "platform", ac.ACCOUNT_KIND_FEE_INCOME)
    await recon.fakes.ledger.Post(ac.PostRequest(posting_id="paid-and-settled", transfers=[
        ac.TransferRequest(debit_account_id=clearing.account_id,
                           credit_account_id=available.account_id, amount=9940, code="TEST"),
        ac.TransferRequest(debit_account_id=clearing.account_id,
                           credit_account_id=income.account_id, amount=60, code="TEST")]))
    assert pending.balance == 0
    result = await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    assert result.mistake.posting_source == "AVAILABLE"
    assert (await account(recon, MCH_NO, ac.ACCOUNT_KIND_AVAILABLE)).balance == 9940 - 4970


async def test_nothing_is_posted_when_the_merchant_cannot_cover_a_debit(recon: Recon) -> None:
    mistake = await mistake_of(recon, [pay("P1", 10000, fee=60)], [row("P1", 5000)],
                               m.OVER_CASH, "P1")
    with pytest.raises(DomainError) as refused:
        await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    assert refused.value.reason == "INSUFFICIENT_FUNDS"
    assert (await recon.reports.mistake(mistake.mistake_id)).handle_state == "HANDLING"
    await paid_in_ledger(recon, "P1", 10000, 60)  # funds arrive; the same decision finishes
    done = await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    assert done.mistake.handle_state == "HANDLED"
    assert (await account(recon, MCH_NO, ac.ACCOUNT_KIND_PENDING)).balance == 9940 - 4970


@pytest.mark.parametrize(("records", "bill", "mistake_type", "key", "action"), [
    ([pay("P1", 100, state=6, paid=False)], [row("P1", 100)], m.SHORT_STATUS, "P1",
     gw.CORRECTION_ACTION_MARK_PAY_SUCCEEDED),
    ([pay("P1", 100, channel_fee=1)], [row("P1", 100, fee=2)], m.FEE_MISMATCH, "P1",
     gw.CORRECTION_ACTION_SET_CHANNEL_FEE),
    ([pay("P1", 100), refund("R1", "P1", 50, state=1)],
     [row("P1", 100), row("P1", 50, refund_order_id="R1")], m.SHORT_STATUS, "R1",
     gw.CORRECTION_ACTION_MARK_REFUND_SUCCEEDED),
    ([pay("P1", 100), refund("R1", "P1", 50)],
     [row("P1", 100), row("P1", 50, refund_order_id="R1", status=FAILED)], m.OVER_STATUS, "R1",
     gw.CORRECTION_ACTION_MARK_REFUND_FAILED),
])
async def test_corrections_without_a_ledger_posting(recon: Recon, records: list, bill: list,
                                                    mistake_type: str, key: str,
                                                    action: int) -> None:
    mistake = await mistake_of(recon, records, bill, mistake_type, key)
    before = await balances(recon)
    result = await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    call = recon.fakes.gateway.calls[0]
    assert call.action == action and call.correction_id == mistake.mistake_id
    if action == gw.CORRECTION_ACTION_MARK_PAY_SUCCEEDED:
        assert (call.channel_order_no, call.success_time) == (
            mistake.channel_order_no, mistake.channel_trade_time)
        assert recon.fakes.gateway.records[(1, "P1")].state == 2
    if action == gw.CORRECTION_ACTION_SET_CHANNEL_FEE:
        assert call.channel_fee == 2
    if key == "R1":
        assert call.refund_order_id == "R1" and call.pay_order_id == "P1"
    assert result.mistake.handle_state == "HANDLED" and result.mistake.posting_id == ""
    assert await balances(recon) == before


async def test_what_cannot_be_corrected_is_refused_and_stays_open(recon: Recon) -> None:
    miss = await mistake_of(recon, [pay("P2", 100), refund("R1", "P2", 60)],
                            [row("P2", 100), row("P9", 100),
                             row("P2", 50, refund_order_id="R1")], m.PLATFORM_MISS, "P9")
    with pytest.raises(DomainError) as refused:
        await recon.handling.handle(miss.mistake_id, CHANNEL, "ops", "")
    assert refused.value.reason == "MISTAKE_NOT_CORRECTABLE"
    assert (await recon.reports.mistake(miss.mistake_id)).handle_state == "NOHANDLE"
    rows, _ = await recon.reports.mistakes("", m.OVER_CASH, [], "", 10, "")
    with pytest.raises(DomainError) as refund_cash:
        await recon.handling.handle(rows[0].mistake_id, CHANNEL, "ops", "")
    assert refund_cash.value.reason == "MISTAKE_NOT_CORRECTABLE"
    closed = await recon.handling.handle(miss.mistake_id, PLATFORM, "ops", "foreign traffic")
    assert closed.mistake.handle_state == "HANDLED"


async def test_a_gateway_refusal_reopens_the_mistake(recon: Recon) -> None:
    mistake = await mistake_of(recon, [pay("P1", 1000)], [row("P1", 1100)], m.SHORT_CASH, "P1")
    recon.fakes.gateway.refuse = rpc_error(grpc.StatusCode.FAILED_PRECONDITION,
                                           "CORRECTION_STATE", "the order is REFUND")
    with pytest.raises(DomainError) as refused:
        await recon.handling.handle(mistake.mistake_id, CHANNEL, "ops", "")
    assert refused.value.reason == "CORRECTION_STATE"
    reopened = await recon.reports.mistake(mistake.mistake_id)
    assert (reopened.handle_state, reopened.decision) == ("NOHANDLE", "")
    done = await recon.handling.handle(mistake.mistake_id, PLATFORM, "ops", "refunded anyway")
    assert done.mistake.handle_state == "HANDLED"


async def test_bad_handling_requests_are_refused(recon: Recon) -> None:
    with pytest.raises(InvalidArgument):
        await recon.handling.handle("RM1", "BOTH", "ops", "")
    with pytest.raises(InvalidArgument):
        await recon.handling.handle("RM1", CHANNEL, "", "")
    with pytest.raises(DomainError) as missing:
        await recon.handling.handle("RM1", CHANNEL, "ops", "")
    assert missing.value.reason == "MISTAKE_NOT_FOUND"
