"""The posting rules alone: validation, fingerprints, and applying transfers to balances."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymesh.services.account.posting import (
    MAX_AMOUNT,
    AccountKind,
    AccountState,
    PostingRefused,
    TransferSpec,
    account_ids,
    apply_posting,
    fingerprint,
    may_go_negative,
    parse_currency,
    parse_posting_id,
    validate_transfers,
)
from paymesh.services.common.errors import InvalidArgument


def _accounts(*states: tuple[int, int, bool], currency: str = "CNY") -> dict[int, AccountState]:
    return {i: AccountState(i, currency, balance, negative) for i, balance, negative in states}


def test_only_channel_clearing_may_go_negative() -> None:
    assert {k for k in AccountKind if may_go_negative(k)} == {AccountKind.CHANNEL_CLEARING}


def test_a_transfer_moves_the_amount_from_debit_to_credit() -> None:
    balances, applied = apply_posting(_accounts((1, 100, False), (2, 5, False)),
                                      [TransferSpec(1, 2, 30, "PAY")])
    assert balances == {1: 70, 2: 35}
    assert (applied[0].debit_balance_after, applied[0].credit_balance_after) == (70, 35)


def test_a_debit_below_zero_is_refused_naming_the_account() -> None:
    with pytest.raises(PostingRefused) as refused:
        apply_posting(_accounts((1, 10, False), (2, 0, False)), [TransferSpec(1, 2, 11, "PAY")])
    assert refused.value.reason == "INSUFFICIENT_FUNDS"
    assert refused.value.account_id == 1 and "account 1" in refused.value.message


def test_a_negative_allowed_account_may_be_debited_below_zero() -> None:
    balances, _ = apply_posting(_accounts((1, 0, True), (2, 0, False)),
                                [TransferSpec(1, 2, 500, "PAY")])
    assert balances == {1: -500, 2: 500}


def test_transfers_apply_in_order_and_a_later_failure_refuses_all() -> None:
    accounts = _accounts((1, 0, True), (2, 0, False), (3, 0, False))
    balances, _ = apply_posting(accounts, [TransferSpec(1, 2, 50, "A"),
                                           TransferSpec(2, 3, 50, "B")])
    assert balances == {1: -50, 2: 0, 3: 50}
    with pytest.raises(PostingRefused):  # account 2 is empty when the first transfer runs
        apply_posting(accounts, [TransferSpec(2, 3, 50, "B"), TransferSpec(1, 2, 50, "A")])


def test_unknown_account_and_mixed_currencies_are_refused() -> None:
    with pytest.raises(PostingRefused) as unknown:
        apply_posting(_accounts((1, 10, False)), [TransferSpec(1, 9, 1, "X")])
    assert (unknown.value.reason, unknown.value.account_id) == ("ACCOUNT_NOT_FOUND", 9)
    accounts = {**_accounts((1, 10, False)), **_accounts((2, 0, False), currency="USD")}
    with pytest.raises(PostingRefused) as mixed:
        apply_posting(accounts, [TransferSpec(1, 2, 1, "X")])
    assert mixed.value.reason == "CURRENCY_MISMATCH"


def test_a_balance_leaving_int64_is_refused() -> None:
    with pytest.raises(PostingRefused) as refused:
        apply_posting(_accounts((1, 0, True), (2, 2**63 - 10, False)),
                      [TransferSpec(1, 2, 10, "X")])
    assert refused.value.reason == "BALANCE_LIMIT_EXCEEDED"


@pytest.mark.parametrize("transfer, field", [
    (TransferSpec(1, 2, 0, "X"), "transfers[0].amount"),
    (TransferSpec(1, 2, -5, "X"), "transfers[0].amount"),
    (TransferSpec(1, 2, MAX_AMOUNT + 1, "X"), "transfers[0].amount"),
    (TransferSpec(1, 1, 5, "X"), "transfers[0].credit_account_id"),
    (TransferSpec(0, 2, 5, "X"), "transfers[0].debit_account_id"),
    (TransferSpec(1, 2, 5, ""), "transfers[0].code"),
    (TransferSpec(1, 2, 5, "bad code"), "transfers[0].code"),
    (TransferSpec(1, 2, 5, "X", "m" * 257), "transfers[0].memo"),
])
def test_malformed_transfers_are_invalid(transfer: TransferSpec, field: str) -> None:
    with pytest.raises(InvalidArgument) as invalid:
        validate_transfers([transfer])
    assert invalid.value.field == field


def test_identifiers_are_checked() -> None:
    with pytest.raises(InvalidArgument):
        validate_transfers([])
    for bad in ("", "x" * 65, "has space", "中文"):
        with pytest.raises(InvalidArgument):
            parse_posting_id(bad)
    for bad in ("cny", "CN", "CNYY"):
        with pytest.raises(InvalidArgument):
            parse_currency(bad)


def test_fingerprint_changes_with_any_field_and_with_order() -> None:
    base = [TransferSpec(1, 2, 5, "X", "m"), TransferSpec(2, 3, 5, "Y")]
    variants = [[TransferSpec(1, 2, 6, "X", "m"), base[1]], [TransferSpec(1, 3, 5, "X", "m"),
                base[1]], [TransferSpec(1, 2, 5, "Z", "m"), base[1]],
                [TransferSpec(1, 2, 5, "X", "n"), base[1]], base[::-1], base[:1]]
    assert fingerprint(list(base)) == fingerprint(list(base))
    assert len({fingerprint(v) for v in variants} | {fingerprint(base)}) == len(variants) + 1


def test_accounts_are_locked_in_ascending_order_once_each() -> None:
    assert account_ids([TransferSpec(9, 3, 1, "X"), TransferSpec(3, 5, 1, "X")]) == [3, 5, 9]


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 1000)),
                min_size=1, max_size=20),
       st.lists(st.integers(0, 2000), min_size=5, max_size=5))
def test_applying_conserves_money_and_respects_overdraft(
        moves: list[tuple[int, int, int]], opening: list[int]) -> None:
    """Whatever the transfers, either nothing changes or the total is unchanged and no
    account that may not go negative is below zero."""
    accounts = {i: AccountState(i, "CNY", opening[i - 1] if i > 1 else 0, i == 1)
                for i in range(1, 6)}
    transfers = [TransferSpec(d, c if c != d else d % 5 + 1, a, "X") for d, c, a in moves]
    try:
        balances, applied = apply_posting(accounts, transfers)
    except PostingRefused as refused:
        assert refused.reason == "INSUFFICIENT_FUNDS"
        return
    assert sum(balances.values()) == sum(a.balance for a in accounts.values())
    assert all(b >= 0 for i, b in balances.items() if i != 1)
    assert len(applied) == len(transfers)
