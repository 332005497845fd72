"""MerchantService over gRPC: protobuf in, domain calls, protobuf out; no business rules here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeAlias

import grpc

from paymesh.common.v1 import common_pb2
from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.common.edge import refuse_edge, require_admin
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.common.timestamps import timestamp_of
from paymesh.services.merchant import models
from paymesh.services.merchant.channel_configs import ChannelConfigDirectory
from paymesh.services.merchant.isv import IsvChannelConfigView, IsvService
from paymesh.services.merchant.service import ChannelConfigView, MerchantService
from paymesh.services.merchant.validation import PassageFees, PassageRouting

Ctx: TypeAlias = grpc.aio.ServicerContext
_TO_CODE = {common_pb2.ENTITY_STATE_ACTIVE: models.STATE_ACTIVE,
            common_pb2.ENTITY_STATE_DISABLED: models.STATE_DISABLED}
_FROM_CODE = {code: state for state, code in _TO_CODE.items()}
_TYPES = {models.MERCHANT_NORMAL: merchant_pb2.MERCHANT_TYPE_NORMAL,
          models.MERCHANT_ISV_SUB: merchant_pb2.MERCHANT_TYPE_ISV_SUB}
# Stored codes of the fee enums; UNSPECIFIED (0) is passed on as 0, the default.
_ROUNDINGS = {merchant_pb2.FEE_ROUNDING_UNSPECIFIED: 0,
              merchant_pb2.FEE_ROUNDING_HALF_UP: models.ROUNDING_HALF_UP,
              merchant_pb2.FEE_ROUNDING_CEILING: models.ROUNDING_CEILING}
_REFUND_RULES = {merchant_pb2.REFUND_FEE_RULE_UNSPECIFIED: 0,
                 merchant_pb2.REFUND_FEE_RULE_RETURN_PRO_RATA: models.REFUND_RETURN_PRO_RATA,
                 merchant_pb2.REFUND_FEE_RULE_KEEP: models.REFUND_KEEP}
_ROUNDING_PB = {code: value for value, code in _ROUNDINGS.items() if code}
_REFUND_RULE_PB = {code: value for value, code in _REFUND_RULES.items() if code}


class MerchantServicer(merchant_pb2_grpc.MerchantServiceServicer):
    """Admin RPCs check the admin token at the edge; internal RPCs refuse the edge."""

    def __init__(self, service: MerchantService, isvs: IsvService,
                 configs: ChannelConfigDirectory, admin_token: str | None) -> None:
        self._service = service
        self._isvs = isvs
        self._configs = configs
        self._admin_token = admin_token

    async def CreateIsv(self, request: merchant_pb2.CreateIsvRequest, context: Ctx
                        ) -> merchant_pb2.CreateIsvResponse:
        require_admin(context, self._admin_token)
        return merchant_pb2.CreateIsvResponse(isv=isv_pb(await self._isvs.create_isv(
            request.name)))

    async def GetIsv(self, request: merchant_pb2.GetIsvRequest, context: Ctx
                     ) -> merchant_pb2.GetIsvResponse:
        require_admin(context, self._admin_token)
        return merchant_pb2.GetIsvResponse(isv=isv_pb(await self._isvs.get_isv(request.isv_no)))

    async def SetIsvState(self, request: merchant_pb2.SetIsvStateRequest, context: Ctx
                          ) -> merchant_pb2.SetIsvStateResponse:
        require_admin(context, self._admin_token)
        isv = await self._isvs.set_isv_state(request.isv_no, state_code(request.state, None))
        return merchant_pb2.SetIsvStateResponse(isv=isv_pb(isv))

    async def PutIsvChannelConfig(self, request: merchant_pb2.PutIsvChannelConfigRequest,
                                  context: Ctx) -> merchant_pb2.PutIsvChannelConfigResponse:
        require_admin(context, self._admin_token)
        view = await self._isvs.put_channel_config(
            request.isv_no, request.if_code, request.params_json,
            state_code(request.state, models.STATE_ACTIVE))
        return merchant_pb2.PutIsvChannelConfigResponse(channel_config=isv_config_pb(view))

    async def ListIsvChannelConfigs(self, request: merchant_pb2.ListIsvChannelConfigsRequest,
                                    context: Ctx) -> merchant_pb2.ListIsvChannelConfigsResponse:
        require_admin(context, self._admin_token)
        views = await self._isvs.list_channel_configs(request.isv_no)
        return merchant_pb2.ListIsvChannelConfigsResponse(
            channel_configs=[isv_config_pb(v) for v in views])

    async def CreateMerchant(self, request: merchant_pb2.CreateMerchantRequest, context: Ctx
                             ) -> merchant_pb2.CreateMerchantResponse:
        require_admin(context, self._admin_token)
        created = await self._service.create_merchant(request.name, request.contact,
                                                      request.isv_no)
        return merchant_pb2.CreateMerchantResponse(
            merchant=merchant_pb(created.merchant), app=app_pb(created.default_app.app),
            app_secret=created.default_app.secret)

    async def GetMerchant(self, request: merchant_pb2.GetMerchantRequest, context: Ctx
                          ) -> merchant_pb2.GetMerchantResponse:
        require_admin(context, self._admin_token)
        merchant = await self._service.get_merchant(request.mch_no)
        return merchant_pb2.GetMerchantResponse(merchant=merchant_pb(merchant))

    async def ListMerchants(self, request: merchant_pb2.ListMerchantsRequest, context: Ctx
                            ) -> merchant_pb2.ListMerchantsResponse:
        require_admin(context, self._admin_token)
        page = await self._service.list_merchants(request.page.page_size,
                                                  request.page.page_token)
        return merchant_pb2.ListMerchantsResponse(
            merchants=[merchant_pb(m) for m in page.merchants],
            page=common_pb2.PageResponse(next_page_token=page.next_token,
                                         has_more=page.has_more))

    async def SetMerchantState(self, request: merchant_pb2.SetMerchantStateRequest, context: Ctx
                               ) -> merchant_pb2.SetMerchantStateResponse:
        require_admin(context, self._admin_token)
        merchant = await self._service.set_merchant_state(request.mch_no,
                                                          state_code(request.state, None))
        return merchant_pb2.SetMerchantStateResponse(merchant=merchant_pb(merchant))

    async def CreateApp(self, request: merchant_pb2.CreateAppRequest, context: Ctx
                        ) -> merchant_pb2.CreateAppResponse:
        require_admin(context, self._admin_token)
        created = await self._service.create_app(request.mch_no, request.name,
                                                 request.allow_private_notify_url)
        return merchant_pb2.CreateAppResponse(app=app_pb(created.app), app_secret=created.secret)

    async def GetApp(self, request: merchant_pb2.GetAppRequest, context: Ctx
                     ) -> merchant_pb2.GetAppResponse:
        require_admin(context, self._admin_token)
        return merchant_pb2.GetAppResponse(app=app_pb(await self._service.get_app(request.app_id)))

    async def ListApps(self, request: merchant_pb2.ListAppsRequest, context: Ctx
                       ) -> merchant_pb2.ListAppsResponse:
        require_admin(context, self._admin_token)
        apps = await self._service.list_apps(request.mch_no)
        return merchant_pb2.ListAppsResponse(apps=[app_pb(a) for a in apps])

    async def SetAppState(self, request: merchant_pb2.SetAppStateRequest, context: Ctx
                          ) -> merchant_pb2.SetAppStateResponse:
        require_admin(context, self._admin_token)
        app = await self._service.set_app_state(request.app_id, state_code(request.state, None))
        return merchant_pb2.SetAppStateResponse(app=app_pb(app))

    async def RotateAppSecret(self, request: merchant_pb2.RotateAppSecretRequest, context: Ctx
                              ) -> merchant_pb2.RotateAppSecretResponse:
        require_admin(context, self._admin_token)
        rotated = await self._service.rotate_app_secret(request.app_id)
        return merchant_pb2.RotateAppSecretResponse(app=app_pb(rotated.app),
                                                    app_secret=rotated.secret)

    async def PutChannelConfig(self, request: merchant_pb2.PutChannelConfigRequest, context: Ctx
                               ) -> merchant_pb2.PutChannelConfigResponse:
        require_admin(context, self._admin_token)
        view = await self._service.put_channel_config(
            request.app_id, request.if_code, request.params_json,
            state_code(request.state, models.STATE_ACTIVE))
        return merchant_pb2.PutChannelConfigResponse(channel_config=channel_config_pb(view))

    async def ListChannelConfigs(self, request: merchant_pb2.ListChannelConfigsRequest,
                                 context: Ctx) -> merchant_pb2.ListChannelConfigsResponse:
        require_admin(context, self._admin_token)
        views = await self._service.list_channel_configs(request.app_id)
        return merchant_pb2.ListChannelConfigsResponse(
            channel_configs=[channel_config_pb(v) for v in views])

    async def PutPayPassage(self, request: merchant_pb2.PutPayPassageRequest, context: Ctx
                            ) -> merchant_pb2.PutPayPassageResponse:
        require_admin(context, self._admin_token)
        passage = await self._service.put_pay_passage(
            request.app_id, request.way_code, request.if_code, PassageFees(
                request.fee_rate, request.fee_fixed, request.fee_floor, request.fee_cap,
                _enum_code(request.fee_rounding, _ROUNDINGS, "fee_rounding"),
                _enum_code(request.refund_fee_rule, _REFUND_RULES, "refund_fee_rule"),
                request.channel_cost_rate or None),
            state_code(request.state, models.STATE_ACTIVE),
            PassageRouting(request.priority, request.weight, request.max_amount_per_order,
                           request.daily_amount_limit))
        return merchant_pb2.PutPayPassageResponse(passage=passage_pb(passage))

    async def ListPayPassages(self, request: merchant_pb2.ListPayPassagesRequest, context: Ctx
                              ) -> merchant_pb2.ListPayPassagesResponse:
        require_admin(context, self._admin_token)
        passages = await self._service.list_pay_passages(request.app_id)
        return merchant_pb2.ListPayPassagesResponse(passages=[passage_pb(p) for p in passages])

    async def ResolvePayContext(self, request: merchant_pb2.ResolvePayContextRequest,
                                context: Ctx) -> merchant_pb2.ResolvePayContextResponse:
        refuse_edge(context)
        resolved = await self._service.resolve_pay_context(request.app_id)
        return merchant_pb2.ResolvePayContextResponse(
            app=app_pb(resolved.app), merchant=merchant_pb(resolved.merchant),
            app_secret=resolved.app_secret,
            passages=[merchant_pb2.ResolvedPassage(
                passage=passage_pb(p.passage), channel_config_state=_FROM_CODE[p.config_state],
                channel_params_json=p.params_json, channel_config_key=p.config_key)
                for p in resolved.passages])

    async def ResolveChannelConfigs(self, request: merchant_pb2.ResolveChannelConfigsRequest,
                                    context: Ctx) -> merchant_pb2.ResolveChannelConfigsResponse:
        refuse_edge(context)
        configs = await self._configs.resolve(request.channel_config_key)
        return merchant_pb2.ResolveChannelConfigsResponse(channel_configs=[
            merchant_pb2.ResolvedChannelConfig(
                channel_config_key=c.key, if_code=c.if_code, state=_FROM_CODE[c.state],
                app_id=c.app_id, isv_no=c.isv_no, mch_no=c.mch_no,
                channel_params_json=c.params_json) for c in configs])

    async def WatchConfigChanges(self, request: merchant_pb2.WatchConfigChangesRequest,
                                 context: Ctx
                                 ) -> AsyncIterator[merchant_pb2.WatchConfigChangesResponse]:
        """Sends initial metadata once subscribed, then one message per committed change."""
        refuse_edge(context)

        async def ready() -> None:
            await context.send_initial_metadata(())

        async for change in self._service.watch_changes(ready):
            yield merchant_pb2.WatchConfigChangesResponse(app_id=change.app_id,
                                                          mch_no=change.mch_no)


def state_code(state: int, default: int | None) -> int:
    """JeePay's stored code for an EntityState; UNSPECIFIED takes ``default`` when allowed."""
    if state == common_pb2.ENTITY_STATE_UNSPECIFIED and default is not None:
        return default
    if state not in _TO_CODE:
        raise InvalidArgument("state", "state must be ENTITY_STATE_ACTIVE or ENTITY_STATE_DISABLED")
    return _TO_CODE[state]  # type: ignore[index]


