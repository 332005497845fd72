"""Service providers (服务商, ISV): their channel accounts serve their sub-merchants.

A sub-merchant's app keeps only its own sub-merchant ids for a channel (WeChat sub_mchid, Alipay
app_auth_token, UnionPay merId); payments go through the ISV's account for that channel. The
gateway receives the ISV's parameters with the app's under "sub", and the passage is usable only
while the ISV, its account and the app's config are all enabled.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.common.db import utc_now
from paymesh.services.common.errors import DomainError, InvalidArgument, NotFound
from paymesh.services.common.secretbox import SecretBox
from paymesh.services.merchant.changes import ConfigChange, ConfigChangeFeed
from paymesh.services.merchant.models import STATE_ACTIVE, Isv, IsvChannelConfig
from paymesh.services.merchant.repository import MerchantRepository
from paymesh.services.merchant.validation import (
    SANDBOX,
    check_if_code,
    check_state,
    parse_channel_params,
    parse_name,
)

# Every sub-merchant may be affected: the gateway drops all cached contexts.
EVERYTHING = ConfigChange("", "")


@dataclass(frozen=True)
class IsvChannelConfigView:
    """An ISV's channel account as operators may see it: parameter names, never values."""

    config: IsvChannelConfig
    param_names: list[str]


def _isv_no() -> str:
    return f"V{int(time.time()) % 10**8:08d}{secrets.randbelow(10**4):04d}"


def _context(isv_no: str, if_code: str) -> str:
    return f"isv-channel-config:{isv_no}:{if_code}"


def open_isv_params(box: SecretBox, config: IsvChannelConfig) -> dict[str, object]:
    """An ISV channel account's parameters in clear."""
    params: dict[str, object] = json.loads(
        box.open(config.params_sealed, _context(config.isv_no, config.if_code)))
    return params


async def active_isv(repo: MerchantRepository, isv_no: str) -> Isv:
    """The ISV a new sub-merchant joins; it must exist and be enabled."""
    isv = await repo.isv(isv_no)
    if isv is None:
        raise NotFound("ISV_NOT_FOUND", f"ISV {isv_no} does not exist")
    if isv.state != STATE_ACTIVE:
        raise DomainError("ISV_DISABLED", f"ISV {isv_no} is disabled", field="isv_no")
    return isv


class IsvService:
    """Onboarding of ISVs and their channel accounts, secrets sealed at rest."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: SecretBox,
                 changes: ConfigChangeFeed) -> None:
        self._sessions = sessions
        self._box = box
        self._changes = changes

    async def create_isv(self, name: str) -> Isv:
        name = parse_name(name)
        async with self._sessions.begin() as session:
            isv = Isv(isv_no=_isv_no(), name=name, state=STATE_ACTIVE, created_at=utc_now())
            MerchantRepository(session).add(isv)
        return isv

    async def get_isv(self, isv_no: str) -> Isv:
        async with self._sessions.begin() as session:
            return await self._isv(MerchantRepository(session), isv_no)

    async def set_isv_state(self, isv_no: str, state: int) -> Isv:
        check_state(state)
        async with self._sessions.begin() as session:
            isv = await self._isv(MerchantRepository(session), isv_no)
            isv.state = state
        await self._changes.announce(EVERYTHING)
        return isv

    async def put_channel_config(self, isv_no: str, if_code: str, params_json: str,
                                 state: int) -> IsvChannelConfigView:
        check_if_code(if_code, "if_code")
        if if_code == SANDBOX:
            raise InvalidArgument("if_code", "the sandbox needs no ISV account")
        check_state(state)
        params = parse_channel_params(if_code, params_json)
        async with self._sessions.begin() as session:
            repo = MerchantRepository(session)
            await self._isv(repo, isv_no)
            config = await repo.isv_channel_config(isv_no, if_code)
            if config is None:
                config = IsvChannelConfig(isv_no=isv_no, if_code=if_code)
                repo.add(config)
            config.params_sealed = self._box.seal(json.dumps(params, ensure_ascii=False),
                                                  _context(isv_no, if_code))
            config.state, config.updated_at = state, utc_now()
        await self._changes.announce(EVERYTHING)
        return IsvChannelConfigView(config, sorted(params))

    async def list_channel_configs(self, isv_no: str) -> list[IsvChannelConfigView]:
        async with self._sessions.begin() as session:
            repo = MerchantRepository(session)
            await self._isv(repo, isv_no)
            configs: Sequence[IsvChannelConfig] = await repo.isv_channel_configs_of(isv_no)
        return [IsvChannelConfigView(c, sorted(open_isv_params(self._box, c))) for c in configs]

    @staticmethod
    async def _isv(repo: MerchantRepository, isv_no: str) -> Isv:
        isv = await repo.isv(isv_no)
        if isv is None:
            raise NotFound("ISV_NOT_FOUND", f"ISV {isv_no} does not exist")
        return isv
