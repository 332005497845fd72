"""Handling mistakes (差错处理): a declared decision, and its corrections through their owners.

PLATFORM_AUTHORITATIVE (以平台为准) records the decision and closes the mistake.
CHANNEL_AUTHORITATIVE (以银行为准) makes the platform agree with the channel, per type (§6.3,
refunds alike):

=================================  ==================================  =========================
mistake (kind)                     gateway ApplyCorrection              ledger (posting recon:ID)
=================================  ==================================  =========================
SHORT_STATUS (pay)                 MARK_PAY_SUCCEEDED (channel's no.,  none: the gateway's outbox
                                   time)                                posts the payment
BANK_MISS, OVER_STATUS (pay)       MARK_PAY_FAILED                     merchant → clearing:
                                                                        amount − fee; fee income
                                                                        → clearing: fee
SHORT/OVER_CASH (pay)              CORRECT_PAY_AMOUNT (bill amount)    the net and fee
                                                                        differences, each its way
FEE_MISMATCH (pay)                 SET_CHANNEL_FEE (bill fee)          none (platform cost only)
SHORT_STATUS (refund)              MARK_REFUND_SUCCEEDED               none: the gateway posts it
BANK_MISS, OVER_STATUS (refund)    MARK_REFUND_FAILED                  none
PLATFORM_MISS, refund cash/fee     refused: MISTAKE_NOT_CORRECTABLE (no order, or no correction
                                   the gateway can make: investigate, then close it as
                                   platform-authoritative or adjust the ledger by hand)
=================================  ==================================  =========================

The correction id is the mistake id, so the gateway applies it once. The merchant side of a debit
is its PENDING account when that covers the whole amount, else AVAILABLE (already settled money);
the choice is recorded on the mistake before posting, so a retry posts the very same transfers.
When neither covers it nothing is posted: the mistake stays HANDLING with INSUFFICIENT_FUNDS, and
repeating the decision later finishes it.

Steps: NOHANDLE → HANDLING(decision) (committed before any call) → gateway → ledger → HANDLED. A
crash between them is finished by repeating the same decision (both calls are idempotent). A
refusal by the gateway (the order's state does not allow the change) moves nothing, so the mistake
goes back to NOHANDLE and the refusal reaches the operator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.account.v1 import account_pb2
from paymesh.gateway.v1 import gateway_pb2
from paymesh.services.common.db import run_transaction, utc_now
from paymesh.services.common.errors import DomainError, InvalidArgument, NotFound, reason_of
from paymesh.services.reconciliation import matcher as m
from paymesh.services.reconciliation.models import MistakeState, ReconMistake
from paymesh.services.reconciliation.peers import CALL_TIMEOUT_SECONDS, Peers
from paymesh.services.reconciliation.repository import ReconRepository

log = logging.getLogger(__name__)
CHANNEL = "CHANNEL_AUTHORITATIVE"
PLATFORM = "PLATFORM_AUTHORITATIVE"
PLATFORM_OWNER = "platform"
PENDING, AVAILABLE = "PENDING", "AVAILABLE"
_ACCOUNT_KIND = {PENDING: account_pb2.ACCOUNT_KIND_PENDING,
                 AVAILABLE: account_pb2.ACCOUNT_KIND_AVAILABLE}
_TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED)
A = gateway_pb2
_ACTIONS = {
    (m.PAY, m.SHORT_STATUS): A.CORRECTION_ACTION_MARK_PAY_SUCCEEDED,
    (m.PAY, m.BANK_MISS): A.CORRECTION_ACTION_MARK_PAY_FAILED,
    (m.PAY, m.OVER_STATUS): A.CORRECTION_ACTION_MARK_PAY_FAILED,
    (m.PAY, m.SHORT_CASH): A.CORRECTION_ACTION_CORRECT_PAY_AMOUNT,
    (m.PAY, m.OVER_CASH): A.CORRECTION_ACTION_CORRECT_PAY_AMOUNT,
    (m.PAY, m.FEE_MISMATCH): A.CORRECTION_ACTION_SET_CHANNEL_FEE,
    (m.REFUND, m.SHORT_STATUS): A.CORRECTION_ACTION_MARK_REFUND_SUCCEEDED,
    (m.REFUND, m.BANK_MISS): A.CORRECTION_ACTION_MARK_REFUND_FAILED,
    (m.REFUND, m.OVER_STATUS): A.CORRECTION_ACTION_MARK_REFUND_FAILED,
}


@dataclass(frozen=True)
class HandleResult:
    """The mistake after HandleMistake, and whether that call changed nothing."""

    mistake: ReconMistake
    replayed: bool


@dataclass(frozen=True)
class _Movement:
    """One ledger transfer, named by account roles: merchant, clearing, fee."""

    debit: str
    credit: str
    amount: int
    code: str


class MistakeHandling:
    """HandleMistake over the reconciliation database, the gateway and the ledger."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], peers: Peers) -> None:
        self._sessions = sessions
        self._peers = peers

    async def handle(self, mistake_id: str, decision: str, operator: str, remark: str
                     ) -> HandleResult:
        """HandleMistake: see the module docs."""
        if decision not in (CHANNEL, PLATFORM):
            raise InvalidArgument("decision", "decision must be CHANNEL_AUTHORITATIVE or "
                                  "PLATFORM_AUTHORITATIVE")
        if not 1 <= len(operator) <= 64:
            raise InvalidArgument("operator", "operator must be 1..64 characters")
        if len(remark) > 256:
            raise InvalidArgument("remark", "remark must be at most 256 characters")
        mistake, replayed = await self._decide(mistake_id, decision, operator, remark)
        if replayed or mistake.handle_state == MistakeState.HANDLED:
            return HandleResult(mistake, replayed)
        answer = await self._correct(mistake)
        await self._post(mistake, answer)
        return HandleResult(await self._finish(mistake), False)

    async def _decide(self, mistake_id: str, decision: str, operator: str, remark: str
                      ) -> tuple[ReconMistake, bool]:
        async def work() -> tuple[ReconMistake, bool]:
            async with self._sessions.begin() as session:
                repo = ReconRepository(session)
                mistake = await repo.mistake(mistake_id, lock=True)
                if mistake is None:
                    raise NotFound("MISTAKE_NOT_FOUND", f"no mistake {mistake_id!r}")
                if mistake.handle_state != MistakeState.NOHANDLE:
                    if mistake.decision != decision:
                        reason = ("MISTAKE_ALREADY_HANDLED"
                                  if mistake.handle_state == MistakeState.HANDLED
                                  else "MISTAKE_HANDLING")
                        raise DomainError(reason, f"mistake {mistake_id} was decided "
                                          f"{mistake.decision}; it cannot become {decision}")
                    return mistake, mistake.handle_state == MistakeState.HANDLED
                now = utc_now()
                values = {"decision": decision, "operator": operator, "remark": remark}
                if decision == PLATFORM:
                    values.update(handle_state=MistakeState.HANDLED, handled_at=now)
                else:
                    action = _action_of(mistake)
                    values.update(handle_state=MistakeState.HANDLING,
                                  correction_action=A.CorrectionAction.Name(action))
                await repo.move_mistake(mistake_id, MistakeState.NOHANDLE, values)
                fresh = await repo.mistake(mistake_id)
                assert fresh is not None
                return fresh, False

        return await run_transaction(work)

    async def _correct(self, mistake: ReconMistake) -> gateway_pb2.ApplyCorrectionResponse:
        action = A.CorrectionAction.Value(mistake.correction_action)
        request = A.ApplyCorrectionRequest(
            correction_id=mistake.mistake_id, action=action, pay_order_id=mistake.pay_order_id,
            refund_order_id=mistake.refund_order_id,
            reason=f"reconciliation {mistake.bill_date} {mistake.mistake_type}: "
                   f"{mistake.remark}"[:256])
        if action == A.CORRECTION_ACTION_CORRECT_PAY_AMOUNT:
            request.amount = mistake.channel_amount
        elif action == A.CORRECTION_ACTION_SET_CHANNEL_FEE:
            request.channel_fee = mistake.channel_fee
        elif action in (A.CORRECTION_ACTION_MARK_PAY_SUCCEEDED,
                        A.CORRECTION_ACTION_MARK_REFUND_SUCCEEDED):
            request.channel_order_no = mistake.channel_order_no
            request.success_time = mistake.channel_trade_time
        try:
            answer: gateway_pb2.ApplyCorrectionResponse = await self._peers.source.ApplyCorrection(
                request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            if error.code() in _TRANSIENT:
                raise  # the mistake stays HANDLING; the same decision again finishes it
            await self._reopen(mistake)
            raise DomainError(reason_of(error) or error.code().name,
                              f"the gateway refused the correction: {error.details()}",
                              code=error.code()) from None
        return answer

    async def _reopen(self, mistake: ReconMistake) -> None:
        async with self._sessions.begin() as session:
            await ReconRepository(session).move_mistake(
                mistake.mistake_id, MistakeState.HANDLING,
                {"handle_state": MistakeState.NOHANDLE, "decision": "", "operator": "",
                 "remark": "", "correction_action": ""})

    async def _post(self, mistake: ReconMistake,
                    answer: gateway_pb2.ApplyCorrectionResponse) -> None:
        movements = _movements(mistake, answer)
        if not movements:
            return
        currency = (answer.record.currency or mistake.currency or "CNY").upper()
        owners = {"merchant": answer.record.mch_no or mistake.mch_no,
                  "clearing": _clearing_owner(mistake, answer.record),
                  "fee": PLATFORM_OWNER}
        source = mistake.posting_source
        if not source and any(mv.debit == "merchant" for mv in movements):
            need = sum(mv.amount for mv in movements if mv.debit == "merchant")
            source = await self._choose_source(owners["merchant"], currency, need, mistake)
        accounts = {
            "merchant": await self._open(owners["merchant"], currency,
                                         _ACCOUNT_KIND[source or PENDING]),
            "clearing": await self._open(owners["clearing"], currency,
                                         account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING),
            "fee": await self._open(PLATFORM_OWNER, currency, account_pb2.ACCOUNT_KIND_FEE_INCOME),
        }
        memo = (f"reconciliation {mistake.mistake_id}: {mistake.mistake_type} of "
                f"{mistake.pay_order_id}")
        posting_id = f"recon:{mistake.mistake_id}"
        transfers = [account_pb2.TransferRequest(
            debit_account_id=accounts[mv.debit].account_id,
            credit_account_id=accounts[mv.credit].account_id, amount=mv.amount, code=mv.code,
            memo=memo) for mv in movements]
        try:
            await self._peers.ledger.Post(account_pb2.PostRequest(
                posting_id=posting_id, transfers=transfers), timeout=CALL_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            if reason_of(error) != "POSTING_ID_REUSED":
                if error.code() in _TRANSIENT:
                    raise
                raise DomainError(reason_of(error) or error.code().name,
                                  f"the ledger refused {posting_id}: {error.details()}; the "
                                  "mistake stays HANDLING", code=error.code()) from None
            log.warning("posting %s was recorded by an earlier attempt", posting_id)
        async with self._sessions.begin() as session:
            await ReconRepository(session).move_mistake(
                mistake.mistake_id, MistakeState.HANDLING, {"posting_id": posting_id})

    async def _choose_source(self, owner: str, currency: str, need: int,
                             mistake: ReconMistake) -> str:
        for source in (PENDING, AVAILABLE):
            account = await self._open(owner, currency, _ACCOUNT_KIND[source])
            if account.balance >= need:
                async with self._sessions.begin() as session:
                    await ReconRepository(session).move_mistake(
                        mistake.mistake_id, MistakeState.HANDLING, {"posting_source": source})
                return source
        raise DomainError("INSUFFICIENT_FUNDS", f"merchant {owner}'s pending and available "
                          f"balances cannot cover {need} fen; the mistake stays HANDLING: "
                          "repeat the decision once they do")

    async def _open(self, owner: str, currency: str, kind: int) -> account_pb2.Account:
        opened = await self._peers.ledger.OpenAccount(account_pb2.OpenAccountRequest(
            owner=owner, currency=currency, kind=kind), timeout=CALL_TIMEOUT_SECONDS)
        return opened.account  # type: ignore[no-any-return]

    async def _finish(self, mistake: ReconMistake) -> ReconMistake:
        async with self._sessions.begin() as session:
            repo = ReconRepository(session)
            await repo.move_mistake(mistake.mistake_id, MistakeState.HANDLING,
                                    {"handle_state": MistakeState.HANDLED,
                                     "handled_at": utc_now()})
            done = await repo.mistake(mistake.mistake_id)
            assert done is not None
            return done


def _action_of(mistake: ReconMistake) -> int:
    action = _ACTIONS.get((mistake.kind, mistake.mistake_type))
    if action is None:
        what = ("a platform miss has no order to correct" if
                mistake.mistake_type == m.PLATFORM_MISS else
                f"the gateway has no correction for a refund's {mistake.mistake_type}")
        raise DomainError("MISTAKE_NOT_CORRECTABLE", f"{what}: investigate (query the channel), "
                          "then close it as PLATFORM_AUTHORITATIVE or adjust the ledger")
    return action


def _clearing_owner(mistake: ReconMistake, record: gateway_pb2.PlatformRecord) -> str:
    """The channel-clearing owner the gateway posted the order against."""
    key = record.channel_config_key or mistake.platform_channel_config_key
    if key:
        return f"channel:{key}"
    return f"channel:{mistake.channel_config_key.rpartition('.')[2]}"


def _movements(mistake: ReconMistake, answer: gateway_pb2.ApplyCorrectionResponse
               ) -> list[_Movement]:
    """The ledger transfers a correction calls for (none for most actions)."""
    action = A.CorrectionAction.Value(mistake.correction_action)
    if action == A.CORRECTION_ACTION_MARK_PAY_FAILED:
        if answer.previous_state != 2:  # not a success before: nothing was posted for it
            return []
        net = answer.previous_amount - answer.previous_fee_amount
        return _nonzero([_Movement("merchant", "clearing", net, "RECON_PAY_REVERSAL"),
                         _Movement("fee", "clearing", answer.previous_fee_amount,
                                   "RECON_FEE_REVERSAL")])
    if action == A.CORRECTION_ACTION_CORRECT_PAY_AMOUNT:
        new, new_fee = answer.record.amount, answer.record.fee_amount
        net_delta = (new - new_fee) - (answer.previous_amount - answer.previous_fee_amount)
        fee_delta = new_fee - answer.previous_fee_amount
        moves = [_Movement("clearing", "merchant", net_delta, "RECON_AMOUNT") if net_delta > 0
                 else _Movement("merchant", "clearing", -net_delta, "RECON_AMOUNT"),
                 _Movement("clearing", "fee", fee_delta, "RECON_FEE") if fee_delta > 0
                 else _Movement("fee", "clearing", -fee_delta, "RECON_FEE")]
        return _nonzero(moves)
    return []


def _nonzero(moves: list[_Movement]) -> list[_Movement]:
    return [mv for mv in moves if mv.amount > 0]
