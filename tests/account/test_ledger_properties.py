"""Property-based: any sequence of postings, some refused, some retried, keeps the ledger sound.

Each example opens its own accounts (a fresh owner prefix) on the test database and replays the
sequence against a plain model: all or none, in order, no overdraft except on clearing accounts,
one result per posting id. After every step the balances match the model; at the end the audit
is clean (sum zero per currency, balance = fold of transfers, no disallowed negative).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paymesh.services.account.posting import AccountKind, PostingRefused, TransferSpec
from paymesh.services.account.service import AccountService
from paymesh.services.common.errors import AlreadyExists

# (owner suffix, currency, kind): two currencies, so some transfers mix them and are refused.
CHART = [("chan", "CNY", AccountKind.CHANNEL_CLEARING), ("m1", "CNY", AccountKind.PENDING),
         ("m1", "CNY", AccountKind.AVAILABLE), ("plat", "CNY", AccountKind.FEE_INCOME),
         ("chan", "USD", AccountKind.CHANNEL_CLEARING), ("m1", "USD", AccountKind.PENDING)]

transfers = st.lists(st.tuples(st.integers(0, len(CHART) - 1), st.integers(0, len(CHART) - 1),
                               st.integers(1, 300)).filter(lambda t: t[0] != t[1]),
                     min_size=1, max_size=3)


@dataclass(frozen=True)
class NewPosting:
    moves: list[tuple[int, int, int]]


@dataclass(frozen=True)
class Retry:
    which: int  # index into the postings made so far, modulo their number
    changed: bool  # retried with one more fen on the first transfer


steps = st.lists(st.one_of(transfers.map(NewPosting),
                           st.builds(Retry, st.integers(0, 50), st.booleans())),
                 min_size=1, max_size=25)


def model_apply(balances: list[int], moves: list[tuple[int, int, int]]) -> list[int] | None:
    """The ledger's rules, written out plainly: the new balances, or None when refused."""
    after = list(balances)
    for debit, credit, amount in moves:
        if CHART[debit][1] != CHART[credit][1]:
            return None
        after[debit] -= amount
        after[credit] += amount
        if after[debit] < 0 and CHART[debit][2] != AccountKind.CHANNEL_CLEARING:
            return None
    return after


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=steps)
async def test_random_postings_keep_every_invariant(service: AccountService,
                                                    sequence: list[NewPosting | Retry]) -> None:
    run = uuid.uuid4().hex[:12]
    ids = [(await service.open_account(f"{run}:{owner}", currency, kind)).account.id
           for owner, currency, kind in CHART]
    balances = [0] * len(CHART)
    made: list[tuple[str, list[tuple[int, int, int]], bool]] = []  # id, moves, accepted
    for n, step in enumerate(sequence):
        if isinstance(step, Retry) and made:
            posting_id, moves, accepted = made[step.which % len(made)]
            if step.changed:
                moves = [(moves[0][0], moves[0][1], moves[0][2] + 1), *moves[1:]]
        else:
            moves = step.moves if isinstance(step, NewPosting) else [(0, 1, 1)]
            posting_id, accepted = f"{run}:{n}", False
        specs = [TransferSpec(ids[d], ids[c], amount, "PROP") for d, c, amount in moves]
        known = any(p == posting_id for p, _, _ in made)
        expected = None if known else model_apply(balances, moves)
        try:
            result = await service.post(posting_id, specs)
        except AlreadyExists as error:
            assert known and isinstance(step, Retry) and step.changed
            assert error.reason == "POSTING_ID_REUSED"
        except PostingRefused:
            assert (known and not accepted) or (not known and expected is None)
        else:
            assert result.replayed == known
            assert (known and accepted) or expected is not None
            assert [(t.debit_account_id, t.credit_account_id, t.amount)
                    for t in result.transfers] == [(s.debit_account_id, s.credit_account_id,
                                                    s.amount) for s in specs]
        if not known:
            made.append((posting_id, moves, expected is not None))
            balances = expected if expected is not None else balances
        stored = {a.id: a.balance for a in await service.balances(0, f"{run}:chan")
                  + await service.balances(0, f"{run}:m1")
                  + await service.balances(0, f"{run}:plat")}
        assert [stored[i] for i in ids] == balances
    report = await service.check_invariants()
    assert report.sound, report
    assert all(b >= 0 for b, (_, _, kind) in zip(balances, CHART, strict=True)
               if kind != AccountKind.CHANNEL_CLEARING)
