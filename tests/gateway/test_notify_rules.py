"""Merchant-notification rules without a server: schedule, success rule, signing, SSRF check."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest

from paymesh.services.common import signing
from paymesh.services.common.config import ConfigError, MeshConfig
from paymesh.services.gateway.notifications import (
    ATTEMPT_LIMIT,
    SCHEDULE_SECONDS,
    next_state,
    retry_delay,
)
from paymesh.services.gateway.notify_delivery import Outcome, is_acknowledged, refused, signed_form
from paymesh.services.gateway.notify_models import NotifyState
from paymesh.services.gateway.notify_targets import (
    PRIVATE_TARGET,
    is_private_address,
    literal_private_host,
    resolves_private,
)
from paymesh.services.gateway.protocol import CODE_PARAM_ERROR, ApiError
from paymesh.services.gateway.validation import check_notify_target

FAILED = Outcome(500, 3, "oops")
OK = Outcome(200, 3, "SUCCESS", acknowledged=True)


def test_schedule_keeps_jeepays_first_six_attempts_then_a_long_tail() -> None:
    times, elapsed = [0], 0
    for made in range(1, ATTEMPT_LIMIT):
        elapsed += int(retry_delay(made).total_seconds())
        times.append(elapsed)
    assert ATTEMPT_LIMIT == 14
    assert times[:6] == [0, 30, 90, 180, 300, 450]  # JeePay's 0:00 … 7:30
    assert [retry_delay(n) for n in (6, 10, 13)] == [timedelta(minutes=5), timedelta(hours=2),
                                                    timedelta(hours=12)]
    assert times[-1] == sum(SCHEDULE_SECONDS) == 100_350  # ≈ 27 h 52 min
    assert retry_delay(40) == timedelta(hours=12)  # a resend past the end waits the longest


def test_schedule_scale_shrinks_every_delay() -> None:
    assert retry_delay(1, 0.01) == timedelta(seconds=0.3)
    assert retry_delay(3, 0.01) == timedelta(seconds=0.9)


def test_state_after_an_attempt() -> None:
    assert next_state(1, 14, OK, False) == (NotifyState.SUCCESS, None)
    assert next_state(3, 14, FAILED, False) == (NotifyState.SENDING, timedelta(seconds=90))
    assert next_state(14, 14, FAILED, False) == (NotifyState.FAILED, None)
    assert next_state(1, 14, refused(), False) == (NotifyState.FAILED, None)
    # A resend of an acknowledged notification never un-acknowledges it.
    assert next_state(2, 2, FAILED, True) == (NotifyState.SUCCESS, None)


@pytest.mark.parametrize(("status", "body", "ok"), [
    (200, "SUCCESS", True), (200, "success\n", True), (204, "  Success ", True),
    (500, "SUCCESS", False), (302, "SUCCESS", False), (200, "SUCCESS!", False),
    (200, "", False), (200, "ſuccess", False),
])
def test_success_needs_2xx_and_trimmed_success(status: int, body: str, ok: bool) -> None:
    assert is_acknowledged(status, body) is ok


def test_the_form_is_signed_as_jeepay_merchants_verify_it() -> None:
    form = signed_form({"payOrderId": "P1", "amount": 100, "errMsg": None, "extParam": "",
                        "subject": "测试"}, "SECRET", 1717200031000)
    assert set(form) == {"payOrderId", "amount", "subject", "reqTime", "sign"}
    assert form["amount"] == "100" and form["reqTime"] == "1717200031000"
    assert signing.verify(form, "SECRET", "MD5", form["sign"])
    assert not signing.verify({**form, "amount": "101"}, "SECRET", "MD5", form["sign"])


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "0.0.0.0", "100.64.0.1", "240.0.0.1", "224.0.0.1", "::1", "::", "fe80::1", "fc00::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1",
])
def test_private_addresses_are_refused(address: str) -> None:
    assert is_private_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert not is_private_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/n", "http://127.1/n", "http://2130706433/n", "http://0x7f.1/n",
    "http://[::1]:9/n", "http://LOCALHOST./n", "https://api.localhost/n", "http://10.0.0.8/n",
    "http://169.254.169.254/latest/meta-data",
])
def test_private_literals_are_seen_without_dns(url: str) -> None:
    assert literal_private_host(url)


@pytest.mark.parametrize("url", ["https://shop.example.com/notify", "http://8.8.8.8/n"])
def test_public_urls_and_names_pass_the_order_time_check(url: str) -> None:
    assert not literal_private_host(url)
    check_notify_target(url, allow_private=False)


def test_order_time_refusal_names_notify_url_unless_the_app_is_allowed() -> None:
    with pytest.raises(ApiError) as refusal:
        check_notify_target("http://127.0.0.1:9/n", allow_private=False)
    assert refusal.value.code == CODE_PARAM_ERROR and "notifyUrl" in refusal.value.msg
    check_notify_target("http://127.0.0.1:9/n", allow_private=True)
    check_notify_target(None, allow_private=False)


async def test_delivery_time_check_resolves_names() -> None:
    assert await resolves_private("http://localhost:1/n")
    assert await resolves_private("http://[::1]/n")
    assert not await resolves_private("http://8.8.8.8/n")
    with pytest.raises(OSError):
        await resolves_private("http://no-such-host.invalid/n")
    assert refused().error == PRIVATE_TARGET


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "nan", "inf", "1001"])
def test_a_bad_schedule_scale_fails_fast(raw: str) -> None:
    with pytest.raises(ConfigError, match="PAYMESH_NOTIFY_SCHEDULE_SCALE"):
        MeshConfig.from_env({"PAYMESH_NOTIFY_SCHEDULE_SCALE": raw})


def test_schedule_scale_defaults_to_real_time() -> None:
    assert MeshConfig.from_env({}).notify_schedule_scale == 1.0
    assert MeshConfig.from_env({"PAYMESH_NOTIFY_SCHEDULE_SCALE": "0.01"}
                               ).notify_schedule_scale == 0.01