def _enum_code(value: int, codes: dict[int, int], field: str) -> int:
    """The stored code of a fee enum (0 when unspecified); an unknown value names ``field``."""
    if value not in codes:
        raise InvalidArgument(field, f"{field} {value} is not one of its enum's values")
    return codes[value]



def merchant_pb(merchant: models.Merchant) -> merchant_pb2.Merchant:
    return merchant_pb2.Merchant(mch_no=merchant.mch_no, name=merchant.name,
                                 contact=merchant.contact, state=_FROM_CODE[merchant.state],
                                 create_time=timestamp_of(merchant.created_at),
                                 type=_TYPES[merchant.type], isv_no=merchant.isv_no or "")


def isv_pb(isv: models.Isv) -> merchant_pb2.Isv:
    return merchant_pb2.Isv(isv_no=isv.isv_no, name=isv.name, state=_FROM_CODE[isv.state],
                            create_time=timestamp_of(isv.created_at))


def isv_config_pb(view: IsvChannelConfigView) -> merchant_pb2.ChannelConfig:
    return merchant_pb2.ChannelConfig(
        isv_no=view.config.isv_no, if_code=view.config.if_code,
        state=_FROM_CODE[view.config.state], param_names=view.param_names,
        channel_config_key=models.config_key(view.config.isv_no, view.config.if_code))


