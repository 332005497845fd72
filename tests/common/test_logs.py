"""Logs are one JSON object a line, with the trace id, the service and the order ids."""

from __future__ import annotations

import json
import logging
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from paymesh.services.common.logs import JsonLineFormatter


def line(record: logging.LogRecord) -> dict[str, object]:
    text = JsonLineFormatter("gateway").format(record)
    assert "\n" not in text
    parsed: dict[str, object] = json.loads(text)
    return parsed


def record(message: str, *args: object, exc: bool = False, **extra: object
           ) -> logging.LogRecord:
    logger = logging.getLogger("paymesh.services.gateway.callbacks")
    exc_info = None
    if exc:
        try:
            raise RuntimeError("channel unreachable")
        except RuntimeError:
            exc_info = sys.exc_info()
    made = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, args, exc_info,
                             extra=extra)
    return made


def test_a_line_outside_a_trace() -> None:
    got = line(record("callback for %s refused: %s", "P1", "金额不符"))
    assert set(got) == {"time", "level", "service", "logger", "message"}
    assert got["message"] == "callback for P1 refused: 金额不符"
    assert (got["level"], got["service"]) == ("WARNING", "gateway")
    assert got["logger"] == "paymesh.services.gateway.callbacks"
    assert str(got["time"]).endswith("Z") and "T" in str(got["time"])


def test_inside_a_trace_it_names_the_trace_span_and_orders(
        exported: InMemorySpanExporter) -> None:
    with trace.get_tracer("tests").start_as_current_span("callback") as span:
        span.set_attribute("paymesh.pay_order_id", "P7")
        span.set_attribute("paymesh.mch_order_no", "SHOP7")
        context = span.get_span_context()
        got = line(record("refund %s pending", "R1", refund_order_id="R1", pay_order_id="P9"))
    assert got["trace_id"] == f"{context.trace_id:032x}"
    assert got["span_id"] == f"{context.span_id:016x}"
    # The call's own ids win over the span's; the span fills in the rest.
    assert (got["pay_order_id"], got["refund_order_id"], got["mch_order_no"]) == \
        ("P9", "R1", "SHOP7")


def test_an_exception_adds_its_type_and_stack() -> None:
    got = line(record("outbox event failed", exc=True))
    assert got["error"] == "RuntimeError"
    assert "channel unreachable" in str(got["stack"])
