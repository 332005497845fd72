"""The Stripe channel (ifCode ``stripe``, wayCode ``STRIPE_CARD``): card payments for
international merchants, through Stripe's official SDK (async API, the service's httpx client).

Named ``stripe_card`` so that it never shadows the ``stripe`` SDK package.

Parameters (``PARAMS_SCHEMA``): ``{"secretKey": "sk_…", "webhookSecret": "whsec_…",
"apiBase": "https://api.stripe.com"}``; ``apiBase`` is optional, https, or http on loopback.

Pay
    Creates a PaymentIntent: ``amount`` in the currency's minor unit (the order's amount as is),
    ``currency`` lower case, ``metadata.pay_order_id``, ``Idempotency-Key: <pay_order_id>`` so a
    retried pay returns the same intent (Stripe keeps keys ≥ 24 h), and no payment-method list:
    Stripe's automatic payment methods, as configured in the merchant's dashboard (enable cards
    only there for a card-only checkout). Answer: WAITING, ``channel_order_no`` = the intent id,
    payDataType ``stripe`` and payData the JSON text
    ``{"clientSecret": "pi_…_secret_…", "paymentIntentId": "pi_…"}``. The merchant's page hands
    ``clientSecret`` to Stripe.js (``stripe.confirmCardPayment(clientSecret, …)`` or the Payment
    Element), which collects the card, runs 3-D Secure and confirms; the secret key never leaves
    paymesh. ``notify_url`` and ``expire_at`` are not sent: Stripe posts events to the account's
    one webhook endpoint, and an intent never expires by itself (closing cancels it).

Query
    ``succeeded`` → CONFIRM_SUCCESS (``channel_order_no`` = intent id); ``canceled`` →
    CONFIRM_FAIL ``ORDER_CLOSED``; ``requires_payment_method`` (also after a declined attempt),
    ``requires_confirmation``, ``requires_action``, ``processing``, ``requires_capture`` →
    WAITING. A decline is *not* final at Stripe: the intent returns to
    ``requires_payment_method`` and the payer may try another card with the same client secret,
    so the order keeps waiting (the decline code is passed in ``err_code``) until it is paid or
    closed at expiry; failing it early would turn a later success into a "late success".

Close / cancel
    Cancels the intent: CONFIRM_SUCCESS when canceled (or when Stripe has no intent for the
    order), CONFIRM_FAIL ``ORDER_PAID`` when it succeeded, ``ORDER_PROCESSING`` while an
    asynchronous method is processing.

Refund
    ``POST /v1/refunds`` with ``payment_intent``, ``amount`` (partial allowed),
    ``metadata.refund_order_id`` and ``metadata.pay_order_id`` (and ``reason``), with
    ``Idempotency-Key: <refund_order_id>``: ``succeeded`` → CONFIRM_SUCCESS, ``pending`` /
    ``requires_action`` → WAITING, ``failed`` / ``canceled`` → CONFIRM_FAIL. Refund query lists
    the intent's refunds and picks the one whose metadata names the refund order: nothing is
    stored in paymesh beyond what Stripe keeps.

Finding the intent
    Query, close, cancel and refund query receive only the pay order id today. With
    ``channel_order_no`` (keyword argument; RefundOrder already carries it) the intent is
    retrieved directly; without it the account's intents are listed newest first and matched on
    ``metadata.pay_order_id``. Listing is strongly consistent (the search API is not), but
    bounded: past ``lookup_pages`` × 100 intents the answer is UNKNOWN ``INTENT_LOOKUP_LIMIT``.

Errors
    A refused connection (nothing sent) or HTTP 429 → SYS_ERROR; a timeout after sending, a 5xx
    or a 409 → UNKNOWN (settled by a query); ``card_error`` / ``invalid_request_error`` →
    CONFIRM_FAIL with Stripe's error code (UNKNOWN in queries, where a refusal says nothing about
    the payment); an idempotency key reused with other parameters → CONFIRM_FAIL
    ``ORDER_PARAMS_MISMATCH`` / ``REFUND_PARAMS_MISMATCH``; HTTP 401/403 (wrong key) and bad
    parameters → DomainError ``CHANNEL_CONFIG_INVALID``.

Bill
    Stripe has no bill file: ``download_bill`` lists the day's balance transactions
    (``created`` within the China Standard Time day, ``expand[]=data.source``, paged by
    ``starting_after``) and reads the platform's ids from the expanded charge's and refund's
    metadata; a day is not ready until it has ended. Stripe states no totals, so the totals
    are the listed sums (see ``bill``).

Webhooks (one endpoint per Stripe account)
    Subscribe the endpoint to ``payment_intent.succeeded``, ``payment_intent.payment_failed``,
    ``refund.updated`` and ``charge.refunded``. ``identify_callback`` reads the unverified
    event's ``data.object.metadata.pay_order_id`` (and ``refund_order_id``) so the gateway can
    pick the account's webhook secret; ``verify_callback`` then checks ``Stripe-Signature``
    (see ``webhook``). ``payment_intent.succeeded`` → PAY CONFIRM_SUCCESS;
    ``payment_intent.payment_failed`` → PAY WAITING with the decline code;
    ``refund.updated`` → REFUND in the refund's state; ``charge.refunded`` → REFUND with no
    state (the charge does not say which refund moved; ``refund_amount`` is the charge's total
    refunded): a hint to query refunds. Answers: HTTP 200 ``{"received": true}`` to take it,
    HTTP 400 to have Stripe retry.
"""

from __future__ import annotations

from paymesh.services.channel.adapters.stripe_card.adapter import PAY_DATA_TYPE, StripeAdapter
from paymesh.services.channel.adapters.stripe_card.params import PARAMS_SCHEMA

__all__ = ["PARAMS_SCHEMA", "PAY_DATA_TYPE", "StripeAdapter"]
