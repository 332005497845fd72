"""The merchant-facing APIv3 endpoints of the simulator, with WeChat's paths and error codes."""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from paymesh.services.simulators.wxpay.book import TRADE_TYPES, Book, SimOrder, SimRefund
from paymesh.services.simulators.wxpay.keys import SimKeys
from paymesh.services.simulators.wxpay.notifier import Notifier

_OUT_NO = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")
_AUTH_CODE = re.compile(r"1[0-5][0-9]{16}")
_ORDER = re.compile(r"/v3/pay/(partner/)?transactions/(native|jsapi|app|h5|codepay)")
_BY_NO = re.compile(r"/v3/pay/(partner/)?transactions/out-trade-no/([^/]+)(/close|/reverse)?")
_BY_ID = re.compile(r"/v3/pay/(partner/)?transactions/id/([^/]+)")
_REFUND = re.compile(r"/v3/refund/domestic/refunds(?:/([^/]+))?")


class ApiError(Exception):
    """An error answer: HTTP status plus WeChat's ``{"code","message"}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Owner:
    """Who a request acts for: a direct merchant, or a service provider's sub-merchant."""

    mch_id: str
    sub_mch_id: str = ""


class MerchantApi:
    """Routes authenticated requests to the book; every answer is (status, JSON or None)."""

    def __init__(self, keys: SimKeys, book: Book, lock: threading.RLock, notifier: Notifier,
                 clock: Callable[[], float],
                 openid_app: Callable[[str], str | None] = lambda openid: None) -> None:
        self._keys, self._book, self._lock = keys, book, lock
        self._notifier, self._clock = notifier, clock
        self._openid_app = openid_app
        self.codepay_outcomes: deque[str] = deque()
        self.refund_outcome = "PROCESSING"

    def handle(self, method: str, path: str, query: str, body: bytes,
               mch_id: str) -> tuple[int, dict[str, Any] | None]:
        """One request from an authenticated merchant."""
        args = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        data = _json(body) if method == "POST" else {}
        with self._lock:
            if method == "POST" and (m := _ORDER.fullmatch(path)):
                return 200, self._create(data, mch_id, bool(m.group(1)), m.group(2))
            if m := _BY_NO.fullmatch(path):
                partner, out_trade_no, action = bool(m.group(1)), unquote(m.group(2)), m.group(3)
                if method == "GET" and not action:
                    return 200, self._order(self._query_owner(args, mch_id, partner),
                                            out_trade_no).transaction()
                if method == "POST" and action == "/close":
                    return self._close(self._body_owner(data, mch_id, partner, False),
                                       out_trade_no)
                if method == "POST" and action == "/reverse":
                    return self._reverse(self._body_owner(data, mch_id, partner, True),
                                         out_trade_no)
            if method == "GET" and (m := _BY_ID.fullmatch(path)):
                owner = self._query_owner(args, mch_id, bool(m.group(1)))
                order = self._book.order_by_transaction(owner.mch_id, owner.sub_mch_id,
                                                        unquote(m.group(2)))
                if order is None:
                    raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
                return 200, order.transaction()
            if m := _REFUND.fullmatch(path):
                if method == "POST" and m.group(1) is None:
                    return 200, self._refund(data, mch_id)
                if method == "GET" and m.group(1):
                    refund = self._book.refunds.get(
                        (mch_id, args.get("sub_mchid", ""), unquote(m.group(1))))
                    if refund is None:
                        raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
                    return 200, refund.answer()
        raise ApiError(404, "NOT_FOUND", "请求的资源不存在")

    def _create(self, data: dict[str, Any], mch_id: str, partner: bool,
                endpoint: str) -> dict[str, Any]:
        owner = self._body_owner(data, mch_id, partner, True)
        out_trade_no = _required(data, "out_trade_no")
        if not _OUT_NO.fullmatch(out_trade_no):
            raise ApiError(400, "PARAM_ERROR", "out_trade_no格式错误")
        _required(data, "description")
        amount = _object(data, "amount")
        total = amount.get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 1:
            raise ApiError(400, "PARAM_ERROR", "输入源“/body/amount/total”映射到值字段“总金额”"
                                               "字段值“null”无效")
        if amount.get("currency", "CNY") != "CNY":
            raise ApiError(400, "PARAM_ERROR", "币种不支持")
        notify_url = ""
        if endpoint != "codepay":
            notify_url = _required(data, "notify_url")
            if not notify_url.startswith(("https://", "http://")) or "?" in notify_url:
                raise ApiError(400, "PARAM_ERROR", "notify_url格式错误,不支持携带查询串")
        payer = self._payer(data, endpoint, partner)
        fingerprint = json.dumps([endpoint, total, data["description"], payer], sort_keys=True)
        order = self._book.order(owner.mch_id, owner.sub_mch_id, out_trade_no)
        if order is not None:
            if order.fingerprint != fingerprint:
                raise ApiError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            if order.trade_state in ("SUCCESS", "REFUND"):
                raise ApiError(403, "ORDERPAID", "该订单已支付")
            if order.trade_state in ("CLOSED", "REVOKED"):
                raise ApiError(400, "ORDER_CLOSED", "订单已关闭")
        else:
            order = SimOrder(
                mch_id=owner.mch_id, sub_mch_id=owner.sub_mch_id,
                app_id=str(data.get("sp_appid" if partner else "appid")),
                sub_app_id=str(data.get("sub_appid") or ""), out_trade_no=out_trade_no,
                trade_type=TRADE_TYPES[endpoint], total=total,
                description=str(data["description"]), notify_url=notify_url,
                payer={} if endpoint == "codepay" else payer, fingerprint=fingerprint,
                created_at=self._clock())
            self._book.orders[(owner.mch_id, owner.sub_mch_id, out_trade_no)] = order
            if endpoint == "codepay":
                self._charge_barcode(order, payer["auth_code"])
        if endpoint == "native":
            return {"code_url": f"weixin://wxpay/bizpayurl?pr={order.prepay_id[-10:]}"}
        if endpoint == "h5":
            return {"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?"
                              f"prepay_id={order.prepay_id}&package={secrets.randbelow(10**10)}"}
        if endpoint == "codepay":
            if order.trade_state == "PAYERROR":
                raise ApiError(403, "NOT_ENOUGH", "用户账户余额不足")
            return order.transaction()
        return {"prepay_id": order.prepay_id}

    def _charge_barcode(self, order: SimOrder, auth_code: str) -> None:
        """Default SUCCESS; a queued outcome or an auth code ending 0001/0002 says otherwise."""
        outcome = self.codepay_outcomes.popleft() if self.codepay_outcomes else (
            {"0001": "USERPAYING", "0002": "PAYERROR"}.get(auth_code[-4:], "SUCCESS"))
        order.move(outcome, self._clock())
        if outcome == "SUCCESS":
            order.payer = {"sp_openid" if order.sub_mch_id else "openid":
                           "oBar" + secrets.token_hex(12)}

    def _payer(self, data: dict[str, Any], endpoint: str, partner: bool) -> dict[str, str]:
        payer = _object(data, "payer")
        if endpoint == "jsapi":
            names = ("sp_openid", "sub_openid") if partner else ("openid",)
            given = {n: str(payer[n]) for n in names if payer.get(n)}
            if len(given) != 1:
                raise ApiError(400, "PARAM_ERROR", "payer.openid不能为空")
            if "sub_openid" in given and not data.get("sub_appid"):
                raise ApiError(400, "PARAM_ERROR", "sub_openid需要sub_appid")
            # An openid is only good with the appid it was issued for (when the OAuth here
            # issued it; openids it never issued are taken on trust).
            (name, openid), = given.items()
            app_field = {"sub_openid": "sub_appid", "sp_openid": "sp_appid"}.get(name, "appid")
            issued_to = self._openid_app(openid)
            if issued_to is not None and issued_to != data.get(app_field):
                raise ApiError(400, "PARAM_ERROR", f"{name}和{app_field}不匹配")
            return given
        if endpoint == "codepay":
            code = str(payer.get("auth_code") or "")
            if not _AUTH_CODE.fullmatch(code):
                raise ApiError(400, "PARAM_ERROR", "付款码无效,请重新扫码")
            scene = data.get("scene_info")
            store = scene.get("store_info") if isinstance(scene, dict) else None
            if not isinstance(store, dict) or not store.get("out_id"):
                raise ApiError(400, "PARAM_ERROR", "scene_info.store_info.out_id不能为空")
            return {"auth_code": code}
        if endpoint == "h5":
            scene = data.get("scene_info")
            if not isinstance(scene, dict) or not scene.get("payer_client_ip") \
                    or not isinstance(scene.get("h5_info"), dict):
                raise ApiError(400, "PARAM_ERROR", "H5下单需要scene_info.payer_client_ip和h5_info")
        return {}

    def _close(self, owner: Owner, out_trade_no: str) -> tuple[int, None]:
        order = self._order(owner, out_trade_no)
        if order.trade_state in ("SUCCESS", "REFUND"):
            raise ApiError(400, "ORDERPAID", "订单已支付,不能关闭")
        if order.trade_state in ("NOTPAY", "USERPAYING"):
            order.move("CLOSED", self._clock())
        return 204, None

    def _reverse(self, owner: Owner, out_trade_no: str) -> tuple[int, None]:
        order = self._order(owner, out_trade_no)
        if order.trade_type != "MICROPAY":
            raise ApiError(400, "INVALID_REQUEST", "只有付款码支付订单可以撤销")
        if order.trade_state == "REFUND":
            raise ApiError(400, "INVALID_REQUEST", "订单已发生退款,不能撤销")
        order.move("REVOKED", self._clock())
        return 200, None

    def _refund(self, data: dict[str, Any], mch_id: str) -> dict[str, Any]:
        sub_mch_id = str(data.get("sub_mchid") or "")
        if sub_mch_id and sub_mch_id != self._keys.sub_mch_id:
            raise ApiError(403, "NO_AUTH", "特约商户号未与服务商建立受理关系")
        owner = Owner(mch_id, sub_mch_id)
        order = self._order(owner, _required(data, "out_trade_no"), missing="RESOURCE_NOT_EXISTS")
        out_refund_no = _required(data, "out_refund_no")
        amount = _object(data, "amount")
        refund, total = amount.get("refund"), amount.get("total")
        if not isinstance(refund, int) or not isinstance(total, int) or refund < 1:
            raise ApiError(400, "PARAM_ERROR", "amount.refund和amount.total必须为正整数")
        if total != order.total:
            raise ApiError(400, "PARAM_ERROR", "订单金额与原订单不一致")
        key = (mch_id, sub_mch_id, out_refund_no)
        existing = self._book.refunds.get(key)
        if existing is not None:
            if (existing.order is not order) or existing.refund != refund:
                raise ApiError(400, "INVALID_REQUEST", "退款单号重复,且参数与原请求不一致")
            return existing.answer()
        if order.trade_state not in ("SUCCESS", "REFUND"):
            raise ApiError(400, "INVALID_REQUEST", "订单未支付,不能退款")
        if order.refunded + refund > order.total:
            raise ApiError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        created = SimRefund(order, out_refund_no, refund, str(data.get("reason") or ""),
                            str(data.get("notify_url") or ""), self._clock())
        self._book.refunds[key] = created
        order.refunded += refund
        order.move("REFUND", self._clock())
        if self.refund_outcome != "PROCESSING":
            self.finish_refund(created, self.refund_outcome)
        return created.answer()

    def finish_refund(self, refund: SimRefund, status: str) -> None:
        """Ends a PROCESSING refund and calls back its notify_url (caller holds the lock)."""
        if refund.status != "PROCESSING":
            raise ApiError(400, "INVALID_REQUEST", f"退款单已是{refund.status}")
        refund.finish(status, self._clock())
        self._notifier.deliver(f"REFUND.{status}", refund.out_refund_no, refund.notify_url,
                               refund.resource())

    def _order(self, owner: Owner, out_trade_no: str, missing: str = "ORDER_NOT_EXIST"
               ) -> SimOrder:
        order = self._book.order(owner.mch_id, owner.sub_mch_id, out_trade_no)
        if order is None:
            raise ApiError(404, missing, "订单不存在")
        return order

    def _body_owner(self, data: dict[str, Any], mch_id: str, partner: bool,
                    with_app: bool) -> Owner:
        prefix = "sp_" if partner else ""
        if data.get(f"{prefix}mchid") != mch_id:
            raise ApiError(400, "PARAM_ERROR", f"{prefix}mchid与请求头中的商户号不一致")
        if with_app and data.get(f"{prefix}appid") != self._keys.app_id:
            raise ApiError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        if not partner:
            return Owner(mch_id)
        if data.get("sub_mchid") != self._keys.sub_mch_id:
            raise ApiError(403, "NO_AUTH", "特约商户号未与服务商建立受理关系")
        if data.get("sub_appid") not in (None, self._keys.sub_app_id):
            raise ApiError(400, "APPID_MCHID_NOT_MATCH", "sub_appid和sub_mchid不匹配")
        return Owner(mch_id, self._keys.sub_mch_id)

    def _query_owner(self, args: dict[str, str], mch_id: str, partner: bool) -> Owner:
        if not partner:
            if args.get("mchid") != mch_id:
                raise ApiError(400, "PARAM_ERROR", "mchid与请求头中的商户号不一致")
            return Owner(mch_id)
        if args.get("sp_mchid") != mch_id:
            raise ApiError(400, "PARAM_ERROR", "sp_mchid与请求头中的商户号不一致")
        if args.get("sub_mchid") != self._keys.sub_mch_id:
            raise ApiError(403, "NO_AUTH", "特约商户号未与服务商建立受理关系")
        return Owner(mch_id, self._keys.sub_mch_id)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise ApiError(400, "PARAM_ERROR", "请求体不是合法的JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "PARAM_ERROR", "请求体必须是JSON对象")
    return data


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _required(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, "PARAM_ERROR", f"{name}不能为空")
    return value
