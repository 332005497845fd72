"""The drills' parts without a mesh: stages, the client's expectations, the fee model the audit
uses, the fault proxy, the merchant endpoint and the notification bound of merchant-down."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymesh.services.common import signing
from paymesh.services.drills.endpoint import PAY_PATH, MerchantEndpoint
from paymesh.services.drills.faults import MerchantDown
from paymesh.services.drills.proxy import FaultProxy
from paymesh.services.drills.tenant import Tenant
from paymesh.services.drills.workload import (
    CLOSED,
    FAILED,
    PAID,
    PAYING,
    REFUND_DONE,
    REFUND_PAYING,
    REFUNDED,
    ClientOrder,
    ClientRefund,
    parse_stages,
)
from paymesh.services.gateway.fees import merchant_fee, refund_fee_shares
from paymesh.services.mesh.supervisor import START_ORDER

TENANT = Tenant("M1", "app1", "s" * 32)


def test_the_command_line_names_every_scenario_and_process() -> None:
    """The CLI lists them without importing the drills; the lists must not drift."""
    from paymesh.services import drills
    from paymesh.services.drills.faults import SCENARIOS

    assert drills.SCENARIO_NAMES == tuple(SCENARIOS)
    assert set(drills.PROCESSES) == set(START_ORDER) | {"envoy"}  # the crash drill kills all


def test_stages_are_rate_and_seconds_pairs() -> None:
    assert parse_stages("20:30, 40:30") == [(20.0, 30.0), (40.0, 30.0)]
    assert parse_stages("0.5:10") == [(0.5, 10.0)]
    for bad in ("20", "20:", "x:30", "0:30", "20:-1", ""):
        with pytest.raises(ValueError, match="RATE:SECONDS"):
            parse_stages(bad)


def order(intent: str, **fields: object) -> ClientOrder:
    made = ClientOrder("D1", "WX_NATIVE", 1000, intent, created="ok", pay_order_id="P1",
                       order_state=PAYING, pay_data="http://edge/sandbox/pay/t")
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def test_the_client_expects_what_it_did() -> None:
    assert order("pay", decision="ok").expected == {PAID}
    assert order("fail", decision="ok").expected == {FAILED}
    assert order("close", decision="ok").expected == {CLOSED}
    assert order("open").expected == {PAYING}
    # A click without an answer: any of the states a payment can end in.
    assert order("pay", decision="unknown").expected >= {PAYING, PAID}
    # No answer to the unified order: the client does not know the order exists.
    assert order("pay", created="unknown").expected is None
    # The channel never answered the unified order: its query may fail the order later.
    assert order("open", pay_data="").expected == {PAYING, FAILED}


def test_refunds_decide_between_paid_and_refunded() -> None:
    full = order("pay", decision="ok", refunds=[
        ClientRefund("D1R1", 1000, "ok", "R1", REFUND_DONE)])
    part = order("pay", decision="ok", refunds=[
        ClientRefund("D1R1", 400, "ok", "R1", REFUND_DONE)])
    pending = order("pay", decision="ok", refunds=[
        ClientRefund("D1R1", 1000, "ok", "R1", REFUND_PAYING)])
    unknown = order("pay", decision="ok", refunds=[ClientRefund("D1R1", 1000, "unknown")])
    assert full.expected == {REFUNDED}
    assert part.expected == {PAID} and part.refunded() == 400
    assert pending.expected == {PAID, REFUNDED}
    assert unknown.expected == {PAID}


@given(st.integers(1, 10**9), st.data())
def test_the_audits_fee_model_is_the_platforms(amount: int, data: st.DataObject) -> None:
    """The audit computes fees on its own; they agree with the gateway's rules."""
    assert TENANT.fee(amount) == merchant_fee(amount, TENANT.fee_rate)
    refund = data.draw(st.integers(1, amount))
    share = TENANT.refund_fee_share(amount, 0, refund)
    assert share == refund_fee_shares(TENANT.fee(amount), amount, [refund])[0]
    if refund < amount:  # the rest refunded later: the shares add up to the fee
        rest = TENANT.refund_fee_share(amount, refund, amount - refund)
        assert share + rest == TENANT.fee(amount)


