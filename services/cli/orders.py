"""``paymesh order get``: a pay order as the gateway keeps it."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.cli.output import print_json
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig


def register(commands: Any) -> None:
    order = commands.add_parser("order", help="pay orders")
    actions = order.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = actions.add_parser("get", help="show one pay order")
    get.add_argument("pay_order_id")
    get.set_defaults(run=run_get)


def run_get(args: argparse.Namespace) -> None:
    async def call() -> gateway_pb2.GetPayOrderResponse:
        async with open_channel(MeshConfig.from_env().addrs["gateway"]) as channel:
            stub = gateway_pb2_grpc.PayOrderServiceStub(channel)
            return await stub.GetPayOrder(
                gateway_pb2.GetPayOrderRequest(pay_order_id=args.pay_order_id), timeout=10)

    print_json(asyncio.run(call()).pay_order)
