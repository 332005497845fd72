"""The aggregated-QR cashier (聚合码, QR_CASHIER).

The merchant shows one link or QR code. The payer opens it in a wallet app; the cashier recognises
the app from its User-Agent, has the channel identify the payer through its OAuth (WeChat openid,
Alipay user id), then continues the order as that wallet's JSAPI wayCode through the app's
passages, and hands the payment to the wallet. Any other browser gets a page saying what to do. An
OAuth return without a code is an error shown to the payer; a placeholder id is never used.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import grpc

from paymesh.channel.v1 import channel_pb2
from paymesh.services.gateway import cashier_pages as pages
from paymesh.services.gateway.cashier_links import CashierLinkError, CashierLinks
from paymesh.services.gateway.channel_calls import ChannelCalls
from paymesh.services.gateway.dispatch import ChannelDispatch
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.pay_context import Passage, PayContextCache
from paymesh.services.gateway.repository import PayOrderRepository
from paymesh.services.gateway.routing import passages_to_try

log = logging.getLogger(__name__)
CASHIER = "QR_CASHIER"
# Wallet apps by a marker in their User-Agent, and how each JSAPI wayCode names the payer.
WALLETS = (("MicroMessenger", "WX_JSAPI", "WeChat"), ("AlipayClient", "ALI_JSAPI", "Alipay"),
           ("UnionPay", "YSF_JSAPI", "UnionPay"), ("CloudPay", "YSF_JSAPI", "UnionPay"))
PAYER_FIELD = {"WX_JSAPI": "openid", "ALI_JSAPI": "buyerUserId", "YSF_JSAPI": "userId"}


def wallet_of(user_agent: str) -> tuple[str, str] | None:
    """(wayCode, wallet name) of the payer's app, or None for an ordinary browser."""
    for marker, way_code, name in WALLETS:
        if marker in user_agent:
            return way_code, name
    return None


class Cashier:
    """Serves the cashier pages of QR_CASHIER orders."""

    def __init__(self, repository: PayOrderRepository, contexts: PayContextCache,
                 channels: ChannelCalls, dispatch: ChannelDispatch, links: CashierLinks,
                 public_url: str) -> None:
        self._orders = repository
        self._contexts = contexts
        self._channels = channels
        self._dispatch = dispatch
        self._links = links
        self._public_url = public_url.rstrip("/")

    async def _open_order(self, token: str) -> PayOrder | pages.Page:
        try:
            pay_order_id = self._links.check(token)
        except CashierLinkError as error:
            return pages.message(404, "Payment link", str(error).capitalize() + ".")
        order = await self._orders.get(pay_order_id)
        if order is None:
            return pages.message(404, "Payment link", "This payment link is not valid.")
        if order.state == St.SUCCESS:
            return pages.message(200, "Paid", "This order is paid. Thank you.", order)
        if order.state not in (St.INIT, St.PAYING):
            return pages.message(410, "Not payable",
                                 f"This order is {St.NAMES[order.state]} and can no longer be "
                                 "paid.", order)
        return order

    async def show(self, token: str, user_agent: str) -> pages.Page:
        """The first visit: send the payer's wallet to identify the payer."""
        order = await self._open_order(token)
        if isinstance(order, pages.Page):
            return order
        if order.way_code != CASHIER:  # already continued in a wallet
            return self._continue(order)
        wallet = wallet_of(user_agent)
        if wallet is None:
            return pages.message(200, "Scan to pay", "Open this link, or scan its QR code, in "
                                 "WeChat, Alipay or the UnionPay app to pay.", order)
        way_code, name = wallet
        passage = await self._first_passage(order, way_code)
        if passage is None:
            return pages.message(200, "Not accepted here",
                                 f"This shop does not take {name} payments; pay with another "
                                 "app.", order)
        back = (f"{self._public_url}/cashier/{token}/return?"
                + urlencode({"way": way_code}))
        try:
            url = await self._channels.build_user_auth_url(channel_pb2.BuildUserAuthUrlRequest(
                if_code=passage.if_code, channel_params_json=passage.channel_params_json,
                redirect_url=back, state=order.pay_order_id))
        except grpc.aio.AioRpcError as error:
            log.warning("OAuth link for %s failed: %s", order.pay_order_id, error.code().name)
            return pages.message(502, "Try again", f"{name} could not be reached; try again.",
                                 order)
        return pages.redirect(url)

    async def on_return(self, token: str, way_code: str, code: str) -> pages.Page:
        """The wallet's OAuth came back: identify the payer and pay through the wallet."""
        order = await self._open_order(token)
        if isinstance(order, pages.Page):
            return order
        if order.way_code != CASHIER:
            return self._continue(order)
        if way_code not in PAYER_FIELD:
            return pages.message(400, "Payment link", "This payment link is not valid.", order)
        if not code:
            return pages.message(400, "Not identified", "Your wallet did not identify you; "
                                 "open the payment link again.", order)
        context = await self._contexts.get(order.app_id)
        candidates = passages_to_try(context.passages.get(way_code, []) if context else [],
                                     order.amount)
        if not candidates:
            return pages.message(200, "Not accepted here", "This shop does not take payments "
                                 "from this app; pay with another one.", order)
        try:
            payer = await self._channels.resolve_channel_user(
                channel_pb2.ResolveChannelUserRequest(
                    if_code=candidates[0].if_code,
                    channel_params_json=candidates[0].channel_params_json, code=code))
        except grpc.aio.AioRpcError as error:
            log.warning("payer of %s not identified: %s", order.pay_order_id, error.details())
            return pages.message(400, "Not identified", "Your wallet did not identify you; "
                                 "open the payment link again.", order)
        extra = json.dumps({PAYER_FIELD[way_code]: payer}, ensure_ascii=False)
        if await self._orders.transition(order.pay_order_id, [St.INIT], way_code=way_code,
                                         channel_extra=extra):
            order.way_code, order.channel_extra = way_code, extra
            order = await self._dispatch.dispatch(order, candidates)
        else:
            order = await self._orders.get(order.pay_order_id) or order
        return self._continue(order)

    @staticmethod
    def _continue(order: PayOrder) -> pages.Page:
        if order.state == St.SUCCESS:
            return pages.message(200, "Paid", "This order is paid. Thank you.", order)
        if order.state == St.PAYING and order.pay_data_type and order.pay_data:
            return pages.wallet_pay(order, order.pay_data_type, order.pay_data)
        return pages.message(502, "Not available",
                             f"The payment could not be started: "
                             f"{order.err_msg or 'try again in a moment'}.", order)

    async def _first_passage(self, order: PayOrder, way_code: str) -> Passage | None:
        context = await self._contexts.get(order.app_id)
        if context is None:
            return None
        candidates = passages_to_try(context.passages.get(way_code, []), order.amount)
        return candidates[0] if candidates else None
