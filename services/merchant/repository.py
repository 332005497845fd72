"""Queries over the merchant database, one session (one transaction) at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from paymesh.services.merchant.models import (
    App,
    ChannelConfig,
    Isv,
    IsvChannelConfig,
    Merchant,
    PayPassage,
)


class MerchantRepository:
    """Reads and writes merchants, apps, channel configs and passages inside one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, *rows: Merchant | App | ChannelConfig | PayPassage | Isv | IsvChannelConfig
            ) -> None:
        self._session.add_all(rows)

    async def flush(self) -> None:
        """Sends pending inserts now, so a primary-key clash surfaces inside the transaction."""
        await self._session.flush()

    async def merchant(self, mch_no: str) -> Merchant | None:
        return await self._session.get(Merchant, mch_no)

    async def merchants_page(self, limit: int,
                             after: tuple[datetime, str] | None) -> Sequence[Merchant]:
        """Up to ``limit`` merchants, newest first, strictly after the cursor row."""
        query = select(Merchant)
        if after is not None:
            created_at, mch_no = after
            query = query.where(or_(Merchant.created_at < created_at,
                                    and_(Merchant.created_at == created_at,
                                         Merchant.mch_no < mch_no)))
        query = query.order_by(Merchant.created_at.desc(), Merchant.mch_no.desc()).limit(limit)
        return (await self._session.scalars(query)).all()

    async def app(self, app_id: str) -> App | None:
        return await self._session.get(App, app_id)

    async def apps_of(self, mch_no: str) -> Sequence[App]:
        """A merchant's apps, oldest first."""
        query = (select(App).where(App.mch_no == mch_no)
                 .order_by(App.created_at, App.app_id))
        return (await self._session.scalars(query)).all()

    async def channel_config(self, app_id: str, if_code: str) -> ChannelConfig | None:
        return await self._session.get(ChannelConfig, (app_id, if_code))

    async def channel_configs_of(self, app_id: str) -> Sequence[ChannelConfig]:
        query = (select(ChannelConfig).where(ChannelConfig.app_id == app_id)
                 .order_by(ChannelConfig.if_code))
        return (await self._session.scalars(query)).all()

    async def passage(self, app_id: str, way_code: str, if_code: str) -> PayPassage | None:
        return await self._session.get(PayPassage, (app_id, way_code, if_code))

    async def passages_of(self, app_id: str) -> Sequence[PayPassage]:
        """An app's passages, by wayCode, then priority (highest first), then ifCode."""
        query = (select(PayPassage).where(PayPassage.app_id == app_id)
                 .order_by(PayPassage.way_code, PayPassage.priority.desc(), PayPassage.if_code))
        return (await self._session.scalars(query)).all()

    async def isv(self, isv_no: str) -> Isv | None:
        return await self._session.get(Isv, isv_no)

    async def isv_channel_config(self, isv_no: str, if_code: str) -> IsvChannelConfig | None:
        return await self._session.get(IsvChannelConfig, (isv_no, if_code))

    async def app_channel_configs(self, app_id: str | None = None, if_code: str | None = None
                                  ) -> Sequence[tuple[ChannelConfig, App, Merchant]]:
        """Apps' own channel configs with their app and merchant: all, or one app's (ifCode's)."""
        query = (select(ChannelConfig, App, Merchant)
                 .join(App, App.app_id == ChannelConfig.app_id)
                 .join(Merchant, Merchant.mch_no == App.mch_no))
        if app_id is not None:
            query = query.where(ChannelConfig.app_id == app_id)
        if if_code is not None:
            query = query.where(ChannelConfig.if_code == if_code)
        rows = await self._session.execute(query)
        return [(config, app, merchant) for config, app, merchant in rows.all()]

    async def isv_channel_configs(self, isv_no: str | None = None, if_code: str | None = None
                                  ) -> Sequence[tuple[IsvChannelConfig, Isv]]:
        """ISVs' channel accounts with their ISV: all, or one ISV's (ifCode's)."""
        query = select(IsvChannelConfig, Isv).join(Isv, Isv.isv_no == IsvChannelConfig.isv_no)
        if isv_no is not None:
            query = query.where(IsvChannelConfig.isv_no == isv_no)
        if if_code is not None:
            query = query.where(IsvChannelConfig.if_code == if_code)
        rows = await self._session.execute(query)
        return [(config, isv) for config, isv in rows.all()]

    async def isv_channel_configs_of(self, isv_no: str) -> Sequence[IsvChannelConfig]:
        query = (select(IsvChannelConfig).where(IsvChannelConfig.isv_no == isv_no)
                 .order_by(IsvChannelConfig.if_code))
        return (await self._session.execute(query)).scalars().all()
