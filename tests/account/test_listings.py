"""Filtered entry listings and withdrawal listings, page by page with their cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from paymesh.account.v1 import account_pb2 as pb
from paymesh.common.v1 import common_pb2
from tests.account.test_account_controls import failure
from tests.account.test_account_grpc import Stub, open_account, post
from tests.account.test_settlement import move
from tests.account.test_statement import Clock

START = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


async def every_page(stub: Stub, page_size: int, **filters: object) -> list[str]:
    """The posting ids of every entry the filtered listing returns, following the cursor."""
    seen, token, pages = [], "", 0
    while True:
        answer = await stub.ListEntries(pb.ListEntriesRequest(
            page=common_pb2.PageRequest(page_size=page_size, page_token=token),
            **filters))  # type: ignore[arg-type]
        assert len(answer.entries) <= page_size
        seen += [e.transfer.posting_id for e in answer.entries]
        pages += 1
        assert answer.page.has_more == bool(answer.page.next_page_token)
        if not answer.page.has_more:
            return seen
        token = answer.page.next_page_token
        assert pages < 100


async def test_filters_keep_the_cursor_exact_on_both_sides(stub: Stub, at: Clock) -> None:
    clearing = await open_account(stub, "channel:sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    pending = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    available = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    made = []  # (posting id, code, value date, recorded at), oldest first
    for i in range(30):
        moment = START + timedelta(hours=7 * i)
        code = ("PAY_SUCCESS", "REFUND", "SETTLEMENT")[i % 3]
        value_date = f"2024-03-{1 + i // 4:02d}"
        at(moment)
        if code == "PAY_SUCCESS":
            await post(stub, f"e{i}", move(clearing, pending, 100, code, value_date))
        elif code == "REFUND":
            await post(stub, f"e{i}", move(pending, clearing, 10, code, value_date))
        else:
            await post(stub, f"e{i}", move(pending, available, 5, code, value_date))
        made.append((f"e{i}", code, value_date, moment))

    def expected(keep: object) -> list[str]:
        return [p for p, c, d, t in reversed(made) if keep(c, d, t)]  # type: ignore[operator]

    cases = [
        ({}, lambda c, d, t: True),
        ({"code": "REFUND"}, lambda c, d, t: c == "REFUND"),
        ({"code": "SETTLEMENT"}, lambda c, d, t: c == "SETTLEMENT"),
        ({"value_date_from": "2024-03-03", "value_date_to": "2024-03-05"},
         lambda c, d, t: "2024-03-03" <= d <= "2024-03-05"),
        ({"value_date_from": "2024-03-07"}, lambda c, d, t: d >= "2024-03-07"),
        ({"value_date_to": "2024-03-01"}, lambda c, d, t: d <= "2024-03-01"),
        ({"created_after": stamp(START + timedelta(hours=35)),
          "created_before": stamp(START + timedelta(hours=140))},
         lambda c, d, t: START + timedelta(hours=35) <= t < START + timedelta(hours=140)),
        ({"code": "PAY_SUCCESS", "value_date_from": "2024-03-02",
          "created_before": stamp(START + timedelta(hours=150))},
         lambda c, d, t: c == "PAY_SUCCESS" and d >= "2024-03-02"
         and t < START + timedelta(hours=150)),
        ({"code": "ADJUSTMENT"}, lambda c, d, t: False),
    ]
    for filters, keep in cases:
        want = expected(keep)
        for size in (1, 4, 100):
            assert await every_page(stub, size, account_id=pending, **filters) == want, filters
    # The cursor of an exact-size last page ends the listing cleanly.
    refunds = expected(lambda c, d, t: c == "REFUND")
    assert await every_page(stub, len(refunds), account_id=pending, code="REFUND") == refunds
    settled = await every_page(stub, 3, account_id=available, code="SETTLEMENT")
    assert settled == expected(lambda c, d, t: c == "SETTLEMENT")


@pytest.mark.parametrize(("filters", "field"), [
    ({"code": "refund"}, "code"),
    ({"value_date_from": "2024-02-30"}, "value_date_from"),
    ({"value_date_to": "03/01/2024"}, "value_date_to"),
    ({"value_date_from": "2024-03-02", "value_date_to": "2024-03-01"}, "value_date_to"),
    ({"created_after": stamp(START), "created_before": stamp(START)}, "created_before"),
])
async def test_bad_filters_name_the_field(stub: Stub, filters: dict[str, object], field: str
                                          ) -> None:
    pending = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    error = await failure(stub.ListEntries(pb.ListEntriesRequest(
        account_id=pending, **filters)))  # type: ignore[arg-type]
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.details()


async def test_withdrawals_list_newest_first_by_owner_and_state(stub: Stub) -> None:
    clearing = await open_account(stub, "channel:sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    for owner in ("M1", "M2"):
        available = await open_account(stub, owner, pb.ACCOUNT_KIND_AVAILABLE)
        await open_account(stub, owner, pb.ACCOUNT_KIND_FROZEN)
        await post(stub, f"fund-{owner}", move(clearing, available, 10_000, "TEST"))
    requested = []
    for i in range(7):
        owner = "M1" if i % 3 else "M2"
        await stub.RequestWithdrawal(pb.RequestWithdrawalRequest(
            withdrawal_id=f"w{i}", owner=owner, currency="CNY", amount=100 + i,
            operator=f"merchant:{owner}"))
        requested.append((f"w{i}", owner))
    for withdrawal_id in ("w1", "w2"):
        await stub.ApproveWithdrawal(pb.ApproveWithdrawalRequest(withdrawal_id=withdrawal_id,
                                                                 operator="ops:bob"))
    await stub.MarkWithdrawalPaid(pb.MarkWithdrawalPaidRequest(withdrawal_id="w2",
                                                               operator="payout"))

    async def listed(size: int, **filters: object) -> list[str]:
        ids, token = [], ""
        while True:
            page = await stub.ListWithdrawals(pb.ListWithdrawalsRequest(
                page=common_pb2.PageRequest(page_size=size, page_token=token),
                **filters))  # type: ignore[arg-type]
            ids += [w.withdrawal_id for w in page.withdrawals]
            if not page.page.has_more:
                return ids
            token = page.page.next_page_token

    newest_first = [w for w, _ in reversed(requested)]
    for size in (1, 2, 100):
        assert await listed(size) == newest_first
        assert await listed(size, owner="M2") == [w for w, o in reversed(requested) if o == "M2"]
        assert await listed(size, state=pb.WITHDRAWAL_STATE_REQUESTED) == [
            w for w in newest_first if w not in ("w1", "w2")]
        assert await listed(size, owner="M1", state=pb.WITHDRAWAL_STATE_APPROVED) == ["w1"]
    page = await stub.ListWithdrawals(pb.ListWithdrawalsRequest(owner="M1",
                                                                state=pb.WITHDRAWAL_STATE_PAID))
    [paid] = page.withdrawals
    assert (paid.withdrawal_id, paid.amount, paid.state) == ("w2", 102,
                                                             pb.WITHDRAWAL_STATE_PAID)
    assert [s.state for s in paid.steps] == [pb.WITHDRAWAL_STATE_REQUESTED,
                                             pb.WITHDRAWAL_STATE_APPROVED,
                                             pb.WITHDRAWAL_STATE_PAID]
    got = await stub.GetWithdrawal(pb.GetWithdrawalRequest(withdrawal_id="w2"))
    assert got.withdrawal == paid
    missing = await failure(stub.GetWithdrawal(pb.GetWithdrawalRequest(withdrawal_id="nope")))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    for request, field in ((pb.ListWithdrawalsRequest(page={"page_size": 101}), "page_size"),
                           (pb.ListWithdrawalsRequest(page={"page_token": "x"}), "page_token"),
                           (pb.ListWithdrawalsRequest(owner="a b"), "owner")):
        error = await failure(stub.ListWithdrawals(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.details()
