"""Identifying the payer inside WeChat: the adapter's web OAuth against the simulator's.

The cashier sends the payer to ``user_auth_url``; WeChat (here the simulator) comes back to the
cashier with a code; ``channel_user`` turns the code into the openid a WX_JSAPI order needs.
"""

from __future__ import annotations

import json
import secrets
import socket
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx
import pytest

from paymesh.services.channel.adapters.base import ChannelState as S
from paymesh.services.channel.adapters.base import PayerIdentification
from paymesh.services.channel.adapters.wxpay import WxpayAdapter
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.simulators.wxpay import WxpaySimulator

from .conftest import order

BACK = "https://pay.example.com/cashier/tok_Ab-9/return?way=WX_JSAPI"


def new_openid() -> str:
    return "oTest" + secrets.token_hex(8)


async def consent(http: httpx.AsyncClient, auth_url: str, openid: str = "") -> dict[str, str]:
    """What the WeChat app does: open the URL (no fragment reaches a server), follow consent.

    Returns the query the payer's browser comes back to the cashier with.
    """
    url = auth_url.partition("#")[0] + ("&" + urlencode({"sim_openid": openid}) if openid else "")
    response = await http.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(BACK + "&")
    return dict(parse_qsl(urlsplit(location).query))


def test_the_adapter_identifies_payers() -> None:
    assert isinstance(WxpayAdapter(httpx.AsyncClient()), PayerIdentification)


async def test_the_authorize_url_is_exactly_wechats(adapter: WxpayAdapter,
                                                    sim: WxpaySimulator) -> None:
    params = sim.adapter_params()
    del params["oauthBase"]
    url = await adapter.user_auth_url(params, BACK, "P1797000000000000001")
    assert url == ("https://open.weixin.qq.com/connect/oauth2/authorize"
                   f"?appid={sim.keys.app_id}"
                   "&redirect_uri=https%3A%2F%2Fpay.example.com%2Fcashier%2Ftok_Ab-9%2Freturn"
                   "%3Fway%3DWX_JSAPI"
                   "&response_type=code&scope=snsapi_base&state=P1797000000000000001"
                   "#wechat_redirect")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https", "open.weixin.qq.com", "/connect/oauth2/authorize", "wechat_redirect")
    # WeChat documents the order of the parameters; some clients fail when it differs.
    assert parse_qsl(parts.query) == [
        ("appid", sim.keys.app_id), ("redirect_uri", BACK), ("response_type", "code"),
        ("scope", "snsapi_base"), ("state", "P1797000000000000001")]


async def test_oauth_base_points_the_url_at_the_simulator(adapter: WxpayAdapter,
                                                          sim: WxpaySimulator) -> None:
    url = await adapter.user_auth_url(sim.adapter_params(), BACK, "S1")
    assert url.startswith(f"{sim.base_url}/connect/oauth2/authorize?appid={sim.keys.app_id}&")


async def test_an_isv_identifies_payers_under_its_own_appid(adapter: WxpayAdapter,
                                                            sim: WxpaySimulator) -> None:
    """The cashier's order carries the openid as ``sp_openid``, which must match ``sp_appid``."""
    url = await adapter.user_auth_url(sim.adapter_params(isv=True), BACK, "S1")
    assert parse_qs(urlsplit(url).query)["appid"] == [sim.keys.app_id]


