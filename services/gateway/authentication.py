"""Who is calling: merchant and app state, signature, reqTime window and replay, in that order."""

from __future__ import annotations

import time
from collections.abc import Callable

from paymesh.services.common import signing
from paymesh.services.common.sharedstate import SharedState
from paymesh.services.gateway.pay_context import PayContext, PayContextCache
from paymesh.services.gateway.protocol import business_error, param_error
from paymesh.services.gateway.replay import ReplayWindow
from paymesh.services.gateway.validation import CommonFields, Params, common_fields


class RequestAuthenticator:
    """Checks a signed merchant request and returns the calling app's context.

    The replay check keeps working while the shared state (Redis) is down: it falls back to this
    process's window (replay.py says what a replay can then do).
    """

    def __init__(self, contexts: PayContextCache, shared: SharedState, window_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:
        self._contexts = contexts
        self._replays = ReplayWindow(shared)
        self._window = window_seconds
        self._clock = clock

    async def authenticate(self, params: Params) -> tuple[CommonFields, PayContext]:
        fields = common_fields(params)
        context = await self._contexts.get(fields.app_id)
        if context is None:
            raise business_error(f"app {fields.app_id} does not exist")
        if context.mch_no != fields.mch_no:
            raise business_error(f"app {fields.app_id} does not belong to merchant "
                                 f"{fields.mch_no}")
        if not context.merchant_active:
            raise business_error(f"merchant {fields.mch_no} is disabled")
        if not context.app_active:
            raise business_error(f"app {fields.app_id} is disabled")
        if not signing.verify(params, context.secret, fields.sign_type, fields.sign):
            raise business_error(f"sign is invalid: sign the parameters with the app secret "
                                 f"using {fields.sign_type}")
        skew = abs(self._clock() - fields.req_time_ms / 1000)
        if skew > self._window:
            raise param_error(f"reqTime is {int(skew)} s away from the server clock; it must be "
                              f"within ±{self._window} s (Unix time in milliseconds)")
        key = (f"replay:nonce:{fields.app_id}:{fields.nonce}" if fields.nonce
               else f"replay:sign:{fields.app_id}:{fields.sign.upper()}")
        if not await self._replays.first_sighting(key, 2 * self._window):
            raise business_error("this signed request was already received (replay); sign a new "
                                 "request with a fresh reqTime or nonce")
        return fields, context
