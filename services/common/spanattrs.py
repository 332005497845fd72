"""paymesh's own span attributes, declared in one place.

A trace is read by ops people and kept by collectors they do not control, so a span carries only
identifiers that help follow a payment: merchant, app, order numbers, wayCode and channel, and
the counts a sweep or a job run reports. Never a secret, a key, a signature, an authCode, a card
number or a payer identifier (openid, buyer id): none of those has a name here, and ``set_on``
refuses a name that is not declared. tests/e2e/test_trace.py checks every stored span of a full
payment against this list and against the secrets of that payment.

=============================  ========================================================
paymesh.mch_no                 merchant number
paymesh.app_id                 app id
paymesh.pay_order_id           pay order id (P...)
paymesh.mch_order_no           the merchant's order number
paymesh.refund_order_id        refund order id (R...)
paymesh.mch_refund_no          the merchant's refund number
paymesh.way_code               wayCode (WX_NATIVE, ...)
paymesh.if_code                channel interface (wxpay, sandbox, ...)
paymesh.notify_id              merchant notification record (N...)
paymesh.refusal                why the merchant API refused a request (its msg, cut to 120
                               characters; messages never quote secrets)
paymesh.attempt                attempt number of a delivery (callback, notification)
paymesh.outbox.topic           outbox event topic (pay.succeeded, ...)
paymesh.outbox.consumer        outbox consumer name (ledger, notifications)
paymesh.job                    jobs-process job name
paymesh.job.owner              the jobs process that ran it (host:pid:random)
paymesh.job.<count>            integer counts a job run reports (turn, examined, settled, ...)
paymesh.sweep.<count>          integer counts a gateway sweep reports
=============================  ========================================================
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.trace import Span

NAMES = frozenset({
    "paymesh.mch_no", "paymesh.app_id", "paymesh.pay_order_id", "paymesh.mch_order_no",
    "paymesh.refund_order_id", "paymesh.mch_refund_no", "paymesh.way_code", "paymesh.if_code",
    "paymesh.notify_id", "paymesh.refusal", "paymesh.attempt", "paymesh.outbox.topic",
    "paymesh.outbox.consumer", "paymesh.job", "paymesh.job.owner",
})
# Families of integer counts: any name under these prefixes, integer values only.
COUNT_PREFIXES = ("paymesh.job.", "paymesh.sweep.")
MAX_TEXT = 128
# Order columns (gateway models, by attribute name) and the span attribute each one becomes.
ORDER_FIELDS = {
    "pay_order_id": "paymesh.pay_order_id", "refund_order_id": "paymesh.refund_order_id",
    "mch_no": "paymesh.mch_no", "app_id": "paymesh.app_id",
    "mch_order_no": "paymesh.mch_order_no", "mch_refund_no": "paymesh.mch_refund_no",
    "way_code": "paymesh.way_code", "if_code": "paymesh.if_code",
}
# The attributes that identify an order: the trace store indexes them, logs repeat them.
ORDER_KEYS = ("paymesh.pay_order_id", "paymesh.mch_order_no", "paymesh.refund_order_id",
              "paymesh.mch_refund_no", "paymesh.notify_id")

Value = str | int | bool


def is_declared(name: str, value: object) -> bool:
    """Whether ``name`` may carry ``value`` on a span."""
    if name in NAMES:
        return isinstance(value, str | int | bool)
    return (name.startswith(COUNT_PREFIXES) and isinstance(value, int)
            and not isinstance(value, bool))


def checked(attributes: Mapping[str, object]) -> dict[str, Value]:
    """``attributes`` ready for a span; ValueError names the first one that is not declared."""
    out: dict[str, Value] = {}
    for name, value in attributes.items():
        if value is None or value == "":
            continue
        if not is_declared(name, value):
            raise ValueError(f"span attribute {name}={type(value).__name__} is not declared in "
                             "paymesh.services.common.spanattrs")
        out[name] = value[:MAX_TEXT] if isinstance(value, str) else value  # type: ignore[assignment]
    return out


def set_on(span: Span, **attributes: object) -> None:
    """Sets declared attributes, given as keywords without the prefix: ``pay_order_id=...``.

    Dotted names use ``__``: ``outbox__topic="pay.succeeded"``. Empty values are left out.
    """
    named = {"paymesh." + key.replace("__", "."): value for key, value in attributes.items()}
    for name, value in checked(named).items():
        span.set_attribute(name, value)


def of_order(order: object) -> dict[str, Value]:
    """The identifying attributes of a pay order or refund order (any object with its fields)."""
    found = {attr: getattr(order, field, None) for field, attr in ORDER_FIELDS.items()}
    return checked({name: value for name, value in found.items() if isinstance(value, str)})


def of_row(values: Mapping[str, object]) -> dict[str, Value]:
    """The same from column values (an INSERT's parameters)."""
    return checked({attr: values.get(field) for field, attr in ORDER_FIELDS.items()
                    if isinstance(values.get(field), str)})
