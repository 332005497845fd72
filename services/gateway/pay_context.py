"""The gateway's cache of app settings (ResolvePayContext), kept true by WatchConfigChanges.

An entry is cached only while the change stream is connected; when the stream drops, the cache is
emptied and every request asks the merchant service until the stream is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

import grpc

from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.common.errors import reason_of
from paymesh.services.gateway.fees import FeeModel

log = logging.getLogger(__name__)
ACTIVE = 1  # paymesh.common.v1.EntityState ACTIVE


@dataclass(frozen=True)
class Passage:
    """A passage ready to use: channel, fee model, the channel config's key and parameters.

    ``fee_model`` is the whole model snapshotted on orders (``fees`` falls back to the bare
    ``fee_rate`` when it is not given); ``channel_config_key`` names the channel account that
    takes the money, empty when the merchant service gives none.
    """

    way_code: str
    if_code: str
    fee_rate: str
    usable: bool
    channel_params_json: str
    priority: int = 0
    weight: int = 1
    max_amount: int = 0
    daily_limit: int = 0
    fee_model: FeeModel | None = None
    channel_config_key: str = ""

    @property
    def fees(self) -> FeeModel:
        return self.fee_model or FeeModel(self.fee_rate)


@dataclass(frozen=True)
class PayContext:
    """What the gateway knows about one app."""

    app_id: str
    app_active: bool
    mch_no: str
    merchant_active: bool
    secret: str
    passages: dict[str, list[Passage]]
    # The operator lets this app's notifications target loopback or private addresses.
    allow_private_notify_url: bool = False

    def channel_params(self, if_code: str) -> str | None:
        for candidates in self.passages.values():
            for passage in candidates:
                if passage.if_code == if_code:
                    return passage.channel_params_json
        return None


def _fee_model(passage: merchant_pb2.PayPassage) -> FeeModel:
    """The passage's fee model; unspecified enums take their defaults (codes = enum numbers)."""
    return FeeModel(rate=passage.fee_rate or "0", fixed=passage.fee_fixed,
                    floor=passage.fee_floor, cap=passage.fee_cap,
                    rounding=passage.fee_rounding or merchant_pb2.FEE_ROUNDING_HALF_UP,
                    refund_rule=(passage.refund_fee_rule
                                 or merchant_pb2.REFUND_FEE_RULE_RETURN_PRO_RATA),
                    channel_cost_rate=passage.channel_cost_rate or None)


def _context(answer: merchant_pb2.ResolvePayContextResponse) -> PayContext:
    passages: dict[str, list[Passage]] = {}
    for item in answer.passages:
        p = item.passage
        passages.setdefault(p.way_code, []).append(Passage(
            way_code=p.way_code, if_code=p.if_code, fee_rate=p.fee_rate or "0",
            usable=p.state == ACTIVE and item.channel_config_state == ACTIVE,
            channel_params_json=item.channel_params_json, priority=p.priority,
            weight=p.weight or 1, max_amount=p.max_amount_per_order,
            daily_limit=p.daily_amount_limit, fee_model=_fee_model(p),
            channel_config_key=item.channel_config_key))
    return PayContext(app_id=answer.app.app_id, app_active=answer.app.state == ACTIVE,
                      mch_no=answer.merchant.mch_no,
                      merchant_active=answer.merchant.state == ACTIVE,
                      secret=answer.app_secret, passages=passages,
                      allow_private_notify_url=answer.app.allow_private_notify_url)


class PayContextCache:
    """Resolves app contexts through the merchant service, caching while changes are watched."""

    def __init__(self, stub: merchant_pb2_grpc.MerchantServiceStub) -> None:
        self._stub = stub
        self._entries: dict[str, PayContext] = {}
        self._watching = False
        self._generation = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="config-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def get(self, app_id: str) -> PayContext | None:
        """The app's context, or None when no such app exists."""
        cached = self._entries.get(app_id)
        if cached is not None:
            return cached
        generation = self._generation
        try:
            answer = await self._stub.ResolvePayContext(
                merchant_pb2.ResolvePayContextRequest(app_id=app_id), timeout=5,
                wait_for_ready=True)
        except grpc.aio.AioRpcError as error:
            if reason_of(error) == "APP_NOT_FOUND":
                return None
            raise
        context = _context(answer)
        # Only cache what no change event can have overtaken.
        if self._watching and generation == self._generation:
            self._entries[app_id] = context
        return context

    def _forget(self, app_id: str, mch_no: str) -> None:
        self._generation += 1
        if app_id:
            self._entries.pop(app_id, None)
        elif not mch_no:  # an ISV changed: any sub-merchant may be affected
            self._entries.clear()
        else:
            for key in [k for k, v in self._entries.items() if v.mch_no == mch_no]:
                del self._entries[key]

    async def _watch(self) -> None:
        delay = 0.2
        while True:
            try:
                stream = self._stub.WatchConfigChanges(merchant_pb2.WatchConfigChangesRequest())
                await stream.initial_metadata()  # sent once the merchant is subscribed
                if not stream.done():  # else it was refused (no metadata): keep backing off
                    self._watching = True
                    delay = 0.2
                async for change in stream:
                    self._forget(change.app_id, change.mch_no)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - reconnect whatever broke the stream
                log.info("config change stream lost (%s); reconnecting", _short(error))
            self._watching = False
            self._generation += 1
            self._entries.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _short(error: Exception) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code().name
    return json.dumps(str(error))[:80]
