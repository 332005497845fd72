"""Operator commands on the merchant service: merchants, apps, channel configs, passages.

They call the merchant gRPC service directly (an internal call, so no admin token) at
``PAYMESH_MERCHANT_ADDR`` and print the answer as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from google.protobuf.message import Message

from paymesh.common.v1 import common_pb2
from paymesh.merchant.v1 import merchant_pb2 as pb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.cli.output import print_json
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig

Stub: TypeAlias = merchant_pb2_grpc.MerchantServiceStub
Call = Callable[[Stub], Awaitable[Message]]
TIMEOUT_SECONDS = 15.0
_STATES: dict[str, common_pb2.EntityState] = {"active": common_pb2.ENTITY_STATE_ACTIVE,
                                              "disabled": common_pb2.ENTITY_STATE_DISABLED}
_ROUNDINGS = {"HALF_UP": pb.FEE_ROUNDING_HALF_UP, "CEILING": pb.FEE_ROUNDING_CEILING}
_REFUND_FEE_RULES = {"RETURN_PRO_RATA": pb.REFUND_FEE_RULE_RETURN_PRO_RATA,
                     "KEEP": pb.REFUND_FEE_RULE_KEEP}


async def _call(call: Call) -> Message:
    config = MeshConfig.from_env()
    async with open_channel(config.addrs["merchant"]) as channel:
        return await call(Stub(channel))


def _runner(make: Callable[[argparse.Namespace], Call]) -> Callable[[argparse.Namespace], None]:
    """A leaf command: build the call from the arguments, run it, print the answer."""

    def run(args: argparse.Namespace) -> None:
        print_json(asyncio.run(_call(make(args))))

    return run


def _active(args: argparse.Namespace) -> common_pb2.EntityState:
    return common_pb2.ENTITY_STATE_DISABLED if args.disabled else common_pb2.ENTITY_STATE_ACTIVE


def _leaf(group: Any, name: str, help_text: str,
          make: Callable[[argparse.Namespace], Call]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text)
    parser.set_defaults(run=_runner(make))
    return parser


def _merchant_commands(commands: Any) -> None:
    group = commands.add_parser("merchant", help="merchants").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = _leaf(group, "create", "create a merchant and its default app (prints the app secret)",
              lambda a: lambda s: s.CreateMerchant(
                  pb.CreateMerchantRequest(name=a.name, contact=a.contact, isv_no=a.isv),
                  timeout=TIMEOUT_SECONDS))
    p.add_argument("--name", required=True)
    p.add_argument("--contact", default="")
    p.add_argument("--isv", default="", metavar="ISV_NO",
                   help="make it a sub-merchant (特约商户) of this ISV")
    p = _leaf(group, "get", "show a merchant", lambda a: lambda s: s.GetMerchant(
        pb.GetMerchantRequest(mch_no=a.mch_no), timeout=TIMEOUT_SECONDS))
    p.add_argument("mch_no", metavar="MCH_NO")
    p = _leaf(group, "list", "list merchants, newest first", lambda a: lambda s: s.ListMerchants(
        pb.ListMerchantsRequest(page=common_pb2.PageRequest(
            page_size=a.page_size, page_token=a.page_token)), timeout=TIMEOUT_SECONDS))
    p.add_argument("--page-size", type=int, default=0)
    p.add_argument("--page-token", default="")
    p = _leaf(group, "state", "enable or disable a merchant",
              lambda a: lambda s: s.SetMerchantState(pb.SetMerchantStateRequest(
                  mch_no=a.mch_no, state=_STATES[a.state]), timeout=TIMEOUT_SECONDS))
    p.add_argument("mch_no", metavar="MCH_NO")
    p.add_argument("state", choices=sorted(_STATES))


def _app_commands(commands: Any) -> None:
    group = commands.add_parser("app", help="apps and their secrets").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = _leaf(group, "create", "create an app (prints its secret, this once)",
              lambda a: lambda s: s.CreateApp(pb.CreateAppRequest(
                  mch_no=a.mch_no, name=a.name,
                  allow_private_notify_url=a.allow_private_notify_url), timeout=TIMEOUT_SECONDS))
    p.add_argument("mch_no", metavar="MCH_NO")
    p.add_argument("--name", required=True)
    p.add_argument("--allow-private-notify-url", action="store_true",
                   help="let notifications target loopback or private addresses")
    p = _leaf(group, "get", "show an app (never its secret)", lambda a: lambda s: s.GetApp(
        pb.GetAppRequest(app_id=a.app_id), timeout=TIMEOUT_SECONDS))
    p.add_argument("app_id", metavar="APP_ID")
    p = _leaf(group, "list", "list a merchant's apps", lambda a: lambda s: s.ListApps(
        pb.ListAppsRequest(mch_no=a.mch_no), timeout=TIMEOUT_SECONDS))
    p.add_argument("mch_no", metavar="MCH_NO")
    p = _leaf(group, "state", "enable or disable an app", lambda a: lambda s: s.SetAppState(
        pb.SetAppStateRequest(app_id=a.app_id, state=_STATES[a.state]),
        timeout=TIMEOUT_SECONDS))
    p.add_argument("app_id", metavar="APP_ID")
    p.add_argument("state", choices=sorted(_STATES))
    p = _leaf(group, "rotate-secret", "replace an app's secret (prints the new one, this once)",
              lambda a: lambda s: s.RotateAppSecret(pb.RotateAppSecretRequest(app_id=a.app_id),
                                                    timeout=TIMEOUT_SECONDS))
    p.add_argument("app_id", metavar="APP_ID")


def _channel_commands(commands: Any) -> None:
    group = commands.add_parser("channel-config", help="an app's channel credentials"
                                ).add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _leaf(group, "put", "create or replace an app's config for one ifCode",
              lambda a: lambda s: s.PutChannelConfig(pb.PutChannelConfigRequest(
                  app_id=a.app_id, if_code=a.if_code, params_json=a.params,
                  state=_active(a)), timeout=TIMEOUT_SECONDS))
    p.add_argument("app_id", metavar="APP_ID")
    p.add_argument("if_code", metavar="IF_CODE")
    p.add_argument("--params", default="",
                   help="channel parameters as a JSON object (sandbox: generated when empty)")
    p.add_argument("--disabled", action="store_true")
    p = _leaf(group, "list", "list an app's configs (parameter names only)",
              lambda a: lambda s: s.ListChannelConfigs(
                  pb.ListChannelConfigsRequest(app_id=a.app_id), timeout=TIMEOUT_SECONDS))
    p.add_argument("app_id", metavar="APP_ID")


def _passage_commands(commands: Any) -> None:
    group = commands.add_parser("passage", help="which channel serves an app's wayCode"
                                ).add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _leaf(group, "put", "create or replace an app's passage for one wayCode and channel",
              lambda a: lambda s: s.PutPayPassage(pb.PutPayPassageRequest(
                  app_id=a.app_id, way_code=a.way_code, if_code=a.if_code,
                  fee_rate=a.fee_rate, state=_active(a), priority=a.priority, weight=a.weight,
                  max_amount_per_order=a.max_amount, daily_amount_limit=a.daily_limit,
                  fee_fixed=a.fee_fixed, fee_floor=a.fee_floor, fee_cap=a.fee_cap,
                  fee_rounding=_ROUNDINGS[a.fee_rounding],
                  refund_fee_rule=_REFUND_FEE_RULES[a.refund_fee_rule],
                  channel_cost_rate=a.channel_cost_rate), timeout=TIMEOUT_SECONDS))
    p.add_argument("app_id", metavar="APP_ID")
    p.add_argument("way_code", metavar="WAY_CODE")
    p.add_argument("--if-code", required=True, metavar="IF")
    p.add_argument("--fee-rate", default="", metavar="R", help='decimal, e.g. 0.006 (default 0)')
    p.add_argument("--disabled", action="store_true")
    p.add_argument("--priority", type=int, default=0, help="higher is tried first (default 0)")
    p.add_argument("--weight", type=int, default=1, help="share within a priority (default 1)")
    p.add_argument("--max-amount", type=int, default=0, metavar="FEN",
                   help="largest order in fen (default 0: no limit)")
    p.add_argument("--daily-limit", type=int, default=0, metavar="FEN",
                   help="total per day in fen (default 0: no limit)")
    p.add_argument("--fee-fixed", type=int, default=0, metavar="FEN",
                   help="fixed part of the fee in fen, added after rounding (default 0)")
    p.add_argument("--fee-floor", type=int, default=0, metavar="FEN",
                   help="smallest fee in fen, 保底 (default 0: none)")
    p.add_argument("--fee-cap", type=int, default=0, metavar="FEN",
                   help="largest fee in fen, 封顶 (default 0: none)")
    p.add_argument("--fee-rounding", choices=sorted(_ROUNDINGS), default="HALF_UP",
                   help="rounding of the percentage part (default HALF_UP)")
    p.add_argument("--refund-fee-rule", choices=sorted(_REFUND_FEE_RULES),
                   default="RETURN_PRO_RATA",
                   help="refunds return their share of the fee, or the fee is kept "
                        "(default RETURN_PRO_RATA)")
    p.add_argument("--channel-cost-rate", default="", metavar="R",
                   help="the channel's own fee rate, e.g. 0.0038 (default: unknown)")
    p = _leaf(group, "list", "list an app's passages", lambda a: lambda s: s.ListPayPassages(
        pb.ListPayPassagesRequest(app_id=a.app_id), timeout=TIMEOUT_SECONDS))
    p.add_argument("app_id", metavar="APP_ID")


def _isv_commands(commands: Any) -> None:
    group = commands.add_parser("isv", help="service providers (服务商) and their channel accounts"
                                ).add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _leaf(group, "create", "create an ISV", lambda a: lambda s: s.CreateIsv(
        pb.CreateIsvRequest(name=a.name), timeout=TIMEOUT_SECONDS))
    p.add_argument("--name", required=True)
    p = _leaf(group, "get", "show an ISV", lambda a: lambda s: s.GetIsv(
        pb.GetIsvRequest(isv_no=a.isv_no), timeout=TIMEOUT_SECONDS))
    p.add_argument("isv_no", metavar="ISV_NO")
    p = _leaf(group, "state", "enable or disable an ISV", lambda a: lambda s: s.SetIsvState(
        pb.SetIsvStateRequest(isv_no=a.isv_no, state=_STATES[a.state]), timeout=TIMEOUT_SECONDS))
    p.add_argument("isv_no", metavar="ISV_NO")
    p.add_argument("state", choices=sorted(_STATES))
    p = _leaf(group, "channel-config", "create or replace an ISV's channel account",
              lambda a: lambda s: s.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
                  isv_no=a.isv_no, if_code=a.if_code, params_json=a.params, state=_active(a)),
                  timeout=TIMEOUT_SECONDS))
    p.add_argument("isv_no", metavar="ISV_NO")
    p.add_argument("if_code", metavar="IF_CODE")
    p.add_argument("--params", required=True, metavar="JSON")
    p.add_argument("--disabled", action="store_true")
    p = _leaf(group, "channel-configs", "list an ISV's channel accounts (parameter names only)",
              lambda a: lambda s: s.ListIsvChannelConfigs(
                  pb.ListIsvChannelConfigsRequest(isv_no=a.isv_no), timeout=TIMEOUT_SECONDS))
    p.add_argument("isv_no", metavar="ISV_NO")


def register(commands: Any) -> None:
    """Adds the isv, merchant, app, channel-config and passage command groups."""
    _isv_commands(commands)
    _merchant_commands(commands)
    _app_commands(commands)
    _channel_commands(commands)
    _passage_commands(commands)
