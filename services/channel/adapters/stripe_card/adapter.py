"""The Stripe adapter: PaymentIntents and Refunds through the official SDK's async API."""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import stripe

from paymesh.services.channel.adapters.base import (
    Callback,
    CallbackIdentity,
    CallbackResult,
    ChannelState,
    CloseResult,
    PaymentOrder,
    PayResult,
    QueryResult,
    RefundOrder,
    RefundResult,
)
from paymesh.services.channel.adapters.bills import Bill
from paymesh.services.channel.adapters.stripe_card import bill, webhook
from paymesh.services.channel.adapters.stripe_card.params import parse_params
from paymesh.services.channel.adapters.stripe_card.states import (
    CANCELABLE,
    close_result,
    count,
    intent_state,
    metadata,
    not_exist,
    refund_result,
    text,
)
from paymesh.services.channel.adapters.stripe_card.transport import classify, open_client
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.common.waycodes import STRIPE_WAY_CODES

PAY_DATA_TYPE = "stripe"
_CURRENCY = re.compile(r"[a-z]{3}")
_INTENT_ID = re.compile(r"pi_[A-Za-z0-9_]{1,250}")
_PAGE = 100


class StripeAdapter:
    """Card payments through Stripe (ifCode ``stripe``, wayCode ``STRIPE_CARD``).

    ``timeout_seconds`` bounds each HTTP call (below the gateway's 10 s deadline, so a slow
    Stripe yields UNKNOWN rather than a cancelled call); ``lookup_pages`` bounds the search for
    an order's PaymentIntent when its id is not given (see the package docstring).
    """

    if_code = "stripe"

    def __init__(self, http: httpx.AsyncClient, *, timeout_seconds: float = 8.0,
                 lookup_pages: int = 10, clock: Callable[[], float] = time.time) -> None:
        self._http = http
        self._timeout = timeout_seconds
        self._lookup_pages = max(1, lookup_pages)
        self._clock = clock

    def _client(self, params: Mapping[str, Any]) -> stripe.StripeClient:
        return open_client(parse_params(params), self._http, self._timeout)

    async def pay(self, params: Mapping[str, Any], order: PaymentOrder,
                  notify_url: str) -> PayResult:
        """Creates the order's PaymentIntent (once: Idempotency-Key = pay order id).

        WAITING with payDataType ``stripe`` and payData ``{"clientSecret", "paymentIntentId"}``
        for Stripe.js on the merchant's page. ``notify_url`` is unused: Stripe sends events to
        the one webhook endpoint of the account.
        """
        client = self._client(params)
        currency = _check_order(order)
        try:
            intent = await client.v1.payment_intents.create_async(
                {"amount": order.amount, "currency": currency,
                 "metadata": {"pay_order_id": order.pay_order_id}},
                {"idempotency_key": order.pay_order_id})
        except stripe.StripeError as error:
            failure = classify(error, refused=ChannelState.CONFIRM_FAIL)
            code = "ORDER_PARAMS_MISMATCH" if failure.err_code == "idempotency_error" else ""
            return PayResult(failure.state, err_code=code or failure.err_code,
                             err_msg=failure.err_msg)
        if (not _INTENT_ID.fullmatch(text(intent, "id")) or not text(intent, "client_secret")
                or count(intent, "amount") != order.amount
                or text(intent, "currency") != currency):
            return PayResult(ChannelState.UNKNOWN, err_code="UNEXPECTED_ANSWER",
                             err_msg="Stripe's answer does not describe this order's intent")
        state = intent_state(intent)
        if state.state != ChannelState.WAITING:
            return PayResult(state.state, channel_order_no=intent.id,
                             err_code=state.err_code, err_msg=state.err_msg)
        pay_data = json.dumps({"clientSecret": text(intent, "client_secret"),
                               "paymentIntentId": intent.id}, separators=(",", ":"))
        return PayResult(ChannelState.WAITING, channel_order_no=intent.id,
                         pay_data_type=PAY_DATA_TYPE, pay_data=pay_data)

    async def query(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> QueryResult:
        """The intent's state; ``channel_order_no`` (the intent id) skips the lookup."""
        client = self._client(params)
        try:
            intent = await self._intent(client, pay_order_id, channel_order_no)
        except stripe.StripeError as error:
            failure = classify(error, refused=ChannelState.UNKNOWN)
            return QueryResult(failure.state, err_code=failure.err_code, err_msg=failure.err_msg)
        if isinstance(intent, QueryResult):
            return intent
        return intent_state(intent)

    async def close(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> CloseResult:
        """Cancels the unpaid intent; CONFIRM_FAIL ``ORDER_PAID`` when it succeeded."""
        client = self._client(params)
        try:
            intent = await self._intent(client, pay_order_id, channel_order_no)
            if isinstance(intent, QueryResult):
                if intent.err_code == "ORDER_NOT_EXIST":
                    return CloseResult(ChannelState.CONFIRM_SUCCESS)
                return CloseResult(intent.state, intent.err_code, intent.err_msg)
            if text(intent, "status") in CANCELABLE:
                try:
                    intent = await client.v1.payment_intents.cancel_async(intent.id)
                except stripe.InvalidRequestError as error:
                    if error.http_status != 400:  # e.g. payment_intent_unexpected_state
                        raise
                    # It moved meanwhile (paid, or cancelled by someone else): read it again.
                    intent = await client.v1.payment_intents.retrieve_async(intent.id)
        except stripe.StripeError as error:
            failure = classify(error, refused=ChannelState.CONFIRM_FAIL)
            return CloseResult(failure.state, failure.err_code, failure.err_msg)
        return close_result(intent, pay_order_id)

    async def cancel(self, params: Mapping[str, Any], pay_order_id: str, *,
                     channel_order_no: str = "") -> CloseResult:
        """Stripe has no barcode payments: reversing is closing (a paid intent is refunded)."""
        return await self.close(params, pay_order_id, channel_order_no=channel_order_no)

    async def refund(self, params: Mapping[str, Any], refund: RefundOrder,
                     notify_url: str) -> RefundResult:
        """Refunds part or all of the payment (once: Idempotency-Key = refund order id)."""
        client = self._client(params)
        if not 0 < refund.refund_amount <= refund.pay_amount:
            raise InvalidArgument("refund.refund_amount",
                                  "refund_amount must be between 1 and the paid amount")
        if not 0 < len(refund.refund_order_id) <= 64:
            raise InvalidArgument("refund.refund_order_id",
                                  "refund_order_id must have 1 to 64 characters")
        tags = {"pay_order_id": refund.pay_order_id, "refund_order_id": refund.refund_order_id}
        if refund.reason:
            tags["reason"] = refund.reason[:500]
        try:
            intent = await self._intent(client, refund.pay_order_id, refund.channel_order_no)
            if isinstance(intent, QueryResult):
                return RefundResult(
                    ChannelState.CONFIRM_FAIL if intent.err_code == "ORDER_NOT_EXIST"
                    else intent.state, err_code=intent.err_code, err_msg=intent.err_msg)
            if refund.currency and refund.currency.lower() != text(intent, "currency"):
                return RefundResult(ChannelState.CONFIRM_FAIL, err_code="CURRENCY_MISMATCH",
                                    err_msg=f"the payment was in {text(intent, 'currency')}, "
                                            f"not {refund.currency}")
            created = await client.v1.refunds.create_async(
                {"payment_intent": intent.id, "amount": refund.refund_amount,
                 "metadata": tags},
                {"idempotency_key": refund.refund_order_id})
        except stripe.StripeError as error:
            failure = classify(error, refused=ChannelState.CONFIRM_FAIL)
            code = "REFUND_PARAMS_MISMATCH" if failure.err_code == "idempotency_error" else ""
            return RefundResult(failure.state, err_code=code or failure.err_code,
                                err_msg=failure.err_msg)
        return refund_result(created)

    async def query_refund(self, params: Mapping[str, Any], pay_order_id: str,
                           refund_order_id: str, *, channel_order_no: str = "",
                           channel_refund_no: str = "") -> RefundResult:
        """The refund's state, found among the intent's refunds by its metadata."""
        client = self._client(params)
        try:
            if channel_refund_no:
                found = await client.v1.refunds.retrieve_async(channel_refund_no)
                if metadata(found, "refund_order_id") != refund_order_id:
                    return RefundResult(ChannelState.UNKNOWN, err_code="REFUND_MISMATCH",
                                        err_msg=f"{channel_refund_no} is not {refund_order_id}")
                return refund_result(found)
            intent = await self._intent(client, pay_order_id, channel_order_no)
            if isinstance(intent, QueryResult):
                return RefundResult(intent.state, err_code=intent.err_code,
                                    err_msg=intent.err_msg)
            return await self._find_refund(client, intent.id, refund_order_id)
        except stripe.StripeError as error:
            failure = classify(error, refused=ChannelState.UNKNOWN)
            return RefundResult(failure.state, err_code=failure.err_code,
                                err_msg=failure.err_msg)

    async def download_bill(self, params: Mapping[str, Any], bill_date: datetime.date) -> Bill:
        """The day's balance transactions (China Standard Time) as a bill (see ``bill``)."""
        return await bill.download_bill(self._client(params), bill_date, self._clock())

    async def verify_callback(self, params: Mapping[str, Any], callback: Callback
                              ) -> CallbackResult:
        """Checks the Stripe-Signature with ``webhookSecret``; never raises on bad input."""
        secret = parse_params(params, need_key=False, need_webhook_secret=True).webhook_secret
        return webhook.report(callback, secret, self._clock())

    async def identify_callback(self, callback: Callback) -> CallbackIdentity | None:
        """The order named in the event object's metadata, trusting nothing (unverified)."""
        return webhook.identify(callback.body)

    async def _intent(self, client: stripe.StripeClient, pay_order_id: str,
                      channel_order_no: str) -> stripe.PaymentIntent | QueryResult:
        """The order's intent, or a QueryResult saying why there is none to show."""
        if channel_order_no:
            try:
                intent = await client.v1.payment_intents.retrieve_async(channel_order_no)
            except stripe.InvalidRequestError as error:
                if error.http_status == 404:
                    return not_exist(pay_order_id)
                raise
            if metadata(intent, "pay_order_id") != pay_order_id:
                return QueryResult(ChannelState.UNKNOWN, err_code="ORDER_MISMATCH",
                                   err_msg=f"{channel_order_no} is not order {pay_order_id}")
            return intent
        return await self._find_intent(client, pay_order_id)

    async def _find_intent(self, client: stripe.StripeClient, pay_order_id: str
                           ) -> stripe.PaymentIntent | QueryResult:
        """Scans the account's intents, newest first, for ``metadata.pay_order_id``.

        Listing is strongly consistent (Stripe's search API can lag by minutes, so a fresh
        intent could be missed and wrongly called absent); the scan stops after
        ``lookup_pages`` pages and then answers UNKNOWN rather than "does not exist".
        """
        after = ""
        for _ in range(self._lookup_pages):
            page_params: dict[str, Any] = {"limit": _PAGE}
            if after:
                page_params["starting_after"] = after
            page = await client.v1.payment_intents.list_async(page_params)  # type: ignore[arg-type]
            for intent in page.data:
                if metadata(intent, "pay_order_id") == pay_order_id:
                    return intent
            if not page.has_more or not page.data:
                return not_exist(pay_order_id)
            after = page.data[-1].id
        scanned = self._lookup_pages * _PAGE
        return QueryResult(ChannelState.UNKNOWN, err_code="INTENT_LOOKUP_LIMIT",
                           err_msg=f"order {pay_order_id} is not among the {scanned} newest "
                                   "intents; query it with its intent id")

    async def _find_refund(self, client: stripe.StripeClient, intent_id: str,
                           refund_order_id: str) -> RefundResult:
        after = ""
        for _ in range(self._lookup_pages):
            page_params: dict[str, Any] = {"payment_intent": intent_id, "limit": _PAGE}
            if after:
                page_params["starting_after"] = after
            page = await client.v1.refunds.list_async(page_params)  # type: ignore[arg-type]
            for found in page.data:
                if metadata(found, "refund_order_id") == refund_order_id:
                    return refund_result(found)
            if not page.has_more or not page.data:
                return RefundResult(ChannelState.CONFIRM_FAIL, err_code="REFUND_NOT_EXIST",
                                    err_msg=f"Stripe has no refund {refund_order_id}")
            after = page.data[-1].id
        return RefundResult(ChannelState.UNKNOWN, err_code="REFUND_LOOKUP_LIMIT",
                            err_msg=f"refund {refund_order_id} not found in the scanned pages")


def _check_order(order: PaymentOrder) -> str:
    """The order's currency in Stripe's spelling, after checking what Stripe cannot."""
    if order.way_code not in STRIPE_WAY_CODES:
        raise InvalidArgument("order.way_code",
                              f"the stripe channel serves {', '.join(sorted(STRIPE_WAY_CODES))}, "
                              f"not {order.way_code}", reason="WAY_CODE_NOT_SUPPORTED")
    if not 0 < len(order.pay_order_id) <= 64:
        raise InvalidArgument("order.pay_order_id", "pay_order_id must have 1 to 64 characters")
    if order.amount < 1:
        raise InvalidArgument("order.amount", "amount must be at least 1 minor unit")
    currency = order.currency.lower()
    if not _CURRENCY.fullmatch(currency):
        raise InvalidArgument("order.currency", "currency must be an ISO 4217 code (usd, eur…)")
    return currency