@pytest.mark.parametrize(("redirect", "state", "field"), [
    ("/cashier/return", "S1", "redirect_url"),
    (BACK, "P-1", "state"),
    (BACK, "S" * 129, "state"),
])
async def test_bad_redirects_and_states_are_refused(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                    redirect: str, state: str,
                                                    field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await adapter.user_auth_url(sim.adapter_params(), redirect, state)
    assert caught.value.field == field


async def test_the_simulator_redirects_back_with_a_code_and_the_state(
        adapter: WxpayAdapter, sim: WxpaySimulator, http: httpx.AsyncClient) -> None:
    url = await adapter.user_auth_url(sim.adapter_params(), BACK, "P1797000000000000002")
    back = await consent(http, url)
    assert back["way"] == "WX_JSAPI" and back["state"] == "P1797000000000000002"
    assert len(back["code"]) >= 16


async def test_channel_user_returns_the_payers_openid(adapter: WxpayAdapter,
                                                      sim: WxpaySimulator,
                                                      params: dict[str, Any],
                                                      http: httpx.AsyncClient) -> None:
    openid = new_openid()
    back = await consent(http, await adapter.user_auth_url(params, BACK, "S1"), openid)
    assert await adapter.channel_user(params, back["code"]) == openid


async def test_one_payer_has_one_openid_per_official_account(
        adapter: WxpayAdapter, sim: WxpaySimulator, http: httpx.AsyncClient) -> None:
    params = sim.adapter_params()
    first = await consent(http, await adapter.user_auth_url(params, BACK, "S1"))
    second = await consent(http, await adapter.user_auth_url(params, BACK, "S2"))
    openid = await adapter.channel_user(params, first["code"])
    assert openid.startswith("o") and len(openid) == 28
    assert await adapter.channel_user(params, second["code"]) == openid


async def test_a_code_works_once(adapter: WxpayAdapter, sim: WxpaySimulator,
                                 http: httpx.AsyncClient) -> None:
    params = sim.adapter_params()
    back = await consent(http, await adapter.user_auth_url(params, BACK, "S1"))
    await adapter.channel_user(params, back["code"])
    with pytest.raises(InvalidArgument) as caught:
        await adapter.channel_user(params, back["code"])
    assert caught.value.field == "code"
    assert "already been used" in caught.value.message and "40163" in caught.value.message


async def test_a_wrong_code_is_refused_readably(adapter: WxpayAdapter,
                                                sim: WxpaySimulator) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await adapter.channel_user(sim.adapter_params(), "061Abc0w3Qz1aD2wBr2w3Gg0nZ")
    assert caught.value.field == "code"
    assert caught.value.message.startswith("the code is not valid for this official account")
    assert "40029" in caught.value.message


async def test_a_code_expires_after_five_minutes(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                 http: httpx.AsyncClient) -> None:
    params = sim.adapter_params()
    back = await consent(http, await adapter.user_auth_url(params, BACK, "S1"))
    sim.clock_offset += 301
    try:
        with pytest.raises(InvalidArgument) as caught:
            await adapter.channel_user(params, back["code"])
    finally:
        sim.clock_offset -= 301
    assert "expired" in caught.value.message and "42003" in caught.value.message


@pytest.mark.parametrize("code", ["", "  ", "a b"])
async def test_a_malformed_code_is_refused_without_asking(adapter: WxpayAdapter,
                                                          code: str) -> None:
    params = {"appId": "wx1", "appSecret": "s", "oauthApiBase": "http://127.0.0.1:9"}
    with pytest.raises(InvalidArgument) as caught:
        await adapter.channel_user(params, code)
    assert caught.value.field == "code"


async def test_a_missing_app_secret_is_a_configuration_error(adapter: WxpayAdapter,
                                                             sim: WxpaySimulator) -> None:
    params = sim.adapter_params()
    del params["appSecret"]
    for call in (adapter.user_auth_url(params, BACK, "S1"), adapter.channel_user(params, "c")):
        with pytest.raises(DomainError) as caught:
            await call
        assert caught.value.reason == "CHANNEL_CONFIG_INVALID"
        assert "appSecret" in caught.value.message


async def test_a_wrong_app_secret_is_a_configuration_error(
        adapter: WxpayAdapter, sim: WxpaySimulator, http: httpx.AsyncClient) -> None:
    params = sim.adapter_params()
    back = await consent(http, await adapter.user_auth_url(params, BACK, "S1"))
    with pytest.raises(DomainError) as caught:
        await adapter.channel_user({**params, "appSecret": "0" * 32}, back["code"])
    assert caught.value.reason == "CHANNEL_CONFIG_INVALID"
    assert "40125" in caught.value.message


async def test_no_answer_is_channel_unavailable_and_hides_the_secret(
        adapter: WxpayAdapter, sim: WxpaySimulator) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    params = {**sim.adapter_params(), "oauthApiBase": f"http://127.0.0.1:{port}"}
    with pytest.raises(DomainError) as caught:
        await adapter.channel_user(params, "061Abc0w3Qz1aD2wBr2w3Gg0nZ")
    assert caught.value.reason == "CHANNEL_UNAVAILABLE"
    assert sim.keys.app_secret not in str(caught.value)


@pytest.mark.parametrize("kind", ["drop", "http500"])
async def test_a_broken_answer_is_channel_unavailable(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                      http: httpx.AsyncClient,
                                                      kind: str) -> None:
    params = sim.adapter_params()
    back = await consent(http, await adapter.user_auth_url(params, BACK, "S1"))
    sim.inject(kind, path="/sns/oauth2/access_token")
    with pytest.raises(DomainError) as caught:
        await adapter.channel_user(params, back["code"])
    assert caught.value.reason == "CHANNEL_UNAVAILABLE"


@pytest.mark.parametrize("isv", [False, True], ids=["direct", "isv"])
async def test_the_openid_pays_a_jsapi_order(adapter: WxpayAdapter, sim: WxpaySimulator,
                                             http: httpx.AsyncClient, notify: str,
                                             isv: bool) -> None:
    """The whole cashier path: OAuth, then an order with ``channelExtra`` ``{"openid"}``."""
    params = sim.adapter_params(isv=isv)
    back = await consent(http, await adapter.user_auth_url(params, BACK, "S1"))
    openid = await adapter.channel_user(params, back["code"])
    pay = order("WX_JSAPI", extra=json.dumps({"openid": openid}))
    result = await adapter.pay(params, pay, notify)
    assert result.state == S.WAITING, result.err_msg
    with sim.lock:
        assert sim.book.find_order(pay.pay_order_id).payer == {
            ("sp_openid" if isv else "openid"): openid}


# The simulator on its own, driven by hand-written requests.


def authorize(sim: WxpaySimulator, **changes: str) -> str:
    query = {"appid": sim.keys.app_id, "redirect_uri": BACK, "response_type": "code",
             "scope": "snsapi_base", "state": "S1", **changes}
    return f"{sim.base_url}/connect/oauth2/authorize?{urlencode(query)}"


async def exchange(http: httpx.AsyncClient, sim: WxpaySimulator, **query: str) -> Any:
    response = await http.get(f"{sim.base_url}/sns/oauth2/access_token", params=query)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("changes", "errcode"), [
    ({"appid": "wx0000000000000000"}, 40013),
    ({"appid": ""}, 10012),
    ({"scope": "snsapi_login"}, 10005),
    ({"scope": ""}, 10010),
    ({"redirect_uri": ""}, 10011),
    ({"response_type": "token"}, 10008),
])
async def test_the_simulator_refuses_bad_authorize_requests(
        sim: WxpaySimulator, http: httpx.AsyncClient, changes: dict[str, str],
        errcode: int) -> None:
    response = await http.get(authorize(sim, **changes), follow_redirects=False)
    assert response.status_code == 400
    assert response.json()["errcode"] == errcode


