"""The ``/__sim/`` test controls: what a payer, a clock or a faulty network would do.

Kept apart from the gateway so nothing under ``/gateway.do`` can reach them. See the route table
in :mod:`.server`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from paymesh.services.simulators.alipay.book import Refusal, Trade
from paymesh.services.simulators.alipay.gateway import JSON_TYPE, Fault, Reply, verify_order_string

if TYPE_CHECKING:
    from paymesh.services.simulators.alipay.server import AlipaySimulator

_FAULT_FIELDS = {f.name for f in dataclasses.fields(Fault)}


class Controls:
    """Runs one control request against the simulator's state."""

    def __init__(self, sim: AlipaySimulator) -> None:
        self.sim = sim

    def run(self, verb: str, name: str, body: bytes) -> Reply:
        """The JSON answer to ``verb /__sim/<name>``; 409 for a refused action."""
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            if name == "app_pay":
                pairs = dict(parse_qsl(str(data.get("order_string", "")),
                                       keep_blank_values=True))
                return verify_order_string(self.sim.gateway, pairs)
            handler = getattr(self, f"{verb.lower()}_{name}", None)
            if handler is None:
                return _json(404, {"error": f"no control {verb} /__sim/{name}"})
            if name == "notify":  # sends synchronously: never while holding the book's lock
                return _json(200, handler(data))
            with self.sim.gateway.lock:
                return _json(200, handler(data))
        except Refusal as refusal:
            return _json(409, {"sub_code": refusal.sub_code, "sub_msg": refusal.sub_msg})
        except (ValueError, KeyError, TypeError) as error:
            return _json(400, {"error": str(error)})

    def _trade(self, data: dict[str, Any]) -> Trade:
        out_trade_no = str(data["out_trade_no"])
        for trade in self.sim.book.trades.values():
            if trade.out_trade_no == out_trade_no:
                return trade
        raise Refusal("ACQ.TRADE_NOT_EXIST", "交易不存在")

    def post_pay(self, data: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(data)
        if trade.awaiting_password:
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "等待用户输入密码: use /__sim/password")
        self.sim.methods.settle(trade, str(data.get("buyer_id") or ""))
        return trade.as_json()

    def post_scan(self, data: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(data)
        trade.seen = True
        return trade.as_json()

    def post_fail(self, data: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(data)
        if trade.status != "WAIT_BUYER_PAY":
            raise Refusal("ACQ.TRADE_STATUS_ERROR", f"交易状态为 {trade.status}")
        trade.seen = True
        self.sim.methods.end(trade, "TRADE_CLOSED")
        return trade.as_json()

    def post_finish(self, data: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(data)
        if trade.status != "TRADE_SUCCESS":
            raise Refusal("ACQ.TRADE_STATUS_ERROR", f"交易状态为 {trade.status}")
        self.sim.methods.end(trade, "TRADE_FINISHED")
        return trade.as_json()

    def post_barcode(self, data: dict[str, Any]) -> dict[str, Any]:
        mode = str(data.get("mode", "pay"))
        if mode not in ("pay", "password", "insufficient"):
            raise ValueError("mode must be pay, password or insufficient")
        self.sim.methods.barcode_modes[str(data["auth_code"])] = mode
        return {"auth_code": data["auth_code"], "mode": mode}

    def post_password(self, data: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(data)
        if not trade.awaiting_password:
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易未在等待用户输入密码")
        if data.get("result", "pay") == "pay":
            trade.awaiting_password = False
            self.sim.methods.settle(trade, "")
        else:
            self.sim.methods.end(trade, "TRADE_CLOSED")
        return trade.as_json()

    def post_fault(self, data: dict[str, Any]) -> dict[str, Any]:
        times = int(data.pop("times", 1))
        fault = Fault(**{k: v for k, v in data.items() if k in _FAULT_FIELDS})
        self.sim.gateway.faults.extend(dataclasses.replace(fault) for _ in range(times))
        return {"queued": len(self.sim.gateway.faults)}

    def post_notify(self, data: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(data)
        if trade.out_trade_no not in self.sim.notifier.last_forms:
            raise Refusal("ACQ.NOTIFY_NOT_EXIST", "this trade has not been notified yet")
        form = self.sim.notifier.variant(trade.out_trade_no, str(data["variant"]),
                                         self.sim.other_key)
        url = str(data.get("url") or trade.notify_url)
        acknowledged = self.sim.notifier.send(url, form, variant=str(data["variant"]))
        entry = self.sim.notifier.entries()[-1]
        return {"acknowledged": acknowledged, "status": entry["status"], "body": entry["body"],
                "form": entry["form"]}

    def post_advance(self, data: dict[str, Any]) -> dict[str, Any]:
        self.sim.advance(float(data["seconds"]))
        return {"now": self.sim.now()}

    def post_oauth(self, data: dict[str, Any]) -> dict[str, Any]:
        user_id, id_type = data.get("user_id"), data.get("id_type")
        return self.sim.oauth.configure(None if user_id is None else str(user_id),
                                        None if id_type is None else str(id_type))

    def post_bill_mistake(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.sim.bills.plant(data)

    def get_book(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"trades": [trade.as_json() for trade in self.sim.book.trades.values()]}

    def get_deliveries(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"deliveries": self.sim.notifier.entries()}


def _json(status: int, data: Any) -> Reply:
    return Reply(status, JSON_TYPE, json.dumps(data, ensure_ascii=False).encode("utf-8"))