def test_merchant_down_bound_is_the_longest_gap_starting_in_the_outage() -> None:
    scenario = MerchantDown()
    # At 1/100 speed the gaps are 0.3 0.6 0.9 1.2 1.5 3 6 18 36 ... s, starting at
    # 0 0.3 0.9 1.8 3 4.5 7.5 13.5 31.5: the 18 s gap is the last to start within 30 s.
    assert scenario.bound(30, 0.01) == pytest.approx(18 + 5)
    assert scenario.bound(10, 0.01) == pytest.approx(6 + 5)
    assert scenario.bound(5, 0.01) == pytest.approx(3 + 5)
    assert scenario.bound(40, 0.01) == pytest.approx(36 + 5)
    assert scenario.bound(30, 1.0) == pytest.approx(30 + 5)  # unscaled: 30 s, the first gap


class Upstream:
    """A plain HTTP server that answers 201 with a header and echoes the body, counting hits."""

    def __init__(self) -> None:
        self.hits = 0
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                upstream.hits += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                payload = b"echo:" + body
                self.send_response(201)
                self.send_header("Wechatpay-Signature", "sig-of-the-body")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def proxied() -> Iterator[tuple[Upstream, FaultProxy]]:
    upstream = Upstream()
    proxy = FaultProxy(upstream.url, hold=3.0, delay=0.5)
    yield upstream, proxy
    proxy.close()
    upstream.server.shutdown()
    upstream.server.server_close()


def test_the_proxy_passes_answers_through_unchanged(
        proxied: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = proxied
    answer = httpx.post(proxy.url + "/v3/pay", content=b"{\"a\":1}")
    assert (answer.status_code, answer.content) == (201, b"echo:{\"a\":1}")
    assert answer.headers["wechatpay-signature"] == "sig-of-the-body"
    assert upstream.hits == 1


def test_a_5xx_fault_answers_without_reaching_the_channel(
        proxied: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = proxied
    proxy.set_fault("http500")
    answer = httpx.post(proxy.url + "/v3/pay", content=b"{}")
    assert answer.status_code == 500 and b"SYSTEM_ERROR" in answer.content
    assert upstream.hits == 0
    proxy.set_fault("none")
    assert httpx.post(proxy.url + "/v3/pay", content=b"{}").status_code == 201


def test_a_timeout_fault_acts_at_the_channel_but_never_answers(
        proxied: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = proxied
    proxy.set_fault("timeout")
    with pytest.raises(httpx.TimeoutException):
        httpx.post(proxy.url + "/v3/pay", content=b"{}", timeout=1.0)
    assert upstream.hits == 1  # carried out: the caller cannot know it
    assert proxy.touched["timeout"] == 1


def test_a_slow_fault_answers_late(proxied: tuple[Upstream, FaultProxy]) -> None:
    upstream, proxy = proxied
    proxy.set_fault("slow")
    began = time.monotonic()
    answer = httpx.post(proxy.url + "/v3/pay", content=b"{}")
    assert answer.status_code == 201 and time.monotonic() - began >= 0.5
    with pytest.raises(ValueError, match="unknown fault"):
        proxy.set_fault("gremlins")


def notify(port: int, form: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        body = "&".join(f"{k}={v}" for k, v in form.items())
        connection.request("POST", PAY_PATH, body,
                           {"content-type": "application/x-www-form-urlencoded"})
        answer = connection.getresponse()
        assert answer.read() == b"SUCCESS"
        return answer.status
    finally:
        connection.close()


def test_the_endpoint_checks_signatures_and_goes_down_and_up() -> None:
    endpoint = MerchantEndpoint(TENANT.secret)
    try:
        form = {"payOrderId": "P1", "state": "2", "amount": "100"}
        good = dict(form, sign=signing.sign(form, TENANT.secret))
        assert notify(endpoint.port, good) == 200
        assert notify(endpoint.port, dict(form, sign="0" * 32)) == 200
        assert [(n.state, n.signed) for n in endpoint.notices("pay", "P1")] == \
            [(2, True), (2, False)]
        endpoint.down()
        with pytest.raises(ConnectionRefusedError):
            notify(endpoint.port, good)
        endpoint.up()
        assert notify(endpoint.port, good) == 200
        assert endpoint.count() == 3
    finally:
        endpoint.close()
