"""Span attributes are declared in one place; anything else is refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from paymesh.services.common import spanattrs


def test_declared_attributes_are_set_and_others_refused(exported: InMemorySpanExporter) -> None:
    with trace.get_tracer("tests").start_as_current_span("s") as span:
        spanattrs.set_on(span, pay_order_id="P1", way_code="WX_NATIVE", job__examined=3,
                         outbox__topic="pay.succeeded", mch_order_no="")
        for forbidden in ({"app_secret": "s3cret"}, {"auth_code": "134567890123456789"},
                          {"openid": "o-abc"}, {"sign": "ABCDEF"}):
            with pytest.raises(ValueError, match="not declared"):
                spanattrs.set_on(span, **forbidden)
        with pytest.raises(ValueError):  # a count family takes integers only
            spanattrs.set_on(span, sweep__examined="3")
    [done] = exported.get_finished_spans()
    assert dict(done.attributes or {}) == {
        "paymesh.pay_order_id": "P1", "paymesh.way_code": "WX_NATIVE",
        "paymesh.job.examined": 3, "paymesh.outbox.topic": "pay.succeeded"}


def test_order_attributes_take_only_identifiers() -> None:
    order = SimpleNamespace(pay_order_id="P1", mch_no="M1", app_id="A1", mch_order_no="S1",
                            way_code="WX_BAR", if_code="sandbox", amount=100,
                            channel_extra='{"authCode":"134567890123456789"}',
                            notify_url="https://shop.example/notify?key=k")
    assert spanattrs.of_order(order) == {
        "paymesh.pay_order_id": "P1", "paymesh.mch_no": "M1", "paymesh.app_id": "A1",
        "paymesh.mch_order_no": "S1", "paymesh.way_code": "WX_BAR", "paymesh.if_code": "sandbox"}
    assert spanattrs.of_row({"refund_order_id": "R1", "pay_order_id": "P1",
                             "mch_refund_no": "RF1", "reason": "x"}) == {
        "paymesh.refund_order_id": "R1", "paymesh.pay_order_id": "P1",
        "paymesh.mch_refund_no": "RF1"}


def test_long_text_is_cut() -> None:
    assert len(str(spanattrs.checked({"paymesh.refusal": "x" * 500})["paymesh.refusal"])) \
        == spanattrs.MAX_TEXT
