"""One signed request to the UnionPay gateway and its verified answer, or why there is none."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.channel.adapters.ysfpay.acp import (
    AcpVerifyError,
    parse_answer,
    sign_fields,
    utc_now,
    verify_fields,
)
from paymesh.services.channel.adapters.ysfpay.params import YsfpayParams

BACK_TRANS = "/gateway/api/backTransReq.do"
QUERY_TRANS = "/gateway/api/queryTrans.do"
VERSION = "5.1.0"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"
# Fields whose echo in an answer must equal what was sent, or the answer is about something else.
_ECHOED = ("merId", "orderId", "txnType", "txnSubType")


@dataclass(frozen=True)
class Answer:
    """A verified answer's fields, or ``failure`` (UNKNOWN or SYS_ERROR) with its reason."""

    fields: dict[str, str] = field(default_factory=dict)
    failure: ChannelState | None = None
    reason: str = ""

    @property
    def resp_code(self) -> str:
        """The answer's respCode ('' when there is no verified answer)."""
        return self.fields.get("respCode", "")

    @property
    def resp_msg(self) -> str:
        """The answer's respMsg, for err_msg."""
        return self.fields.get("respMsg", "")


class AcpGateway:
    """Signs ACP requests with the merchant key, posts them and verifies what comes back."""

    def __init__(self, http: httpx.AsyncClient, clock: Callable[[], float]) -> None:
        self._http = http
        self._clock = clock

    async def send(self, params: YsfpayParams, path: str, request: Mapping[str, str], *,
                   url: str = "") -> Answer:
        """Posts ``request`` (plus the common and signing fields) to ``apiBase + path``, or to
        ``url`` when given (the file transfer address is a host of its own)."""
        fields = {
            "version": VERSION, "encoding": "UTF-8", "signMethod": "01",
            "certId": params.cert_id, "accessType": "1", "acqInsCode": params.acq_org_code,
            "merId": params.mer_id, "reserved": f"{{serProvId={params.ser_prov_id}}}",
            **request,
        }
        fields["signature"] = sign_fields(fields, params.private_key)
        try:
            response = await self._http.post(url or params.api_base + path,
                                              content=urlencode(fields),
                                              headers={"content-type": FORM})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            return Answer(failure=ChannelState.SYS_ERROR,
                          reason=f"could not reach UnionPay ({type(error).__name__})")
        except httpx.TransportError as error:
            return Answer(failure=ChannelState.UNKNOWN,
                          reason=f"no answer from UnionPay ({type(error).__name__}); the request "
                                 "may have arrived")
        if response.status_code != 200:
            return Answer(failure=ChannelState.UNKNOWN,
                          reason=f"UnionPay answered HTTP {response.status_code}")
        try:
            answer = parse_answer(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            return Answer(failure=ChannelState.UNKNOWN,
                          reason=f"UnionPay's answer is malformed: {error}")
        try:
            verify_fields(answer, params.anchors, utc_now(self._clock()))
        except AcpVerifyError as error:
            return Answer(failure=ChannelState.UNKNOWN,
                          reason=f"UnionPay's answer does not verify: {error}")
        for name in _ECHOED:
            if name in answer and answer[name] != fields.get(name):
                return Answer(failure=ChannelState.UNKNOWN,
                              reason=f"the answer's {name} is not the one requested")
        if not answer.get("respCode"):
            return Answer(failure=ChannelState.UNKNOWN, reason="the answer has no respCode")
        return Answer(fields=answer)
