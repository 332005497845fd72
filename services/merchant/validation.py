"""The merchant domain's field rules: pure checks and normalizations, no database, no gRPC.

Each rule raises InvalidArgument naming the offending field, so the caller can map it to a status
without knowing which rule failed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from paymesh.services.common.errors import InvalidArgument
from paymesh.services.common.waycodes import IF_CODES
from paymesh.services.merchant.models import (
    REFUND_KEEP,
    REFUND_RETURN_PRO_RATA,
    ROUNDING_CEILING,
    ROUNDING_HALF_UP,
    STATES,
)

SANDBOX = "sandbox"
_FEE_RATE = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)


MAX_WEIGHT = 10_000
MAX_PRIORITY = 1_000
MAX_FEE_FIXED = 100_000_000  # fen: one million yuan


@dataclass(frozen=True)
class PassageRouting:
    """How the gateway weighs a passage: priority (higher first), weight, amount limits in fen."""

    priority: int = 0
    weight: int = 1
    max_amount: int = 0
    daily_limit: int = 0


@dataclass(frozen=True)
class PassageFees:
    """A passage's merchant fee model (money-and-reconciliation §5.2) and the channel's rate.

    Amounts in fen (0 for floor and cap: none); rates are decimal strings; rounding and
    refund_rule are the stored codes (0: the default), ``channel_cost_rate`` None when unknown.
    """

    rate: str = "0"
    fixed: int = 0
    floor: int = 0
    cap: int = 0
    rounding: int = 0
    refund_rule: int = 0
    channel_cost_rate: str | None = None


def check_routing(routing: PassageRouting) -> PassageRouting:
    """The routing settings with defaults applied; a bad value names its field."""
    if not -MAX_PRIORITY <= routing.priority <= MAX_PRIORITY:
        raise InvalidArgument("priority",
                              f"priority must be from -{MAX_PRIORITY} to {MAX_PRIORITY}")
    weight = routing.weight or 1
    if not 1 <= weight <= MAX_WEIGHT:
        raise InvalidArgument("weight", f"weight must be from 1 to {MAX_WEIGHT}")
    if routing.max_amount < 0:
        raise InvalidArgument("max_amount_per_order",
                              "max_amount_per_order must be ≥ 0 fen (0: no limit)")
    if routing.daily_limit < 0:
        raise InvalidArgument("daily_amount_limit",
                              "daily_amount_limit must be ≥ 0 fen (0: no limit)")
    return PassageRouting(routing.priority, weight, routing.max_amount, routing.daily_limit)


def parse_fee_rate(text: str) -> str:
    """A fee rate as stored: plain decimal, 0 <= rate < 1, at most 6 places, normalized."""
    return parse_rate(text, "fee_rate")


def parse_rate(text: str, field: str) -> str:
    """A rate named ``field`` as stored: plain decimal, 0 <= rate < 1, at most 6 places."""
    text = text.strip() or "0"
    if not _FEE_RATE.fullmatch(text):
        raise InvalidArgument(field, f"{field} must be a decimal like 0.006, got {text!r}")
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise InvalidArgument(field, f"{field} {text!r} is not a decimal") from None
    if not Decimal(0) <= rate < Decimal(1):
        raise InvalidArgument(field, f"{field} must be at least 0 and below 1")
    if rate == 0:
        return "0"
    normal = rate.normalize()
    if -int(normal.as_tuple().exponent) > 6:
        raise InvalidArgument(field, f"{field} has more than 6 decimal places")
    return format(normal, "f")


def check_fees(fees: PassageFees) -> PassageFees:
    """The fee model as stored: rates normalized, enums defaulted; a bad value names its field.

    The gateway snapshots it on every order and computes the fee from it
    (money-and-reconciliation §5.2); 0 for floor and cap means "none".
    """
    rate = parse_fee_rate(fees.rate)
    if not 0 <= fees.fixed <= MAX_FEE_FIXED:
        raise InvalidArgument("fee_fixed", f"fee_fixed must be from 0 to {MAX_FEE_FIXED} fen")
    if fees.floor < 0:
        raise InvalidArgument("fee_floor", "fee_floor must be ≥ 0 fen (0: no floor)")
    if fees.cap < 0:
        raise InvalidArgument("fee_cap", "fee_cap must be ≥ 0 fen (0: no cap)")
    if fees.floor and fees.cap and fees.cap < fees.floor:
        raise InvalidArgument("fee_cap", f"fee_cap {fees.cap} is below fee_floor {fees.floor}")
    rounding = fees.rounding or ROUNDING_HALF_UP
    if rounding not in (ROUNDING_HALF_UP, ROUNDING_CEILING):
        raise InvalidArgument("fee_rounding", "fee_rounding must be HALF_UP or CEILING")
    refund_rule = fees.refund_rule or REFUND_RETURN_PRO_RATA
    if refund_rule not in (REFUND_RETURN_PRO_RATA, REFUND_KEEP):
        raise InvalidArgument("refund_fee_rule", "refund_fee_rule must be RETURN_PRO_RATA or KEEP")
    cost = fees.channel_cost_rate.strip() if fees.channel_cost_rate else ""
    return PassageFees(rate, fees.fixed, fees.floor, fees.cap, rounding, refund_rule,
                       parse_rate(cost, "channel_cost_rate") if cost else None)


def parse_name(value: str) -> str:
    """A merchant or app name as stored: trimmed, 1..64 characters."""
    value = value.strip()
    if not 1 <= len(value) <= 64:
        raise InvalidArgument("name", "name must be 1..64 characters")
    return value


def parse_contact(value: str) -> str:
    """A merchant contact as stored: trimmed, at most 128 characters, may be empty."""
    value = value.strip()
    if len(value) > 128:
        raise InvalidArgument("contact", "contact must be at most 128 characters")
    return value


def check_state(state: int) -> None:
    """Refuses a stored state code other than ACTIVE or DISABLED."""
    if state not in STATES:
        raise InvalidArgument("state", "state must be ACTIVE or DISABLED")


def check_if_code(if_code: str, field: str) -> None:
    """Refuses an ifCode no channel implements, blaming ``field``."""
    if if_code not in IF_CODES:
        raise InvalidArgument(field, f"unknown ifCode {if_code!r}; one of {sorted(IF_CODES)}")


def parse_channel_params(if_code: str, params_json: str) -> dict[str, object]:
    """The parameters to seal; sandbox gets a generated signing key when none is given."""
    params: dict[str, object] = {}
    if params_json.strip():
        try:
            parsed = json.loads(params_json)
        except ValueError:
            raise InvalidArgument("params_json", "params_json is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise InvalidArgument("params_json", "params_json must be a JSON object")
        params = parsed
    if if_code == SANDBOX:
        if not params.get("key"):
            params["key"] = secrets.token_urlsafe(32)
    elif not params:
        raise InvalidArgument("params_json", f"{if_code} needs its channel parameters")
    return params


def encode_cursor(created_at: datetime, mch_no: str) -> str:
    """The opaque page token that resumes a merchant listing after this merchant."""
    raw = json.dumps([created_at.isoformat(), mch_no]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(token: str) -> tuple[datetime, str]:
    """The position an ``encode_cursor`` token names; anything else is an invalid page token."""
    try:
        created_at, mch_no = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        return datetime.fromisoformat(created_at), str(mch_no)
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise InvalidArgument("page.page_token", "page_token is not a valid cursor") from None
