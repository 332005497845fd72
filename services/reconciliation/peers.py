"""The other services reconciliation talks to, and the gRPC side of matching's sources.

Merchant: ResolveChannelConfigs (which configs exist, their channel parameters). Channel:
DownloadBill (the bill, streamed). Gateway: ReconciliationSourceService (the day's records,
lookups, corrections). Account: OpenAccount and Post (the ledger side of corrections).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from paymesh.account.v1 import account_pb2_grpc
from paymesh.channel.v1 import channel_pb2, channel_pb2_grpc
from paymesh.common.v1 import common_pb2
from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.common.errors import NotFound
from paymesh.services.reconciliation import batches as b

# A day's streams may be long (a million rows); unary calls are short.
STREAM_TIMEOUT_SECONDS = 3600.0
CALL_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Peers:
    """Stubs of the services reconciliation calls (typed loosely so tests can pass fakes)."""

    merchant: Any  # merchant_pb2_grpc.MerchantServiceStub
    channel: Any  # channel_pb2_grpc.ChannelServiceStub
    source: Any  # gateway_pb2_grpc.ReconciliationSourceServiceStub
    ledger: Any  # account_pb2_grpc.AccountServiceStub

    @classmethod
    def over(cls, merchant: grpc.aio.Channel, channel: grpc.aio.Channel,
             gateway: grpc.aio.Channel, account: grpc.aio.Channel) -> Peers:
        return cls(merchant_pb2_grpc.MerchantServiceStub(merchant),
                   channel_pb2_grpc.ChannelServiceStub(channel),
                   gateway_pb2_grpc.ReconciliationSourceServiceStub(gateway),
                   account_pb2_grpc.AccountServiceStub(account))


@dataclass(frozen=True)
class ChannelConfig:
    """A channel config as the merchant service resolves it."""

    key: str
    if_code: str
    active: bool
    mch_no: str
    params_json: str


async def resolve_configs(peers: Peers, key: str = "") -> list[ChannelConfig]:
    """Every channel config, or the one with ``key`` (empty list when unknown)."""
    answer = await peers.merchant.ResolveChannelConfigs(
        merchant_pb2.ResolveChannelConfigsRequest(channel_config_key=key),
        timeout=CALL_TIMEOUT_SECONDS)
    return [ChannelConfig(c.channel_config_key, c.if_code,
                          c.state == common_pb2.ENTITY_STATE_ACTIVE, c.mch_no,
                          c.channel_params_json)
            for c in answer.channel_configs]


async def resolve_config(peers: Peers, key: str) -> ChannelConfig:
    """The config with ``key``; NotFound(CHANNEL_CONFIG_NOT_FOUND) when there is none."""
    for config in await resolve_configs(peers, key):
        if config.key == key:
            return config
    raise NotFound("CHANNEL_CONFIG_NOT_FOUND", f"no channel config {key!r}")


class GrpcSources:
    """MatchSources over DownloadBill and the gateway's ReconciliationSourceService."""

    def __init__(self, peers: Peers, config: ChannelConfig, bill_date: str) -> None:
        self._peers = peers
        self._config = config
        self._bill_date = bill_date

    async def bill(self, partitions: int = 0) -> AsyncIterator[b.BillBatch]:
        """The bill's batches, asked for as columns grouped by partition (a server that does
        not group sends columns, one that knows no columns sends rows: passed on as they are).
        """
        call = self._peers.channel.DownloadBill(channel_pb2.DownloadBillRequest(
            if_code=self._config.if_code, channel_params_json=self._config.params_json,
            bill_date=self._bill_date, columnar=True, partitions=partitions),
            timeout=STREAM_TIMEOUT_SECONDS)
        async for message in call:
            if not message.HasField("columns"):
                yield message.rows
                continue
            c = message.columns
            if message.HasField("partition"):  # filed as bytes; its totals read in place
                yield b.BillChunk(message.partition, c.SerializeToString(), list(c.kinds),
                                  c.statuses, c.amounts, c.fees)
            else:
                yield b.BillColumns(list(c.kinds), list(c.channel_order_nos),
                                    list(c.pay_order_ids), list(c.refund_order_ids),
                                    list(c.amounts), list(c.fees), list(c.statuses),
                                    list(c.trade_times))

    def bill_chunk(self, data: bytes) -> b.BillColumns:
        """A chunk's rows: the kinds and order numbers as lists, the other columns as the
        message's own sequences (their values become objects only where they are read)."""
        c = channel_pb2.BillColumns.FromString(data)
        return b.BillColumns(list(c.kinds), c.channel_order_nos, list(c.pay_order_ids),
                             c.refund_order_ids, c.amounts, c.fees, c.statuses, c.trade_times)

    async def platform(self, partitions: int = 0) -> AsyncIterator[b.PlatformBatch]:
        """The day's records, asked for like the bill's rows."""
        key = self._config.key
        call = self._peers.source.StreamDayRecords(gateway_pb2.StreamDayRecordsRequest(
            channel_config_key=key, bill_date=self._bill_date, columnar=True,
            partitions=partitions), timeout=STREAM_TIMEOUT_SECONDS)
        async for message in call:
            if not message.HasField("columns"):
                yield message.records
                continue
            c = message.columns
            if message.HasField("partition"):
                yield b.PlatformChunk(message.partition, c.SerializeToString(), list(c.kinds),
                                      c.states, c.amounts, c.channel_fee_amounts,
                                      c.success_times)
            else:
                yield b.PlatformColumns(
                    list(c.kinds), list(c.pay_order_ids), list(c.refund_order_ids),
                    list(c.mch_nos), list(c.channel_order_nos), list(c.amounts), list(c.states),
                    list(c.fee_amounts), list(c.channel_fee_amounts), list(c.channel_fee_known),
                    list(c.success_times), list(c.currencies), [key] * len(c.kinds))

    def platform_chunk(self, data: bytes) -> b.PlatformColumns:
        """A chunk's records, like bill_chunk's rows; every record of a day stream is of the
        config asked for."""
        c = gateway_pb2.PlatformRecordColumns.FromString(data)
        return b.PlatformColumns(
            list(c.kinds), list(c.pay_order_ids), c.refund_order_ids, c.mch_nos,
            c.channel_order_nos, c.amounts, c.states, c.fee_amounts, c.channel_fee_amounts,
            c.channel_fee_known, c.success_times, c.currencies, [self._config.key] * len(c.kinds))

    async def lookup(self, pay_order_ids: Sequence[str],
                     refund_order_ids: Sequence[str]) -> Sequence[Any]:
        answer = await self._peers.source.LookupRecords(gateway_pb2.LookupRecordsRequest(
            pay_order_ids=list(pay_order_ids), refund_order_ids=list(refund_order_ids)),
            timeout=CALL_TIMEOUT_SECONDS)
        return answer.records  # type: ignore[no-any-return]