def app_pb(app: models.App) -> merchant_pb2.App:
    return merchant_pb2.App(app_id=app.app_id, mch_no=app.mch_no, name=app.name,
                            state=_FROM_CODE[app.state], create_time=timestamp_of(app.created_at),
                            allow_private_notify_url=app.allow_private_notify_url)


def channel_config_pb(view: ChannelConfigView) -> merchant_pb2.ChannelConfig:
    return merchant_pb2.ChannelConfig(
        app_id=view.config.app_id, if_code=view.config.if_code,
        state=_FROM_CODE[view.config.state], param_names=view.param_names,
        channel_config_key=models.config_key(view.config.app_id, view.config.if_code))


def passage_pb(passage: models.PayPassage) -> merchant_pb2.PayPassage:
    return merchant_pb2.PayPassage(app_id=passage.app_id, way_code=passage.way_code,
                                   if_code=passage.if_code, fee_rate=passage.fee_rate,
                                   state=_FROM_CODE[passage.state], priority=passage.priority,
                                   weight=passage.weight, max_amount_per_order=passage.max_amount,
                                   daily_amount_limit=passage.daily_limit,
                                   fee_fixed=passage.fee_fixed, fee_floor=passage.fee_floor,
                                   fee_cap=passage.fee_cap,
                                   fee_rounding=_ROUNDING_PB[passage.fee_rounding],
                                   refund_fee_rule=_REFUND_RULE_PB[passage.refund_fee_rule],
                                   channel_cost_rate=passage.channel_cost_rate or "")
