"""The aggregated-QR cashier identifies the payer inside the Alipay app (auth_base), then pays
ALI_JSAPI with that id: the link, the simulator's redirect, and the code exchange."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.channel.adapters.base import ChannelState, PayerIdentification
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.simulators.alipay import APP_ID, AlipaySimulator

from . import order

RETURN = "https://pay.example.com/cashier/tok_1/return?way=ALI_JSAPI"
PAYER = "2088102177846880"


async def authorised_code(adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any],
                          state: str = "P1") -> str:
    """What the payer's browser does: open the link, follow Alipay's 302, read auth_code."""
    url = await adapter.user_auth_url(params, RETURN, state)
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(url)
    assert answer.status_code == 302, answer.text
    back = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    return back["auth_code"]


def test_the_adapter_offers_payer_identification(adapter: AlipayAdapter) -> None:
    assert isinstance(adapter, PayerIdentification)


async def test_the_link_is_alipays_auth_base_authorisation(
        adapter: AlipayAdapter, params: dict[str, Any]) -> None:
    production = {k: v for k, v in params.items() if k != "oauthBase"}
    url = await adapter.user_auth_url(production, RETURN, "P 1&x")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", "openauth.alipay.com", "/oauth2/publicAppAuthorize.htm")
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("app_id", APP_ID), ("scope", "auth_base"), ("redirect_uri", RETURN), ("state", "P 1&x")]
    # The redirect URI travels fully encoded, its own query string included.
    assert f"redirect_uri={quote(RETURN, safe='')}&" in parts.query
    custom = await adapter.user_auth_url({**production, "oauthBase": "http://sim:9/"}, RETURN, "s")
    assert custom.startswith("http://sim:9/oauth2/publicAppAuthorize.htm?app_id=")


async def test_a_bad_oauth_base_is_a_configuration_error(
        adapter: AlipayAdapter, params: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as refused:
        await adapter.user_auth_url({**params, "oauthBase": "openauth.alipay.com"}, RETURN, "s")
    assert refused.value.reason == "CHANNEL_CONFIG_INVALID"


async def test_the_simulator_returns_to_the_redirect_uri_with_auth_code(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    url = await adapter.user_auth_url(params, RETURN, "P42")
    assert url.startswith(sim.base_url + "/oauth2/publicAppAuthorize.htm?")
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(url)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert location._replace(query="").geturl() == "https://pay.example.com/cashier/tok_1/return"
    back = dict(parse_qsl(location.query))
    assert back["way"] == "ALI_JSAPI"  # the cashier's own parameter survives
    assert (back["app_id"], back["state"], back["scope"]) == (APP_ID, "P42", "auth_base")
    assert len(back["auth_code"]) >= 16 and "code" not in back  # Alipay's name: auth_code


@pytest.mark.parametrize(("change", "problem"), [
    ({"app_id": "2021999999999999"}, "invalid-app-id"),
    ({"scope": "auth_everything"}, "invalid-scope"),
    ({"redirect_uri": "javascript:alert(1)"}, "invalid-redirect-uri"),
])
async def test_the_simulator_refuses_a_bad_authorisation_link(
        sim: AlipaySimulator, change: dict[str, str], problem: str) -> None:
    query = {"app_id": APP_ID, "scope": "auth_base", "redirect_uri": RETURN, "state": "s",
             **change}
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(sim.base_url + "/oauth2/publicAppAuthorize.htm",
                                   params=query)
    assert answer.status_code == 400 and problem in answer.text


async def test_the_code_identifies_the_payer_who_can_then_pay_by_jsapi(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    sim.control("oauth", user_id=PAYER, id_type="both")
    payer = await adapter.channel_user(params, await authorised_code(adapter, sim, params))
    assert payer == PAYER
    sent = sim.gateway.requests[-1]
    assert (sent["method"], sent["grant_type"]) == ("alipay.system.oauth.token",
                                                    "authorization_code")
    assert "biz_content" not in sent
    pay_order = order("ALI_JSAPI", extra=f'{{"buyerUserId":"{payer}"}}')
    result = await adapter.pay(params, pay_order, "")
    assert result.state is ChannelState.WAITING
    assert sim.trade(pay_order.pay_order_id)["buyer_id"] == PAYER


async def test_an_openid_app_gets_the_open_id(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    sim.control("oauth", user_id=PAYER, id_type="open_id")
    try:
        payer = await adapter.channel_user(params, await authorised_code(adapter, sim, params))
    finally:
        sim.control("oauth", id_type="both")
    assert payer and not payer.startswith("2088")
    pay_order = order("ALI_JSAPI", extra=f'{{"buyerUserId":"{payer}"}}')
    await adapter.pay(params, pay_order, "")
    assert sim.trade(pay_order.pay_order_id)["buyer_open_id"] == payer


async def test_an_isv_sends_the_sub_merchants_app_auth_token(
        adapter: AlipayAdapter, sim: AlipaySimulator) -> None:
    params = sim.adapter_params(isv=True)
    payer = await adapter.channel_user(params, await authorised_code(adapter, sim, params))
    assert payer.startswith("2088")
    assert sim.gateway.requests[-1]["app_auth_token"] == sim.app_auth_token


async def test_a_code_works_only_once(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    code = await authorised_code(adapter, sim, params)
    await adapter.channel_user(params, code)
    with pytest.raises(InvalidArgument) as refused:
        await adapter.channel_user(params, code)
    assert refused.value.field == "code"
    assert "isv.code-invalid" in refused.value.message
    assert "授权码code无效" in refused.value.message


@pytest.mark.parametrize("code", ["not-a-code", "0123456789abcdef0123456789abcdef"])
async def test_a_wrong_code_is_refused_readably(
        adapter: AlipayAdapter, params: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await adapter.channel_user(params, code)
    assert refused.value.field == "code"
    assert "isv.code-invalid" in refused.value.message


async def test_an_empty_code_is_refused_without_a_call(
        adapter: AlipayAdapter, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await adapter.channel_user(params, "  ")
    assert refused.value.field == "code"


async def test_a_code_expires_after_five_minutes(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    code = await authorised_code(adapter, sim, params)
    sim.advance(301)
    with pytest.raises(InvalidArgument) as refused:
        await adapter.channel_user(params, code)
    assert "isv.code-invalid" in refused.value.message


@pytest.mark.parametrize(("fault", "err_code"), [
    ({"kind": "tamper"}, "CHANNEL_SIGN_INVALID"),
    ({"kind": "wrongkey"}, "CHANNEL_SIGN_INVALID"),
    ({"kind": "unsigned"}, "CHANNEL_ANSWER_UNSIGNED"),
    ({"kind": "http", "status": 502}, "CHANNEL_HTTP_502"),
    ({"kind": "code20000"}, "ACQ.SYSTEM_ERROR"),
    ({"kind": "drop"}, "CHANNEL_CONNECTION_BROKEN"),
])
async def test_an_untrusted_or_missing_answer_names_nobody(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any],
        fault: dict[str, Any], err_code: str) -> None:
    code = await authorised_code(adapter, sim, params)
    sim.control("fault", method="alipay.system.oauth.token", **fault)
    with pytest.raises(DomainError) as refused:
        await adapter.channel_user(params, code)
    assert not isinstance(refused.value, InvalidArgument)
    assert refused.value.reason == "CHANNEL_UNAVAILABLE"
    assert err_code in refused.value.message


async def test_an_unreachable_gateway_is_unavailable(
        adapter: AlipayAdapter, params: dict[str, Any]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DomainError) as refused:
        await adapter.channel_user({**params, "apiBase": f"http://127.0.0.1:{port}/gateway.do"},
                                   "0123456789abcdef")
    assert refused.value.reason == "CHANNEL_UNAVAILABLE"
