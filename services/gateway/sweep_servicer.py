"""gRPC face of the order sweeps (OrderSweepService): internal only, called by the jobs process.

Thin translation: defaults for zero-valued fields, the domain's counts back as the response.
"""

from __future__ import annotations

from datetime import timedelta

import grpc
from opentelemetry import trace

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.common.edge import refuse_edge
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.gateway.sweeps import OrderSweeps

DEFAULT_OLDER_THAN_SECONDS = 60
DEFAULT_STUCK_AFTER_SECONDS = 60
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


def _limit(value: int) -> int:
    if value < 0 or value > MAX_LIMIT:
        raise InvalidArgument("limit", f"limit must be 0 (for {DEFAULT_LIMIT}) to {MAX_LIMIT}")
    return value or DEFAULT_LIMIT


class OrderSweepServicer(gateway_pb2_grpc.OrderSweepServiceServicer):
    """SweepPayingOrders, ExpireOrders and SweepPendingRefunds; never served to the edge."""

    def __init__(self, sweeps: OrderSweeps) -> None:
        self._sweeps = sweeps

    async def SweepPayingOrders(self, request: gateway_pb2.SweepPayingOrdersRequest,
                                context: grpc.aio.ServicerContext
                                ) -> gateway_pb2.SweepPayingOrdersResponse:
        refuse_edge(context)
        if request.older_than_seconds < 0:
            raise InvalidArgument("older_than_seconds", "older_than_seconds must be ≥ 0")
        older_than = request.older_than_seconds or DEFAULT_OLDER_THAN_SECONDS
        done = await self._sweeps.sweep_paying(timedelta(seconds=older_than),
                                               _limit(request.limit))
        _record(examined=done.examined, settled=done.settled, cancelled=done.cancelled)
        return gateway_pb2.SweepPayingOrdersResponse(examined=done.examined,
                                                     settled=done.settled,
                                                     cancelled=done.cancelled)

    async def ExpireOrders(self, request: gateway_pb2.ExpireOrdersRequest,
                           context: grpc.aio.ServicerContext) -> gateway_pb2.ExpireOrdersResponse:
        refuse_edge(context)
        done = await self._sweeps.expire(_limit(request.limit))
        _record(examined=done.examined, closed=done.closed, paid=done.paid)
        return gateway_pb2.ExpireOrdersResponse(examined=done.examined, closed=done.closed,
                                                paid=done.paid)

    async def SweepPendingRefunds(self, request: gateway_pb2.SweepPendingRefundsRequest,
                                  context: grpc.aio.ServicerContext
                                  ) -> gateway_pb2.SweepPendingRefundsResponse:
        refuse_edge(context)
        if request.stuck_after_seconds < 0:
            raise InvalidArgument("stuck_after_seconds", "stuck_after_seconds must be ≥ 0")
        stuck_after = request.stuck_after_seconds or DEFAULT_STUCK_AFTER_SECONDS
        done = await self._sweeps.sweep_refunds(_limit(request.limit),
                                                timedelta(seconds=stuck_after))
        _record(examined=done.examined, settled=done.settled)
        return gateway_pb2.SweepPendingRefundsResponse(examined=done.examined,
                                                       settled=done.settled)


def _record(**counts: int) -> None:
    """The counts on the server span, so a trace shows what each run did."""
    span = trace.get_current_span()
    for name, value in counts.items():
        span.set_attribute(f"paymesh.sweep.{name}", value)
