"""Test controls under ``/__sim/`` (never part of WeChat's API) and deliberately bad callbacks.

| request | effect |
|---|---|
| ``POST /__sim/pay {"out_trade_no", "openid"?}`` | the payer pays (or enters the password) |
| ``POST /__sim/fail {"out_trade_no"}`` | the payment fails (PAYERROR) |
| ``POST /__sim/ask-password {}`` | the next barcode payment answers USERPAYING |
| ``POST /__sim/refund {"out_refund_no", "status"}`` | a refund ends SUCCESS/ABNORMAL/CLOSED |
| ``POST /__sim/refund-mode {"outcome"}`` | new refunds start PROCESSING or end at once |
| ``POST /__sim/fault {"kind", "path"?, "count"?, "seconds"?, "process"?}`` | bend next answer |
| ``POST /__sim/callback {"ref", "variant"?, "signer"?}`` | send one callback now |
| ``POST /__sim/callback-signer {"signer"}`` | sign callbacks by publickey or certificate |
| ``POST /__sim/clock {"advance"}`` | move the simulator's clock (seconds) |
| ``POST /__sim/bill-ready {"day"?}`` | the day's bill (default today) can be downloaded now |
| ``POST /__sim/bill-mistake {"kind", "ref", "day"?, "amount"?, "fee"?, "status"?}`` | the bill \
disagrees about one order/refund: ``amount``, ``fee``, ``status``, ``omit``, ``extra`` |
| ``GET /__sim/book``, ``GET /__sim/deliveries?ref=`` | read the book and the delivery log |

Callback variants: ``normal``, ``duplicate`` (the same bytes twice), ``signtest`` (a
``WECHATPAY/SIGNTEST/`` probe), ``stale`` (signed 10 minutes ago), ``tampered`` (body changed
after signing), ``unknown_serial``, ``wrong_key``, ``bad_apiv3key`` (resource sealed with another
key), ``other_merchant`` (another merchant's order), ``amount`` (total + 1, properly signed: only
the caller's cross-check catches it).
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from paymesh.services.simulators.wxpay.api import ApiError
from paymesh.services.simulators.wxpay.keys import new_rsa_key, random_text, sign_sha256_rsa
from paymesh.services.simulators.wxpay.notifier import Notification
from paymesh.services.simulators.wxpay.server import Fault

if TYPE_CHECKING:
    from paymesh.services.simulators.wxpay.simulator import WxpaySimulator

VARIANTS = frozenset({"normal", "duplicate", "signtest", "stale", "tampered", "unknown_serial",
                      "wrong_key", "bad_apiv3key", "other_merchant", "amount"})


def handle(sim: WxpaySimulator, method: str, target: str, body: bytes) -> tuple[int, Any]:
    """Routes one control request; answers ``(status, JSON)``."""
    path, _, query = target.partition("?")
    args = {k: v[-1] for k, v in parse_qs(query).items()}
    try:
        data = json.loads(body or b"{}") if method == "POST" else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return 200, _route(sim, method, path.removeprefix("/__sim/"), data, args)
    except ApiError as refusal:
        return refusal.status, {"code": refusal.code, "message": refusal.message}
    except (ValueError, KeyError, TypeError) as problem:
        return 400, {"code": "PARAM_ERROR", "message": repr(problem)}


def _route(sim: WxpaySimulator, method: str, name: str, data: dict[str, Any],
           args: dict[str, str]) -> Any:
    if method == "GET" and name == "book":
        with sim.lock:
            return sim.book.snapshot()
    if method == "GET" and name == "deliveries":
        return sim.deliveries(args.get("ref", ""))
    if method == "GET" and name == "params":
        return sim.adapter_params(isv=args.get("isv") == "1", mode=args.get("mode", "both"))
    if method != "POST":
        raise ApiError(404, "NOT_FOUND", f"no control {method} /__sim/{name}")
    if name == "pay":
        return sim.pay(data["out_trade_no"], str(data.get("openid") or ""))
    if name == "fail":
        return sim.fail(data["out_trade_no"])
    if name == "ask-password":
        sim.ask_password()
        return {}
    if name == "refund":
        return sim.finish_refund(data["out_refund_no"], str(data.get("status") or "SUCCESS"))
    if name == "refund-mode":
        outcome = str(data["outcome"])
        if outcome not in ("PROCESSING", "SUCCESS", "ABNORMAL", "CLOSED"):
            raise ValueError("outcome must be PROCESSING, SUCCESS, ABNORMAL or CLOSED")
        sim.api.refund_outcome = outcome
        return {}
    if name == "fault":
        sim.faults.add(Fault(str(data["kind"]), str(data.get("path") or ""),
                             int(data.get("count") or 1), float(data.get("seconds") or 0),
                             bool(data.get("process", True))))
        return {}
    if name == "callback":
        status = send_variant(sim, str(data["ref"]), str(data.get("variant") or "normal"),
                              str(data.get("signer") or ""))
        return {"status": status}
    if name == "callback-signer":
        if data["signer"] not in ("publickey", "certificate"):
            raise ValueError("signer must be publickey or certificate")
        sim.notifier.signer = data["signer"]
        return {}
    if name == "bill-ready":
        return {"day": sim.close_bill_day(str(data.get("day") or ""))}
    if name == "bill-mistake":
        amount, fee = data.get("amount"), data.get("fee")
        planted = sim.plant_bill_mistake(
            str(data["kind"]), str(data["ref"]), day=str(data.get("day") or ""),
            amount=None if amount is None else int(amount), fee=None if fee is None else int(fee),
            status=str(data.get("status") or ""))
        return {"kind": planted.kind, "ref": planted.ref, "day": planted.day}
    if name == "clock":
        sim.clock_offset += float(data["advance"])
        return {"now": sim.now()}
    raise ApiError(404, "NOT_FOUND", f"no control POST /__sim/{name}")


def send_variant(sim: WxpaySimulator, ref: str, variant: str, signer: str) -> int | None:
    """Sends one callback (good or deliberately bad) about order or refund ``ref``, once."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {sorted(VARIANTS)}")
    with sim.lock:
        order = sim.book.find_order(ref)
        if order is not None:
            event_type, url, resource = "TRANSACTION.SUCCESS", order.notify_url, \
                order.transaction()
        else:
            refund = sim.book.find_refund(ref)
            if refund is None:
                raise ApiError(404, "ORDER_NOT_EXIST", f"no order or refund {ref}")
            event_type, url, resource = f"REFUND.{refund.status}", refund.notify_url, \
                refund.resource()
    if not url:
        raise ApiError(400, "PARAM_ERROR", f"{ref} has no notify_url")
    owner = "sp_mchid" if "sp_mchid" in resource else "mchid"
    if variant == "other_merchant":
        resource[owner] = "19" + random_text(8, "0123456789")
    if variant == "amount":
        resource["amount"]["total"] += 1
    sealed_with = random_text(32) if variant == "bad_apiv3key" else None
    notifier = sim.notifier
    body = notifier.envelope(event_type, resource, api_v3_key=sealed_with)
    timestamp = int(sim.now()) - 600 if variant == "stale" else None
    serial = secrets.token_hex(20).upper() if variant == "unknown_serial" else None
    headers = notifier.headers(body, signer=signer or None, timestamp=timestamp, serial=serial)
    if variant == "signtest":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + base64.b64encode(
            secrets.token_bytes(256)).decode("ascii")
    if variant == "wrong_key":
        message = (f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n".encode()
                   + body + b"\n")
        headers["Wechatpay-Signature"] = sign_sha256_rsa(new_rsa_key(), message)
    if variant == "tampered":
        body = body.replace("支付成功".encode(), "支付失败".encode()).replace(
            "退款成功".encode(), "退款失败".encode()) + b" "
    note = Notification(json.loads(body)["id"], event_type, ref, url, body)
    status = notifier.send_once(note, headers)
    if variant == "duplicate":
        status = notifier.send_once(note, headers)
    return status