async def test_the_simulator_answers_a_token_like_wechat(sim: WxpaySimulator,
                                                         http: httpx.AsyncClient) -> None:
    location = (await http.get(authorize(sim, sim_openid="oSimA1"))).headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    right = {"appid": sim.keys.app_id, "secret": sim.keys.app_secret, "code": code,
             "grant_type": "authorization_code"}
    assert (await exchange(http, sim, **{**right, "secret": "x"}))["errcode"] == 40125
    assert (await exchange(http, sim, **{**right, "appid": sim.keys.sub_app_id,
                                         "secret": sim.keys.sub_app_secret}))["errcode"] == 40029
    answer = await exchange(http, sim, **right)
    assert answer["openid"] == "oSimA1" and answer["scope"] == "snsapi_base"
    assert answer["expires_in"] == 7200 and answer["access_token"]
    again = await exchange(http, sim, **right)
    assert again["errcode"] == 40163 and again["errmsg"].startswith("code been used")


async def test_the_simulator_refuses_an_openid_of_another_appid(
        adapter: WxpayAdapter, sim: WxpaySimulator, http: httpx.AsyncClient,
        notify: str) -> None:
    """An openid from the sub-merchant's account is a ``sub_openid``: as ``sp_openid`` WeChat
    refuses it, which is why the adapter identifies payers under the ISV's own appid."""
    location = (await http.get(authorize(sim, appid=sim.keys.sub_app_id))).headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    openid = (await exchange(http, sim, appid=sim.keys.sub_app_id,
                             secret=sim.keys.sub_app_secret, code=code,
                             grant_type="authorization_code"))["openid"]
    params = sim.adapter_params(isv=True)
    refused = await adapter.pay(params, order("WX_JSAPI", extra=json.dumps({"openid": openid})),
                                notify)
    assert (refused.state, refused.err_code) == (S.CONFIRM_FAIL, "PARAM_ERROR")
    assert "sp_openid" in refused.err_msg
    as_sub = json.dumps({"openid": openid, "isSubOpenId": 1})
    assert (await adapter.pay(params, order("WX_JSAPI", extra=as_sub), notify)).state == S.WAITING
