"""Channel configs by their stable key, with their parameters in clear, for internal callers.

A channel config is an app's own config for one ifCode (key ``<app_id>.<if_code>``) or an ISV's
channel account (key ``<isv_no>.<if_code>``). The key names the account money goes through: the
ledger keeps one channel-clearing account per key and reconciliation runs one batch per key and
bill day. A sub-merchant's passages (other than the sandbox) are served by its ISV's account, so
they carry the ISV config's key.

A config is reported DISABLED when it cannot take payments: an app's config when the config, its
app or its merchant is disabled; an ISV's account when the account or the ISV is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.common.secretbox import SecretBox
from paymesh.services.merchant.isv import open_isv_params
from paymesh.services.merchant.models import (
    STATE_ACTIVE,
    STATE_DISABLED,
    App,
    ChannelConfig,
    Isv,
    IsvChannelConfig,
    Merchant,
    config_key,
)
from paymesh.services.merchant.repository import MerchantRepository


@dataclass(frozen=True)
class ResolvedChannelConfig:
    """One channel config: its key, usable state, owner and parameters (JSON text) in clear."""

    key: str
    if_code: str
    state: int
    app_id: str
    isv_no: str
    mch_no: str
    params_json: str


def app_params_context(app_id: str, if_code: str) -> str:
    """The sealing context of an app's channel parameters (binds the ciphertext to its row)."""
    return f"channel-config:{app_id}:{if_code}"


def open_app_params(box: SecretBox, config: ChannelConfig) -> str:
    """An app's channel parameters in clear, as JSON object text."""
    return box.open(config.params_sealed, app_params_context(config.app_id, config.if_code))


def split_key(key: str) -> tuple[str, str] | None:
    """(owner, if_code) of a key; None when it cannot be one."""
    owner, dot, if_code = key.rpartition(".")
    if not dot or not owner or not if_code:
        return None
    return owner, if_code


class ChannelConfigDirectory:
    """Every channel config (an app's or an ISV's), or one by key, with parameters in clear."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> None:
        self._sessions = sessions
        self._box = box

    async def resolve(self, key: str = "") -> list[ResolvedChannelConfig]:
        """All configs ordered by key, or the one named by ``key`` (an unknown key: none)."""
        owner: str | None = None
        if_code: str | None = None
        if key:
            parts = split_key(key)
            if parts is None:
                return []
            owner, if_code = parts
        async with self._sessions.begin() as session:
            repo = MerchantRepository(session)
            apps = await repo.app_channel_configs(owner, if_code)
            isvs = await repo.isv_channel_configs(owner, if_code)
        resolved = ([self._of_app(*row) for row in apps]
                    + [self._of_isv(*row) for row in isvs])
        return sorted(resolved, key=lambda r: r.key)

    def _of_app(self, config: ChannelConfig, app: App, merchant: Merchant
                ) -> ResolvedChannelConfig:
        usable = config.state == app.state == merchant.state == STATE_ACTIVE
        return ResolvedChannelConfig(
            key=config_key(config.app_id, config.if_code), if_code=config.if_code,
            state=STATE_ACTIVE if usable else STATE_DISABLED, app_id=config.app_id, isv_no="",
            mch_no=merchant.mch_no, params_json=open_app_params(self._box, config))

    def _of_isv(self, config: IsvChannelConfig, isv: Isv) -> ResolvedChannelConfig:
        usable = config.state == isv.state == STATE_ACTIVE
        params = open_isv_params(self._box, config)
        return ResolvedChannelConfig(
            key=config_key(config.isv_no, config.if_code), if_code=config.if_code,
            state=STATE_ACTIVE if usable else STATE_DISABLED, app_id="", isv_no=config.isv_no,
            mch_no="", params_json=json.dumps(params, ensure_ascii=False))
