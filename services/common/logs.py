"""Logging set-up shared by every process: one JSON object per line on stderr.

Each line has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``service``, ``logger``,
``message``, and when the event happens inside a trace ``trace_id`` and ``span_id`` (so a log line
leads to its trace: ``paymesh trace TRACE_ID``). Order identifiers are added as their own fields
(``pay_order_id``, ``mch_order_no``, ``refund_order_id``, ``mch_refund_no``, ``notify_id``,
``mch_no``, ``app_id``): those a log call passes with ``extra={"pay_order_id": ...}``, else
those the current span carries. A logged exception adds ``error`` (its type) and ``stack``.

No secret is ever logged: messages name orders and outcomes, never keys, signatures or bodies,
and httpx's request lines (some channel URLs carry credentials) are not logged at all.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

# Fields a log call may pass in ``extra``, in the order they are written.
ORDER_LOG_FIELDS = ("pay_order_id", "mch_order_no", "refund_order_id", "mch_refund_no",
                    "notify_id", "mch_no", "app_id")
# The same identifiers as span attributes (spanattrs), for a call that passes none.
_SPAN_FIELDS = {f"paymesh.{name}": name for name in ORDER_LOG_FIELDS}


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object (see the module docstring)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span()
        context = span.get_span_context()
        if context.is_valid:
            line["trace_id"] = f"{context.trace_id:032x}"
            line["span_id"] = f"{context.span_id:016x}"
        for name in ORDER_LOG_FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str) and value:
                line[name] = value
        attributes = getattr(span, "attributes", None) or {}
        for key, name in _SPAN_FIELDS.items():
            value = attributes.get(key)
            if name not in line and isinstance(value, str) and value:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["stack"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(service: str) -> None:
    """JSON lines on stderr for the whole process, at INFO."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter(service))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # httpx logs every request URL at INFO; some channels put credentials in the query string
    # (WeChat's OAuth token call carries the app secret), and no secret is ever logged.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
