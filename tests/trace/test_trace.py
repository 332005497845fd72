"""One trace per payment, through the real Envoy and every service, kept by the local trace store.

A fresh app pays an order on the sandbox page, its merchant endpoint is notified, the order is
refunded (and refunded too much, which is refused) and queried; a barcode order carries an
authCode. Then the stored spans must show the payment as one tree rooted at Envoy -- gateway,
merchant (the uncached app's ResolvePayContext), channel, the callback's processing, the ledger
posting in the account service and the notification's delivery, with database spans -- and no
secret anywhere; ``paymesh trace`` must print that tree, and ``--slow``/``--errors`` must list
recent traces.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from paymesh.services.client.merchant import MerchantCredentials, signed_params
from paymesh.services.common import spanattrs
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import fresh_app, order_no, pay_on_sandbox_page, post, wait_for_state
from tests.e2e.merchant_endpoint import MerchantEndpoint

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 20.0
AUTH_CODE = "134567890123456789"
Span = dict[str, Any]


@dataclass
class Payment:
    """What the scenario did, and every value that must never reach a span."""

    credentials: MerchantCredentials
    pay_order_id: str
    mch_order_no: str
    refund_order_id: str
    barcode_order_id: str
    secrets: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MerchantEndpoint]:
    with MerchantEndpoint() as running:
        yield running


async def call(http: httpx.AsyncClient, mesh: RunningMesh, creds: MerchantCredentials,
               path: str, params: dict[str, Any], signs: list[str]) -> dict[str, Any]:
    body = signed_params(creds, params)
    signs.append(body["sign"])
    return await post(http, mesh, path, body)


@pytest.fixture(scope="module")
async def payment(mesh: RunningMesh, endpoint: MerchantEndpoint) -> AsyncIterator[Payment]:
    signs: list[str] = []
    creds = await fresh_app(mesh)
    mch_order_no = order_no()
    async with httpx.AsyncClient(timeout=30) as http:
        created = await call(http, mesh, creds, "/api/pay/unifiedOrder", {
            "mchOrderNo": mch_order_no, "wayCode": "WX_NATIVE", "amount": 1234,
            "currency": "cny", "subject": "Tea", "body": "Oolong",
            "notifyUrl": endpoint.url("/paid")}, signs)
        assert created["code"] == 0, created
        pay_order_id = created["data"]["payOrderId"]
        pay_url = created["data"]["payData"]
        await pay_on_sandbox_page(http, pay_url)
        [notified] = await endpoint.wait_for("/paid", 1)
        paid = await wait_for_state(http, mesh, creds, pay_order_id, 2)
        assert paid["data"]["state"] == 2
        refund = await call(http, mesh, creds, "/api/refund/refundOrder", {
            "payOrderId": pay_order_id, "mchRefundNo": f"RN{secrets.token_hex(5)}",
            "refundAmount": 234, "currency": "cny", "refundReason": "spilled",
            "notifyUrl": endpoint.url("/refunded")}, signs)
        assert refund["data"]["state"] == 2, refund
        [refund_notified] = await endpoint.wait_for("/refunded", 1)
        refused = await call(http, mesh, creds, "/api/refund/refundOrder", {
            "payOrderId": pay_order_id, "mchRefundNo": f"RN{secrets.token_hex(5)}",
            "refundAmount": 99999, "currency": "cny", "refundReason": "too much"}, signs)
        assert refused["code"] != 0, refused
        queried = await call(http, mesh, creds, "/api/pay/query",
                             {"payOrderId": pay_order_id}, signs)
        assert queried["data"]["state"] == 2
        barcode = await call(http, mesh, creds, "/api/pay/unifiedOrder", {
            "mchOrderNo": order_no(), "wayCode": "WX_BAR", "amount": 88, "currency": "cny",
            "subject": "Tea", "body": "Oolong",
            "channelExtra": json.dumps({"authCode": AUTH_CODE})}, signs)
        assert barcode["data"]["orderState"] == 2, barcode
    values = {"app secret": creds.secret, "pay notification sign": notified.form["sign"],
              "refund notification sign": refund_notified.form["sign"],
              "authCode": AUTH_CODE, "sandbox pay token": pay_url.rsplit("/", 1)[1],
              "admin token": mesh.env["PAYMESH_ADMIN_TOKEN"],
              "master key": mesh.env["PAYMESH_MASTER_KEY"]}
    values.update({f"request sign {i}": sign for i, sign in enumerate(signs)})
    yield Payment(creds, pay_order_id, mch_order_no, refund["data"]["refundOrderId"],
                  barcode["data"]["payOrderId"], values)


async def eventually(find: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = find()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not in the trace store in time: {what}")
        await asyncio.sleep(0.3)


def by_id(spans: list[Span]) -> dict[str, Span]:
    return {span["span_id"]: span for span in spans}


def ancestors(span: Span, index: dict[str, Span]) -> list[Span]:
    chain = []
    while span["parent_span_id"] is not None:
        span = index[span["parent_span_id"]]
        chain.append(span)
    return chain


def one(spans: list[Span], service: str, kind: str, name_end: str) -> Span:
    found = [s for s in spans if s["service"] == service and s["kind"] == kind
             and s["name"].endswith(name_end)]
    assert len(found) >= 1, f"no {kind} span {name_end} of {service}"
    return found[0]


# (service, kind, last part of the name) of every span the payment's trace must hold.
EXPECTED_PARTS = {
    ("envoy", "SERVER", "ingress"),
    ("gateway", "SERVER", "UnifiedOrder"),
    ("merchant", "SERVER", "ResolvePayContext"),
    ("channel", "SERVER", "Pay"),
    ("gateway", "INTERNAL", "callback sandbox"),
    ("channel", "SERVER", "VerifyCallback"),
    ("account", "SERVER", "Post"),
    ("gateway", "INTERNAL", "outbox pay.succeeded ledger"),
    ("gateway", "INTERNAL", "outbox pay.succeeded notifications"),
}


def payment_trace(mesh: RunningMesh, payment: Payment) -> list[Span]:
    """The spans of the trace the unified order started, once its last parts are stored."""
    spans = mesh.spans()
    created = [s for s in spans if s["name"].endswith("MerchantApiService/UnifiedOrder")
               and s["attributes"].get("paymesh.pay_order_id") == payment.pay_order_id]
    if not created:
        return []
    trace = [s for s in spans if s["trace_id"] == created[0]["trace_id"]]
    # Every process exports in batches of its own, so a span may be stored before its parent or
    # long after its children: the trace is read once every part the tests look at is there.
    present = {(s["service"], s["kind"], s["name"].rsplit("/", 1)[-1]) for s in trace}
    notified = any(s["kind"] == "CLIENT" and "/paid" in str(s["attributes"]) for s in trace)
    databases = {s["service"] for s in trace
                 if s["kind"] == "CLIENT" and re.match(r"(SELECT|INSERT|UPDATE)\b", s["name"])}
    ids = {s["span_id"] for s in trace}
    whole = all(s["parent_span_id"] is None or s["parent_span_id"] in ids for s in trace)
    ready = (EXPECTED_PARTS <= present and notified and whole
             and {"gateway", "merchant", "account", "channel"} <= databases)
    return trace if ready else []


async def test_a_payment_is_one_trace_from_envoy_to_the_ledger(
        mesh: RunningMesh, payment: Payment) -> None:
    trace = await eventually(lambda: payment_trace(mesh, payment), "the whole payment trace")
    index = by_id(trace)
    # One tree: a single root, Envoy's, and every other span's parent is in the trace.
    roots = [s for s in trace if s["parent_span_id"] is None]
    assert [(r["service"], r["kind"]) for r in roots] == [("envoy", "SERVER")]
    assert roots[0]["attributes"]["http.url"].endswith("/api/pay/unifiedOrder")
    assert all(s["parent_span_id"] in index for s in trace if s is not roots[0])

    order = one(trace, "gateway", "SERVER", "MerchantApiService/UnifiedOrder")
    assert order["parent_span_id"] == roots[0]["span_id"]
    assert order["attributes"]["paymesh.mch_order_no"] == payment.mch_order_no
    for service, rpc in (("merchant", "MerchantService/ResolvePayContext"),
                         ("channel", "ChannelService/Pay")):
        server = one(trace, service, "SERVER", rpc)
        client = index[server["parent_span_id"]]
        assert (client["service"], client["kind"]) == ("gateway", "CLIENT")
        assert client["name"].endswith(rpc) and order in ancestors(client, index)

    # The callback came through Envoy in a trace of its own (the payer's click on the sandbox
    # page); its processing joins the payment's trace and links back to that request.
    callback = one(trace, "gateway", "INTERNAL", "callback sandbox")
    assert callback["parent_span_id"] == order["span_id"]
    [link] = callback["links"]
    # Each process exports its spans in batches of its own: the linked request and its Envoy
    # parent may land in the store after the payment's trace did.
    request = await eventually(lambda: by_id(mesh.spans()).get(link["spanId"]),
                               "the callback request the processing links to")
    assert request["trace_id"] == link["traceId"] != order["trace_id"]
    assert request["name"].endswith("ChannelCallbackService/ReceivePayNotify")
    edge = await eventually(lambda: by_id(mesh.spans()).get(request["parent_span_id"]),
                            "Envoy's span of the callback request")
    assert edge["service"] == "envoy"
    verify = one(trace, "channel", "SERVER", "ChannelService/VerifyCallback")
    assert callback in ancestors(verify, index)

    # Later, behind the outbox, in the same trace: the ledger posting and the notification.
    post = one(trace, "account", "SERVER", "AccountService/Post")
    ledger = one(trace, "gateway", "INTERNAL", "outbox pay.succeeded ledger")
    assert ledger in ancestors(post, index) and ledger["parent_span_id"] == order["span_id"]
    assert ledger["attributes"]["paymesh.pay_order_id"] == payment.pay_order_id
    delivery = next(s for s in trace if s["kind"] == "CLIENT" and s["service"] == "gateway"
                    and "/paid" in str(s["attributes"]))
    outbox = one(trace, "gateway", "INTERNAL", "outbox pay.succeeded notifications")
    assert outbox in ancestors(delivery, index)

    # Database work has spans, under the RPC that did it.
    for service in ("gateway", "merchant", "account", "channel"):
        statements = [s for s in trace if s["service"] == service and s["kind"] == "CLIENT"
                      and re.match(r"(SELECT|INSERT|UPDATE)\b", s["name"])]
        assert statements, f"no database span of {service}"


async def test_no_span_carries_a_secret_or_an_undeclared_attribute(
        mesh: RunningMesh, payment: Payment) -> None:
    await eventually(lambda: payment_trace(mesh, payment), "the whole payment trace")
    def refund_posting() -> list[Span]:  # the refund's ledger posting, in the refund's trace
        spans = [s for s in mesh.spans()
                 if s["attributes"].get("paymesh.refund_order_id") == payment.refund_order_id]
        return [s for s in spans if s["name"] == "outbox refund.succeeded ledger"
                and any(r["trace_id"] == s["trace_id"] and r["name"].endswith("RefundOrder")
                        for r in mesh.spans())]

    await eventually(refund_posting, "the refund's ledger posting")
    barcode = await eventually(
        lambda: [s for s in mesh.spans()
                 if s["attributes"].get("paymesh.pay_order_id") == payment.barcode_order_id],
        "the barcode order's spans")
    assert barcode
    everything = mesh.spans()
    text = json.dumps(everything, ensure_ascii=False)
    for what, value in payment.secrets.items():
        assert value and value not in text, f"a span carries the {what}"
    # No card number the mesh may have seen (the test cards of Stripe's test mode); a pattern
    # of any 16 digits would also match ids and timings that happen to look like one.
    for card in ("4242424242424242", "4000056655665556", "4000000000000002",
                 "4000000000009995", "5555555555554444"):
        assert card not in text, "a span carries a card number"
    for span in everything:
        for name, value in span["attributes"].items():
            if name.startswith("paymesh."):
                assert spanattrs.is_declared(name, value), (span["name"], name)


async def test_paymesh_trace_prints_the_payment_tree(
        mesh: RunningMesh, payment: Payment) -> None:
    trace = await eventually(lambda: payment_trace(mesh, payment), "the whole payment trace")
    done = mesh.cli("trace", payment.pay_order_id)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"trace {trace[0]['trace_id']}")
    assert lines[1].startswith("└─ envoy") and "ingress POST /api/pay/unifiedOrder" in lines[1]
    tree = "\n".join(lines[1:])
    for service, operation in (("gateway", "/paymesh.gateway.v1.MerchantApiService/UnifiedOrder"),
                               ("merchant", "/paymesh.merchant.v1.MerchantService/"
                                "ResolvePayContext"),
                               ("channel", "/paymesh.channel.v1.ChannelService/Pay"),
                               ("gateway", "callback sandbox"),
                               ("account", "/paymesh.account.v1.AccountService/Post")):
        assert re.search(rf"─ {service} +{re.escape(operation)}  \d+\.\d ms  (OK|-)", tree), \
            operation
    assert "⇠ linked from" in tree
    assert "other traces naming" in done.stdout  # the callback request, the query
    by_shop_number = mesh.cli("trace", payment.mch_order_no)
    assert by_shop_number.stdout.splitlines()[0] == lines[0]
    as_json = json.loads(mesh.cli("trace", "--json", trace[0]["trace_id"]).stdout)
    assert {s["spanId"] for s in as_json[0]["spans"]} >= {s["span_id"] for s in trace}


async def test_slow_and_failed_traces_are_listed(mesh: RunningMesh, payment: Payment) -> None:
    def refused_trace() -> str | None:
        return next((s["trace_id"] for s in mesh.spans()
                     if s["name"].endswith("MerchantApiService/RefundOrder")
                     and s["attributes"].get("paymesh.app_id") == payment.credentials.app_id
                     and "paymesh.refusal" in s["attributes"]), None)

    refused = await eventually(refused_trace, "the refused refund")
    errors = mesh.cli("trace", "--errors", "--limit", "200")
    assert errors.returncode == 0, errors.stderr
    line = next(line for line in errors.stdout.splitlines() if line.startswith(refused))
    assert "1 refused" in line and "/api/refund/refundOrder" in line
    slow = mesh.cli("trace", "--slow", "--limit", "5")
    listed = [line for line in slow.stdout.splitlines() if re.match(r"[0-9a-f]{32} ", line)]
    assert len(listed) == 5 and all("longest" in line for line in listed)
    durations = [float(re.search(r"longest ([\d.]+) (ms|s)", line).group(1))  # type: ignore[union-attr]
                 * (1000 if " s in " in line else 1) for line in listed]
    assert durations == sorted(durations, reverse=True)
    assert "refused:" in mesh.cli("trace", refused).stdout
