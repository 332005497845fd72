"""Writing what a run found, inside the batch's final transaction, in bulk.

Redo-safe: what an earlier run of the same batch did to the pool is reopened first; mistakes that
exist already (being handled or handled) are kept, open ones not found again are dropped, new
ones inserted; pool entries and matched-ahead keys are inserted only when absent.
"""

from __future__ import annotations

from typing import Any

from paymesh.services.common.db import utc_now
from paymesh.services.common.ids import SnowflakeIds
from paymesh.services.reconciliation import batches as b
from paymesh.services.reconciliation import matcher as m
from paymesh.services.reconciliation.models import MistakeState, PoolState, ReconBatch
from paymesh.services.reconciliation.peers import ChannelConfig
from paymesh.services.reconciliation.repository import ReconRepository

Key = tuple[int, str, str]


async def write_outcome(repo: ReconRepository, batch: ReconBatch, config: ChannelConfig,
                        outcome: m.MatchOutcome, ids: SnowflakeIds) -> None:
    """Records the outcome's mistakes and pool changes for ``batch`` (see the module docs)."""
    batch_id, key = batch.batch_id, batch.channel_config_key
    await repo.reopen_pool(batch_id)
    existing = await repo.mistake_keys(batch_id)
    found: set[Key] = set()
    now = utc_now()
    for chunk in outcome.results():
        mistakes: list[dict[str, Any]] = []
        pooled: dict[tuple[int, str], dict[str, Any]] = {}
        closed: dict[tuple[str, int], list[str]] = {}
        ahead: dict[tuple[int, str], dict[str, Any]] = {}
        for row in chunk:
            tag = row[0]
            if tag == m.MISTAKE:
                _, mistake_type, kind, record_key = row[:4]
                identity = (kind, record_key, mistake_type)
                if identity in found:
                    continue
                found.add(identity)
                if identity not in existing:
                    mistakes.append(_mistake(row, batch, config, f"RM{ids.next()}", now))
            elif tag == m.POOLED:
                record = row[1]
                pooled[(record[b.R_KIND], record[b.R_KEY])] = _pool_entry(record, batch, now)
            elif tag in (m.CLEARED, m.EXPIRED):
                state = PoolState.CLEARED if tag == m.CLEARED else PoolState.EXPIRED
                closed.setdefault((state, row[1]), []).append(row[2])
            elif tag == m.AHEAD:
                ahead[(row[1], row[2])] = {"channel_config_key": key, "kind": row[1],
                                           "record_key": row[2], "batch_id": batch_id}
        await repo.insert_mistakes(mistakes)
        await repo.insert_pool(await _absent(pooled, lambda kind, keys: repo.pool_keys(
            key, kind, keys)))
        await repo.insert_ahead(await _absent(ahead, lambda kind, keys: repo.ahead_keys(
            key, kind, keys)))
        for (state, kind), keys in closed.items():
            await repo.close_pool(key, kind, keys, state, batch_id)
    gone = [k for k, state in existing.items()
            if k not in found and state == MistakeState.NOHANDLE]
    await repo.drop_open_mistakes(batch_id, gone)


async def _absent(rows: dict[tuple[int, str], dict[str, Any]], present: Any
                  ) -> list[dict[str, Any]]:
    """The rows whose (kind, key) is not in the table yet."""
    out = []
    for kind in (m.PAY, m.REFUND):
        keys = [k for (k_kind, k) in rows if k_kind == kind]
        if not keys:
            continue
        taken = await present(kind, keys)
        out += [rows[(kind, k)] for k in keys if k not in taken]
    return out


def _mistake(row: tuple[Any, ...], batch: ReconBatch, config: ChannelConfig, mistake_id: str,
             now: Any) -> dict[str, Any]:
    _, mistake_type, kind, record_key, pay_order_id, record, bill_row = row
    values: dict[str, Any] = {
        "mistake_id": mistake_id, "batch_id": batch.batch_id, "bill_date": batch.bill_date,
        "channel_config_key": batch.channel_config_key, "kind": kind,
        "mistake_type": mistake_type, "record_key": record_key, "pay_order_id": pay_order_id,
        "refund_order_id": record_key if kind == m.REFUND else "",
        "mch_no": record[b.R_MCH] if record is not None else config.mch_no,
        "currency": record[b.R_CURRENCY] if record is not None else "",
        "platform_found": record is not None, "platform_state": -1, "platform_amount": 0,
        "platform_fee": 0, "platform_channel_fee": None, "platform_success_time": 0,
        "platform_channel_config_key": "", "channel_found": bill_row is not None,
        "channel_status": 0, "channel_amount": 0, "channel_fee": 0, "channel_order_no": "",
        "channel_trade_time": 0, "handle_state": MistakeState.NOHANDLE, "decision": "",
        "operator": "", "remark": "", "correction_action": "", "posting_id": "",
        "posting_source": "", "created_at": now, "handled_at": None}
    if record is not None:
        values.update(platform_state=record[b.R_STATE], platform_amount=record[b.R_AMOUNT],
                      platform_fee=record[b.R_FEE], platform_channel_fee=record[b.R_CHANNEL_FEE],
                      platform_success_time=record[b.R_SUCCESS],
                      platform_channel_config_key=record[b.R_CONFIG],
                      channel_order_no=record[b.R_CHANNEL_NO] or "")
    if bill_row is not None:
        values.update(channel_status=bill_row[b.B_STATUS], channel_amount=bill_row[b.B_AMOUNT],
                      channel_fee=bill_row[b.B_FEE], channel_trade_time=bill_row[b.B_TIME],
                      channel_order_no=bill_row[b.B_CHANNEL_NO] or values["channel_order_no"])
    return values


def _pool_entry(record: tuple[Any, ...], batch: ReconBatch, now: Any) -> dict[str, Any]:
    kind = record[b.R_KIND]
    return {"channel_config_key": batch.channel_config_key, "kind": kind,
            "record_key": record[b.R_KEY], "origin_date": batch.bill_date,
            "origin_batch_id": batch.batch_id, "state": PoolState.WAITING,
            "closed_batch_id": None, "pay_order_id": record[b.R_PAY_ID],
            "refund_order_id": record[b.R_KEY] if kind == m.REFUND else "",
            "mch_no": record[b.R_MCH], "currency": record[b.R_CURRENCY],
            "platform_state": record[b.R_STATE], "amount": record[b.R_AMOUNT],
            "fee_amount": record[b.R_FEE], "channel_fee": record[b.R_CHANNEL_FEE],
            "success_time": record[b.R_SUCCESS], "record_config_key": record[b.R_CONFIG],
            "channel_order_no": record[b.R_CHANNEL_NO], "created_at": now}
