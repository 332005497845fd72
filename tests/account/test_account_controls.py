"""Freeze modes, held amounts and adjustments through a real stub on an in-process server."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import text

from paymesh.account.v1 import account_pb2 as pb
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine
from paymesh.services.common.errors import reason_of
from tests.account.test_account_grpc import (
    Stub,
    assert_sound,
    balance,
    move,
    open_account,
    post,
    refused,
)

OPS = "ops:alice"


async def set_status(stub: Stub, account_id: int, status: int, note: str = "risk review"
                     ) -> pb.SetAccountStatusResponse:
    return await stub.SetAccountStatus(pb.SetAccountStatusRequest(
        account_id=account_id, status=status, operator=OPS, note=note))


async def failure(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


# status → (credit allowed, debit allowed), tomato-platform's checkAdd / checkDeduct.
MODES = {
    pb.ACCOUNT_STATUS_ACTIVE: (True, True),
    pb.ACCOUNT_STATUS_STOP_IN: (False, True),
    pb.ACCOUNT_STATUS_STOP_OUT: (True, False),
    pb.ACCOUNT_STATUS_FROZEN: (False, False),
    pb.ACCOUNT_STATUS_CANCELLED: (False, False),
}


@pytest.mark.parametrize("status", list(MODES), ids=pb.AccountStatus.Name)
async def test_each_freeze_mode_refuses_exactly_its_directions(stub: Stub, status: int) -> None:
    credit_ok, debit_ok = MODES[status]
    clearing = await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    merchant = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    await post(stub, "fund", move(clearing, merchant, 100))
    answer = await set_status(stub, merchant, status)
    assert answer.account.status == status
    assert answer.changed == (status != pb.ACCOUNT_STATUS_ACTIVE)
    listed = await stub.GetBalances(pb.GetBalancesRequest(account_id=merchant))
    assert listed.accounts[0].status == status
    expected = 100
    for posting_id, transfer, allowed, delta, side in (
            ("in", move(clearing, merchant, 10), credit_ok, 10, "credits"),
            ("out", move(merchant, clearing, 7), debit_ok, -7, "debits")):
        if allowed:
            await post(stub, posting_id, transfer)
            expected += delta
        else:
            error = await refused(stub, posting_id, transfer)
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert reason_of(error) == "ACCOUNT_STATUS"
            name = pb.AccountStatus.Name(status).removeprefix("ACCOUNT_STATUS_")
            assert f"account {merchant} is {name} and refuses {side}" in (error.details() or "")
        assert await balance(stub, merchant) == expected
    if status != pb.ACCOUNT_STATUS_CANCELLED:
        # Like every ledger-state refusal, a refused posting id stays refused.
        await set_status(stub, merchant, pb.ACCOUNT_STATUS_ACTIVE)
        for posting_id, transfer, allowed in (("in", move(clearing, merchant, 10), credit_ok),
                                              ("out", move(merchant, clearing, 7), debit_ok)):
            if not allowed:
                assert reason_of(await refused(stub, posting_id, transfer)) == "ACCOUNT_STATUS"
        assert await balance(stub, merchant) == expected
    await assert_sound(stub)


async def test_cancelled_is_final_and_changes_are_audited(
        stub: Stub, config: MeshConfig) -> None:
    merchant = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    await set_status(stub, merchant, pb.ACCOUNT_STATUS_STOP_OUT, "dispute")
    again = await set_status(stub, merchant, pb.ACCOUNT_STATUS_STOP_OUT, "dispute")
    assert not again.changed
    await set_status(stub, merchant, pb.ACCOUNT_STATUS_CANCELLED, "closed")
    error = await failure(set_status(stub, merchant, pb.ACCOUNT_STATUS_ACTIVE))
    assert reason_of(error) == "ACCOUNT_CANCELLED"
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    invalid = await failure(set_status(stub, merchant, pb.ACCOUNT_STATUS_UNSPECIFIED))
    assert invalid.code() == grpc.StatusCode.INVALID_ARGUMENT
    missing = await failure(set_status(stub, 999_999, pb.ACCOUNT_STATUS_FROZEN))
    assert reason_of(missing) == "ACCOUNT_NOT_FOUND"
    engine = open_engine(config.db_urls["account"])
    async with engine.begin() as conn:
        rows = (await conn.execute(text(
            "SELECT old_status, new_status, operator, note FROM account_status_change "
            "WHERE account_id = :id ORDER BY id"), {"id": merchant})).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [("ACTIVE", "STOP_OUT", OPS, "dispute"),
                                        ("STOP_OUT", "CANCELLED", OPS, "closed")]


async def hold(stub: Stub, rpc: str, hold_id: str, amount: int, owner: str = "M1"
               ) -> pb.FreezeAmountResponse | pb.UnfreezeAmountResponse:
    if rpc == "freeze":
        return await stub.FreezeAmount(pb.FreezeAmountRequest(
            freeze_id=hold_id, owner=owner, currency="CNY", amount=amount, operator=OPS,
            note="chargeback"))
    return await stub.UnfreezeAmount(pb.UnfreezeAmountRequest(
        unfreeze_id=hold_id, owner=owner, currency="CNY", amount=amount, operator=OPS,
        note="chargeback"))


async def test_freeze_and_unfreeze_amounts_are_idempotent_postings(stub: Stub) -> None:
    clearing = await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    available = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    frozen = await open_account(stub, "M1", pb.ACCOUNT_KIND_FROZEN)
    await post(stub, "fund", move(clearing, available, 100))

    async def balances() -> tuple[int, int]:
        return await balance(stub, available), await balance(stub, frozen)

    first = await hold(stub, "freeze", "f1", 30)
    assert not first.replayed and first.transfer.code == "FREEZE"
    assert (first.transfer.debit_account_id, first.transfer.credit_account_id) == (available,
                                                                                   frozen)
    assert first.transfer.memo == f"[{OPS}] chargeback"
    assert await balances() == (70, 30)
    again = await hold(stub, "freeze", "f1", 30)
    assert again.replayed and again.transfer == first.transfer and await balances() == (70, 30)
    too_much = await failure(hold(stub, "freeze", "f2", 71))
    assert reason_of(too_much) == "INSUFFICIENT_FUNDS" and await balances() == (70, 30)
    released = await hold(stub, "unfreeze", "u1", 20)
    assert released.transfer.code == "UNFREEZE" and await balances() == (90, 10)
    assert (await hold(stub, "unfreeze", "u1", 20)).replayed and await balances() == (90, 10)
    assert reason_of(await failure(hold(stub, "unfreeze", "u2", 11))) == "INSUFFICIENT_FUNDS"
    # A hold is a transfer: the freeze modes apply to it like to any posting.
    await set_status(stub, available, pb.ACCOUNT_STATUS_STOP_OUT)
    assert reason_of(await failure(hold(stub, "freeze", "f3", 1))) == "ACCOUNT_STATUS"
    assert await balances() == (90, 10)
    missing = await failure(hold(stub, "freeze", "f4", 1, owner="M2"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(missing) == "ACCOUNT_NOT_FOUND"
    await assert_sound(stub)


async def adjust(stub: Stub, adjustment_id: str, debit: int, credit: int, amount: int,
                 reason: str = "bank fee refunded by hand", operator: str = OPS
                 ) -> pb.AdjustResponse:
    return await stub.Adjust(pb.AdjustRequest(
        adjustment_id=adjustment_id, debit_account_id=debit, credit_account_id=credit,
        amount=amount, reason=reason, operator=operator))


async def test_adjustments_are_recorded_with_reason_and_operator(stub: Stub) -> None:
    clearing = await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    available = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    first = await adjust(stub, "a1", clearing, available, 50)
    again = await adjust(stub, "a1", clearing, available, 50)
    assert again.replayed and again.transfer == first.transfer
    assert await balance(stub, available) == 50
    entries = (await stub.ListEntries(pb.ListEntriesRequest(account_id=available))).entries
    assert [(e.amount, e.transfer.code, e.transfer.memo, e.transfer.posting_id)
            for e in entries] == [(50, "ADJUSTMENT", f"[{OPS}] bank fee refunded by hand",
                                   "adj:a1")]
    for bad in (adjust(stub, "a2", clearing, available, 1, reason=" "),
                adjust(stub, "a3", clearing, available, 1, operator=""),
                adjust(stub, "a4", clearing, available, 0)):
        assert (await failure(bad)).code() == grpc.StatusCode.INVALID_ARGUMENT
    reused = await failure(adjust(stub, "a1", clearing, available, 51))
    assert reason_of(reused) == "POSTING_ID_REUSED"
    overdraw = await failure(adjust(stub, "a5", available, clearing, 51))
    assert reason_of(overdraw) == "INSUFFICIENT_FUNDS" and await balance(stub, available) == 50
    await adjust(stub, "a6", available, clearing, 20, reason="reverse part of a1")
    assert await balance(stub, available) == 30
    await assert_sound(stub)
