"""The replay check keeps merchant calls working while Redis is down, and uses Redis when back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from paymesh.services.common import signing
from paymesh.services.common.sharedstate import CircuitBreaker, InProcessState, RedisState
from paymesh.services.gateway.authentication import RequestAuthenticator
from paymesh.services.gateway.pay_context import PayContext
from paymesh.services.gateway.protocol import ApiError
from tests.common.redis_outage import RestartableRedis, closed_port

APP_ID, MCH_NO, SECRET = "6600000000000001", "M1700000001", "s" * 32
WINDOW = 300
COOLDOWN = 2.0


class Contexts:
    """The one app the requests come from (stands in for the PayContextCache)."""

    async def get(self, app_id: str) -> PayContext | None:
        if app_id != APP_ID:
            return None
        return PayContext(app_id=APP_ID, app_active=True, mch_no=MCH_NO, merchant_active=True,
                          secret=SECRET, passages={})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def signed(number: int) -> dict[str, str | None]:
    params: dict[str, str | None] = {
        "mchNo": MCH_NO, "appId": APP_ID, "version": "1.0", "signType": "MD5",
        "reqTime": str(int(time.time() * 1000)), "mchOrderNo": f"ORDER{number}"}
    params["sign"] = signing.sign(params, SECRET)
    return params


def authenticator(shared: Any) -> RequestAuthenticator:
    return RequestAuthenticator(Contexts(), shared, WINDOW)  # type: ignore[arg-type]


async def refused_as_replay(auth: RequestAuthenticator, params: dict[str, str | None]) -> bool:
    try:
        await auth.authenticate(params)
    except ApiError as error:
        assert "replay" in error.msg, error.msg
        return True
    return False


def degraded_replays() -> float:
    return REGISTRY.get_sample_value("paymesh_shared_state_degraded_total",
                                     {"use": "replay"}) or 0.0


async def test_with_redis_unreachable_a_fresh_request_passes_and_its_replay_is_refused() -> None:
    shared = RedisState(f"redis://127.0.0.1:{closed_port()}/0", "pmtest:")
    auth = authenticator(shared)
    before = degraded_replays()
    try:
        for number in range(3):
            request = signed(number)
            fields, context = await auth.authenticate(request)
            assert (fields.app_id, context.mch_no) == (APP_ID, MCH_NO)
            assert await refused_as_replay(auth, dict(request))
        assert degraded_replays() == before + 3
    finally:
        await shared.close()


async def test_once_redis_is_back_replays_are_caught_across_processes(tmp_path: Path) -> None:
    clock = FakeClock()
    async with RestartableRedis(tmp_path) as redis:
        # two gateway processes sharing one Redis, which is down when they start
        shared = [RedisState(redis.url, redis.prefix, breaker=CircuitBreaker("a", COOLDOWN,
                                                                             clock)),
                  RedisState(redis.url, redis.prefix, breaker=CircuitBreaker("b", COOLDOWN,
                                                                             clock))]
        first, second = authenticator(shared[0]), authenticator(shared[1])
        try:
            during = signed(1)
            await first.authenticate(during)
            assert await refused_as_replay(first, dict(during))  # the local window

            await redis.start()
            clock.now += COOLDOWN
            after = signed(2)
            await first.authenticate(after)
            assert len(await redis.keys()) == 1  # remembered in Redis again
            assert await refused_as_replay(second, dict(after))  # so another process refuses it
            assert await refused_as_replay(first, dict(after))

            await redis.stop()  # down again: both keep answering on their own windows
            again = signed(3)
            await second.authenticate(again)
            assert await refused_as_replay(second, dict(again))
        finally:
            for state in shared:
                await state.close()


async def test_an_in_process_shared_state_is_the_window_itself() -> None:
    shared = InProcessState()
    auth = authenticator(shared)
    request = signed(1)
    await auth.authenticate(request)
    assert await refused_as_replay(auth, dict(request))
    assert await refused_as_replay(authenticator(shared), dict(request))


@pytest.mark.parametrize("nonce", ["n-1", None])
async def test_the_replay_key_is_the_nonce_or_else_the_signature(nonce: str | None) -> None:
    shared = RedisState(f"redis://127.0.0.1:{closed_port()}/0", "pmtest:")
    auth = authenticator(shared)
    try:
        request = signed(1)
        if nonce:
            request["nonce"] = nonce
            request["sign"] = signing.sign({k: v for k, v in request.items() if k != "sign"},
                                           SECRET)
        await auth.authenticate(request)
        other = signed(2)
        if nonce:  # a different request with the same nonce is a replay too
            other["nonce"] = nonce
            other["sign"] = signing.sign({k: v for k, v in other.items() if k != "sign"},
                                         SECRET)
            assert await refused_as_replay(auth, other)
        else:
            await auth.authenticate(other)
    finally:
        await shared.close()
