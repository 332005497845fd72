"""``paymesh notify list|get|resend``: merchant notifications as the gateway keeps them."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf.message import Message

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.cli.output import print_json
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig

TIMEOUT_SECONDS = 30  # a resend waits for the merchant (up to 10 s)
STATES = {"sending": gateway_pb2.NOTIFY_STATE_SENDING,
          "success": gateway_pb2.NOTIFY_STATE_SUCCESS,
          "failed": gateway_pb2.NOTIFY_STATE_FAILED}
M = TypeVar("M", bound=Message)


def register(commands: Any) -> None:
    notify = commands.add_parser("notify", help="merchant notifications (商户通知)")
    actions = notify.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="notification records, newest first")
    listing.add_argument("--order", default="", help="only this pay or refund order id")
    listing.add_argument("--state", choices=sorted(STATES), help="only records in this state")
    listing.add_argument("--page-size", type=int, default=0)
    listing.add_argument("--page-token", default="")
    listing.set_defaults(run=run_list)
    get = actions.add_parser("get", help="one record with every attempt")
    get.add_argument("notify_id")
    get.set_defaults(run=run_get)
    resend = actions.add_parser("resend", help="send a notification again now")
    resend.add_argument("notify_id")
    resend.set_defaults(run=run_resend)


def _call(method: Callable[[gateway_pb2_grpc.NotificationServiceStub], Awaitable[M]]) -> M:
    async def call() -> M:
        async with open_channel(MeshConfig.from_env().addrs["gateway"]) as channel:
            return await method(gateway_pb2_grpc.NotificationServiceStub(channel))

    return asyncio.run(call())


def run_list(args: argparse.Namespace) -> None:
    request = gateway_pb2.ListNotificationsRequest(
        order_id=args.order, state=STATES[args.state] if args.state else 0,
        page={"page_size": args.page_size, "page_token": args.page_token})
    print_json(_call(lambda stub: stub.ListNotifications(request, timeout=TIMEOUT_SECONDS)))


def run_get(args: argparse.Namespace) -> None:
    request = gateway_pb2.GetNotificationRequest(notify_id=args.notify_id)
    print_json(_call(lambda stub: stub.GetNotification(request, timeout=TIMEOUT_SECONDS)))


def run_resend(args: argparse.Namespace) -> None:
    request = gateway_pb2.ResendNotificationRequest(notify_id=args.notify_id)
    print_json(_call(lambda stub: stub.ResendNotification(request, timeout=TIMEOUT_SECONDS)))
